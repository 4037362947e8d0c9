// A room's reserved seats (onAuth passed, token not yet redeemed): each lapses when its seat token expires.
import type { Clock } from '../../shared/clock.js';
import type { PendingSeat } from './room-members.js';

/** The pending seats of one room, by seat id; `lapsed` runs after a seat expired unredeemed. */
export class PendingSeats {
  private readonly seats = new Map<string, PendingSeat>();

  constructor(
    private readonly clock: Clock,
    /** The wall clock the seats' `expiresAt` is on. */
    private readonly now: () => number,
    private readonly lapsed: () => void,
  ) {}

  get size(): number {
    return this.seats.size;
  }

  /** Holds `seatId` until just after `seat.expiresAt` (wall-clock ms, as in the seat token). */
  reserve(seatId: string, seat: Omit<PendingSeat, 'timer'>): void {
    const timer = this.clock.setTimeout(
      () => this.expire(seatId),
      Math.max(0, seat.expiresAt - this.now()) + 1,
    );
    this.seats.set(seatId, { ...seat, timer });
  }

  /** Takes the seat for its client (it no longer expires); undefined when there is none. */
  take(seatId: string): PendingSeat | undefined {
    const seat = this.seats.get(seatId);
    if (!seat) return undefined;
    this.seats.delete(seatId);
    this.clock.clearTimeout(seat.timer);
    return seat;
  }

  /** Forgets every seat (the room is going), without `lapsed`. */
  clear(): void {
    for (const seat of this.seats.values()) this.clock.clearTimeout(seat.timer);
    this.seats.clear();
  }

  private expire(seatId: string): void {
    if (this.seats.delete(seatId)) this.lapsed();
  }
}
