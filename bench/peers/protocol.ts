// The protocol of the peers benchmark: a 20 Hz position update and a numbered reliable stream between members.
import { defineProtocol, p } from '../../src/codec/index.js';

export const peersBenchProtocol = defineProtocol({
  client: { hello: p.object({}) },
  server: { note: p.object({ text: p.string() }) },
  peer: {
    pos: p.object({ x: p.float32(), y: p.float32(), seq: p.varuint() }),
    num: p.object({ n: p.varuint() }),
  },
});

export type PeersBenchProtocol = typeof peersBenchProtocol;

/** Room types of the benchmark server: `mesh` links every pair directly, `relay` keeps every pair on the server. */
export const MESH_ROOM = 'mesh';
export const RELAY_ROOM = 'relay';

/** Messages between the benchmark and its server process (over the fork IPC channel). */
export type ServerReply =
  | { event: 'ready'; port: number }
  | { event: 'metrics'; id: number; metrics: Record<string, number> };
export type ServerCommand = { cmd: 'metrics'; id: number } | { cmd: 'stop' };
