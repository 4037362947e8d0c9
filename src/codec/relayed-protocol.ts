// The wire protocol of relayed matches (rooms with no server logic), shared by the server room type and the client Match.
import { p } from './packcat.js';
import { defineProtocol } from './protocol.js';

/**
 * Client → server `data { op, data, to }`: relay `data` under the game's `op` code to the listed
 * client ids, or to every other member when `to` is empty. Server → client `data { from, op, data }`.
 * The frame's reliable flag is kept end to end.
 */
export const relayedProtocol = defineProtocol({
  client: {
    data: { op: 1, schema: p.object({ op: p.varuint(), data: p.uint8Array(), to: p.list(p.string()) }) },
  },
  server: {
    data: { op: 1, schema: p.object({ from: p.string(), op: p.varuint(), data: p.uint8Array() }) },
  },
});

export type RelayedProtocol = typeof relayedProtocol;
