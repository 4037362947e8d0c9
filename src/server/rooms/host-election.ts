// Host election for relayed matches: picks the next host deterministically, by join order or by measured RTT.
import type { RoomClient } from './define.js';

/** How a relayed match picks a new host: the earliest-joined member, or the one with the lowest RTT. */
export type HostMode = 'earliest' | 'rtt';

/** One member as the election sees it. */
export interface HostCandidate {
  readonly clientId: string;
  /** False while its link is gone and its reconnection window runs. */
  readonly connected: boolean;
  /** Smoothed round-trip time in ms; undefined (or not above 0) when not measured. */
  readonly rtt: number | undefined;
}

/**
 * Picks the host among `candidates`, given in join order. Connected members are preferred over
 * dropped ones (a dropped member is chosen only when nobody else is left, since it may come back).
 * 'earliest' takes the first; 'rtt' takes the lowest measured RTT, members with no measurement
 * ranking after measured ones, ties broken by join order. Null when there is no candidate.
 */
export function electHost(candidates: readonly HostCandidate[], mode: HostMode): string | null {
  const connected = candidates.filter((c) => c.connected);
  const pool = connected.length > 0 ? connected : candidates;
  if (pool.length === 0) return null;
  if (mode === 'earliest') return pool[0].clientId;
  let best = pool[0];
  for (const c of pool) if (rank(c.rtt) < rank(best.rtt)) best = c; // strict: the earlier wins a tie
  return best.clientId;
}

function rank(rtt: number | undefined): number {
  return rtt !== undefined && Number.isFinite(rtt) && rtt > 0 ? rtt : Number.POSITIVE_INFINITY;
}

/**
 * What a room offers for 'rtt' elections: the smoothed RTT of a member's session (`room.rttOf`;
 * a runner whose rooms cannot read it gives no measurement, and elections fall back to join order).
 */
export interface RttSource {
  rttOf(client: RoomClient<unknown>): number | undefined;
}

/** The room's RTT reader when it has one. */
export function rttSourceOf(room: object): RttSource | null {
  const rttOf = (room as Partial<RttSource>).rttOf;
  return typeof rttOf === 'function' ? { rttOf: (client) => rttOf.call(room, client) } : null;
}
