// Seating a formed match: create its room, reserve each player's seat, and build each ticket's matched status.
import type { Identity } from '../identity.js';
import type { JoinTicket } from '../options.js';
import type { NormalizedTicket } from './ticket.js';
import type { MatchInfo, MatchmakerDeps, MatchmakerOptions, TicketStatus } from './types.js';

/** What delivery needs to know of one ticket of a match. */
export interface MatchedTicket {
  id: string;
  owner: string;
  /** The submitter's identity, when the ticket was filed authenticated. */
  identity: Identity | undefined;
  /** Users the ticket seats. */
  users: string[];
  ticket: NormalizedTicket;
}

/** The match as the room's `roomOptions` sees it. */
export function matchInfo(tickets: MatchedTicket[]): MatchInfo {
  return {
    roomType: tickets[0].ticket.roomType,
    players: tickets.reduce((n, t) => n + t.ticket.players, 0),
    tickets: tickets.map((t) => ({ ticketId: t.id, owner: t.owner, users: t.users })),
  };
}

/**
 * Creates the match's room and reserves every player's seat; resolves with each ticket's matched status
 * (in the order given). Rejects with the first error of the room or a seat.
 */
export async function seatMatch(
  deps: Pick<MatchmakerDeps, 'createRoom' | 'reserveSeat'>,
  options: Pick<MatchmakerOptions, 'roomOptions' | 'trustPartyIds'>,
  tickets: MatchedTicket[],
): Promise<TicketStatus[]> {
  const info = matchInfo(tickets);
  const room = await deps.createRoom(info.roomType, options.roomOptions?.(info));
  return Promise.all(
    tickets.map(async (t): Promise<TicketStatus> => {
      const members = seatMembers(t, options.trustPartyIds === true);
      const seats = await Promise.all(members.map((m) => deps.reserveSeat(room.id, m.identity, m.joinData)));
      const byKey: Record<string, JoinTicket> = {};
      members.forEach((m, i) => {
        byKey[m.key] = seats[i];
      });
      return { status: 'matched', roomId: room.id, seats: byKey, self: selfKey(t) };
    }),
  );
}

/** Each seat a ticket takes: its key in `seats`, the identity it carries and the join data. */
function seatMembers(
  t: MatchedTicket,
  trustPartyIds: boolean,
): Array<{ key: string; identity: Identity | undefined; joinData: unknown }> {
  const { party, joinData } = t.ticket;
  if (!party) return [{ key: 'self', identity: t.identity, joinData }];
  const self = selfKey(t);
  return party.map((userId) => ({
    key: userId,
    joinData: userId === self ? joinData : undefined,
    identity: userId === t.identity?.userId ? t.identity : trustPartyIds ? { userId, data: {} } : undefined,
  }));
}

/** Key in `seats` of the submitter's own seat. */
function selfKey(t: MatchedTicket): string {
  const { party } = t.ticket;
  if (!party) return 'self';
  return t.identity?.userId ?? party[0];
}
