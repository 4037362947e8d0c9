// The client's side of matchmaking: file a ticket, long-poll until it is matched, cancel it when aborted.
import { NetloomError } from '../codec/errors.js';
import type { MatchTicketRequest } from '../shared/matchmaking.js';
import type { JoinTicket } from './client.js';
import { type ControlRequest, type ControlRequestExtra, controlRequest } from './http.js';

export interface MatchmakeOptions {
  /** Aborting cancels the ticket; the promise then rejects with `ticket_cancelled`. */
  signal?: AbortSignal;
  /** Longest wait of one poll request (default 20,000 ms; the server caps it). */
  pollWaitMs?: number;
}

/** A match: the room, your seat, and the seats of your party's other members (by user id). */
export interface MatchResult {
  roomId: string;
  /** Your seat: pass it to `client.join(seat, { protocol })`. */
  seat: JoinTicket;
  /** Seats of the other members of your party, by user id, to hand to them (empty for a solo ticket). */
  party: Record<string, JoinTicket>;
}

/** How the client reaches the control plane. */
export interface MatchmakerHttp extends ControlRequest {
  prefix: string;
}

/** The header naming an anonymous player's owner id (the server hands it out with the ticket). */
const OWNER_HEADER = 'x-netloom-owner';

type Matched = { status: 'matched'; roomId: string; seats: Record<string, JoinTicket>; self: string };
type PollReply = { status: 'pending' } | Matched;

function cancelled(): NetloomError {
  return new NetloomError('ticket_cancelled', 'matchmaking was aborted');
}

async function send<T>(
  http: MatchmakerHttp,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  extra: ControlRequestExtra = {},
): Promise<T> {
  try {
    return await controlRequest<T>(http, method, path, extra);
  } catch (err) {
    if (extra.signal?.aborted) throw cancelled();
    throw err;
  }
}

/**
 * Files a matchmaking ticket and waits (long-polling) until it is matched. Rejects with the ticket's
 * error code (`ticket_timeout`, `ticket_invalid`, `ticket_limit`, ...), or `ticket_cancelled` after
 * `signal` aborts (the ticket is cancelled on the server too).
 */
export async function matchmake(
  http: MatchmakerHttp,
  request: MatchTicketRequest,
  options: MatchmakeOptions = {},
): Promise<MatchResult> {
  const { signal } = options;
  if (signal?.aborted) throw cancelled();
  const base = `${http.prefix}/matchmaker/tickets`;
  // Filing is not aborted midway (its id would be lost); an abort during it cancels right after.
  const filed = await send<{ ticketId: string; owner: string }>(http, 'POST', base, { body: request });
  const path = `${base}/${encodeURIComponent(filed.ticketId)}`;
  const headers = { [OWNER_HEADER]: filed.owner };
  const waitMs = Math.max(0, Math.floor(options.pollWaitMs ?? 20_000));
  try {
    for (;;) {
      if (signal?.aborted) throw cancelled();
      const reply = await send<PollReply>(http, 'GET', `${path}?waitMs=${waitMs}`, { headers, signal });
      if (reply.status !== 'matched') continue;
      const seat = reply.seats[reply.self];
      if (!seat) throw new NetloomError('internal_error', 'the match has no seat for this ticket');
      const party: Record<string, JoinTicket> = {};
      for (const [key, ticket] of Object.entries(reply.seats)) if (key !== reply.self) party[key] = ticket;
      return { roomId: reply.roomId, seat, party };
    }
  } catch (err) {
    if (signal?.aborted || (err instanceof NetloomError && err.code === 'link_error')) {
      await send(http, 'DELETE', path, { headers }).catch(() => undefined);
    }
    throw err;
  }
}
