// The read-only debug view the arena client exposes as `window.__demo`, for tests and curious players.

export type DemoStatus = 'joining' | 'matchmaking' | 'connected' | 'reconnecting' | 'left' | 'refused';

export interface RosterEntry {
  id: number;
  name: string;
  online: boolean;
}

export interface DemoDebug {
  /** This player's name (from `?name=` or random). */
  name: string;
  /** `quick`: joinOrCreate into a public arena; `duel`: a two-player arena found by the matchmaker. */
  mode: 'quick' | 'duel';
  status: DemoStatus;
  /** Why the join was refused or the room was left, if it was. */
  error: string | null;
  roomId: string | null;
  /** netloom's client id in the room (string, stable across reconnects). */
  clientId: string | null;
  /** The demo's numeric player id (0 until the first roster arrives). */
  playerId: number;
  transport: string | null;
  /** Every transport the room has been carried by, in order (e.g. websocket, webrtc, websocket, webrtc). */
  transports: string[];
  /**
   * Milliseconds since the page started loading: the join was asked for (the "click"), the join
   * resolved, the first state message arrived, the first upgrade completed.
   */
  timings: {
    started: number | null;
    joined: number | null;
    firstState: number | null;
    upgraded: number | null;
  };
  /** Smoothed round-trip time in ms, from room.stats(). */
  rtt: number | null;
  /** State messages received, the last tick seen and this player's last acked input seq. */
  stateCount: number;
  lastTick: number;
  ack: number;
  inputsSent: number;
  /** Every player's position in the latest state, by player id. */
  positions: Record<number, { x: number; y: number }>;
  roster: RosterEntry[];
  /** Marks this tab sent (they are numbered 1..marksSent). */
  marksSent: number;
  /** For each sender id, every mark number received, in arrival order. */
  marksReceived: Record<number, number[]>;
  /** Lifecycle events seen: 'joined', 'reconnecting', 'reconnected', 'leave:<code>', 'error:<code>'. */
  events: string[];
  reconnects: number;
  left: { code: string; reason: string } | null;
  /** Sends `count` reliable marks; returns the number of the last one. */
  sendMarks(count: number): number;
  /** Steers as if a key were held: direction (dx, dy) for `ms` milliseconds. */
  move(dx: number, dy: number, ms: number): void;
  /** Leaves the room for good. */
  leave(): Promise<void>;
  /** Joins now (the page does so by itself unless it was opened with `?join=manual`). */
  join(): void;
}

declare global {
  interface Window {
    __demo?: DemoDebug;
  }
}
