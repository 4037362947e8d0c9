// The wire protocol of relayed matches (rooms with no server logic), shared by the server room type and the client Match.
import { p } from './packcat.js';
import { defineProtocol } from './protocol.js';

/**
 * Client → server `data { op, data, to }`: relay `data` under the game's `op` code to the listed
 * client ids, or to every other member when `to` is empty. Server → client `data { from, op, data }`.
 * The frame's reliable flag is kept end to end.
 *
 * The match's host is not a message of this protocol (adding one would change `hash`, and every
 * client built before it would be refused with `protocol_mismatch`): the server keeps it in the
 * room's key-value state under `RELAYED_HOST_KEY` (see `RelayedHostRecord`), which old clients ignore.
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

/** The room-state key under which a relayed match publishes its host. Only the server writes it. */
export const RELAYED_HOST_KEY = 'netloom.host';

/**
 * The host of a relayed match, as the JSON value of `RELAYED_HOST_KEY`:
 * `{"clientId":"…","userId":"…","epoch":n}` (`userId` absent for anonymous members). `epoch` starts
 * at 1 with the first host and grows by one with each new host, so clients can order changes.
 */
export interface RelayedHostRecord {
  /** The host's client id within the match. */
  clientId: string;
  /** The host's authenticated user id; undefined for anonymous play. */
  userId: string | undefined;
  /** 1 for the first host, then one more per change of host. */
  epoch: number;
}

/** Builds the JSON value stored under `RELAYED_HOST_KEY` (no `userId` key when it is undefined). */
export function encodeRelayedHost(host: RelayedHostRecord): Record<string, string | number> {
  return host.userId === undefined
    ? { clientId: host.clientId, epoch: host.epoch }
    : { clientId: host.clientId, userId: host.userId, epoch: host.epoch };
}

/** Reads a `RELAYED_HOST_KEY` value; null when it is not a well-formed host record. */
export function decodeRelayedHost(value: unknown): RelayedHostRecord | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { clientId, userId, epoch } = value as Record<string, unknown>;
  if (typeof clientId !== 'string' || clientId.length === 0) return null;
  if (userId !== undefined && typeof userId !== 'string') return null;
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1) return null;
  return { clientId, userId, epoch };
}
