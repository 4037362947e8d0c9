// Test harness for the matchmaker service: a ManualClock and in-memory room/seat fakes that record calls.
import { NetloomError } from '../../src/codec/errors.js';
import type { Identity } from '../../src/server/identity.js';
import { Matchmaker, type MatchmakerOptions, type TicketStatus } from '../../src/server/matchmaker/index.js';
import { Metrics, silentLogger } from '../../src/server/metrics.js';
import type { JoinTicket } from '../../src/server/options.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { MatchTicketRequest } from '../../src/shared/matchmaking.js';

export interface Harness {
  clock: ManualClock;
  mm: Matchmaker;
  metrics: Metrics;
  /** Rooms created, in order, with their create options. */
  rooms: Array<{ id: string; type: string; options: unknown }>;
  /** Seats reserved, in order. */
  seats: Array<{ roomId: string; identity: Identity | undefined; joinData: unknown }>;
  /** Moves the clock and waits for the matches it formed to be delivered. */
  advance(ms: number): Promise<void>;
  /** Makes the next room creation wait for the returned release function (or fail with `fail`). */
  holdNextRoom(): { release(): void; fail(err: Error): void };
  /** Makes every room creation fail with this error. */
  failRooms(err: Error | null): void;
}

/** Room types and their capacity known to the fake server. */
export const CAPACITY: Record<string, number> = { duel: 8, arena: 16, tiny: 2 };

export function harness(options: MatchmakerOptions = {}): Harness {
  const clock = new ManualClock();
  const metrics = new Metrics();
  const rooms: Harness['rooms'] = [];
  const seats: Harness['seats'] = [];
  let hold: Promise<void> | null = null;
  let failure: Error | null = null;
  const mm = new Matchmaker(
    {
      clock,
      log: silentLogger,
      metrics,
      capacity: (type) => (Object.hasOwn(CAPACITY, type) ? CAPACITY[type] : undefined),
      createRoom: async (type, roomOptions) => {
        if (hold) {
          const wait = hold;
          hold = null;
          await wait;
        }
        if (failure) throw failure;
        const id = `room${rooms.length + 1}`;
        rooms.push({ id, type, options: roomOptions });
        return { id };
      },
      reserveSeat: async (roomId, identity, joinData): Promise<JoinTicket> => {
        seats.push({ roomId, identity, joinData });
        return {
          roomId,
          roomType: rooms.find((r) => r.id === roomId)?.type ?? '?',
          seat: `seat${seats.length}`,
          expiresAt: 0,
          transports: { websocket: '/netloom/ws' },
        };
      },
    },
    { intervalMs: 100, ...options },
  );
  return {
    clock,
    mm,
    metrics,
    rooms,
    seats,
    async advance(ms) {
      clock.advance(ms);
      await mm.settled();
    },
    holdNextRoom() {
      let release!: () => void;
      let fail!: (err: Error) => void;
      hold = new Promise<void>((resolve, reject) => {
        release = resolve;
        fail = reject;
      });
      return { release, fail };
    },
    failRooms(err) {
      failure = err;
    },
  };
}

/** A solo ticket request with sensible defaults. */
export function ticket(overrides: Partial<MatchTicketRequest> = {}): MatchTicketRequest {
  return { roomType: 'duel', minPlayers: 2, maxPlayers: 2, ...overrides };
}

export function user(userId: string): Identity {
  return { userId, data: { name: userId } };
}

/** The room id a matched status names (throws on anything else, so tests read plainly). */
export function roomOf(status: TicketStatus): string {
  if (status.status !== 'matched') throw new Error(`expected a match, got ${JSON.stringify(status)}`);
  return status.roomId;
}

/** The error code of a failed status, or the status name. */
export function outcome(status: TicketStatus): string {
  return status.status === 'failed' ? status.code : status.status;
}

/** The NetloomError code a promise rejects with, or 'ok'. */
export async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof NetloomError) return err.code;
    throw err;
  }
  return 'ok';
}
