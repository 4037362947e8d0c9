// Matchmaking wire types shared by the server's matchmaker and the client: the ticket request and its answers.

/** A numeric range a property must fall in; either bound may be absent (open). */
export interface NumericRange {
  min?: number;
  max?: number;
}

/** What a ticket asks of every other ticket's properties: string equality or a numeric range. */
export type MatchQuery = Record<string, string | NumericRange>;

/** What a player (or a party) asks the matchmaker for. */
export interface MatchTicketRequest {
  /** Room type to play in; the match creates a room of this type. */
  roomType: string;
  /** What this ticket is (e.g. `{ region: 'eu', skill: 1200 }`); other tickets' queries test these. */
  properties?: Record<string, string | number>;
  /** What this ticket wants of every other ticket (e.g. `{ region: 'eu', skill: { min: 1100, max: 1300 } }`). */
  query?: MatchQuery;
  /** Fewest players (not tickets) the match may have. */
  minPlayers: number;
  /** Most players the match may have; at most the room type's `maxClients`. */
  maxPlayers: number;
  /** The match's player count must be a multiple of this (e.g. 2 for two equal teams; default 1). */
  countMultiple?: number;
  /**
   * User ids who must land in the same match; the ticket counts as `party.length` players and its
   * result holds one seat per member. When the server authenticates, the submitter must be a member.
   */
  party?: string[];
  /**
   * Passed to the room's `onAuth` as the submitter's join data (e.g. `{ name }`), as with `joinOrCreate`;
   * party members' seats get none. At most 4 KiB as JSON.
   */
  joinData?: unknown;
}
