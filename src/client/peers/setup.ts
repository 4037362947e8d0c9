// The peer set-up a peer-assisted room sends each member (JSON in a PEER message): its id, its direct peers, the allowed types and the timings; parsed strictly.
import { NetloomError } from '../../codec/errors.js';
import type { IceServer } from '../../signaling/messages.js';

/** What the server tells a member about its peers (docs/PEERS.md). */
export interface PeerSetup {
  /** This member's client id. */
  self: string;
  /** The members to open a direct link with (at most the room's `maxMesh`); every other peer stays on the relay. */
  direct: string[];
  /** Op codes of the peer messages the room allows. */
  types: number[];
  /** Largest payload the relay takes. */
  maxPayloadBytes: number;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  /** ICE servers for direct links, when the room sets its own (otherwise the join ticket's). */
  iceServers?: IceServer[];
}

const MAX_IDS = 1_024;

function invalid(what: string): NetloomError {
  return new NetloomError('payload_invalid', `peer set-up: ${what}`);
}

function count(value: unknown, what: string, max = 2 ** 31): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) throw invalid(what);
  return value;
}

function ids(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_IDS) throw invalid(what);
  for (const id of value)
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) throw invalid(what);
  return value as string[];
}

/** Parses a set-up; throws NetloomError `payload_invalid` for anything but the expected shape. */
export function parsePeerSetup(text: string): PeerSetup {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('not an object');
  const v = value as Record<string, unknown>;
  if (typeof v.self !== 'string' || v.self.length === 0 || v.self.length > 256) throw invalid('self');
  if (!Array.isArray(v.types) || v.types.length > 65_535) throw invalid('types');
  const setup: PeerSetup = {
    self: v.self,
    direct: ids(v.direct, 'direct'),
    types: v.types.map((op) => count(op, 'types', 0xffff)),
    maxPayloadBytes: count(v.maxPayloadBytes, 'maxPayloadBytes'),
    pingIntervalMs: count(v.pingIntervalMs, 'pingIntervalMs'),
    idleTimeoutMs: count(v.idleTimeoutMs, 'idleTimeoutMs'),
    connectTimeoutMs: count(v.connectTimeoutMs, 'connectTimeoutMs'),
  };
  if (v.iceServers !== undefined) {
    if (!Array.isArray(v.iceServers) || v.iceServers.length > 32) throw invalid('iceServers');
    for (const s of v.iceServers as unknown[]) {
      const urls = (s as { urls?: unknown } | null)?.urls;
      const list = typeof urls === 'string' ? [urls] : urls;
      if (!Array.isArray(list) || list.some((u) => typeof u !== 'string')) throw invalid('iceServers');
    }
    setup.iceServers = v.iceServers as IceServer[];
  }
  return setup;
}
