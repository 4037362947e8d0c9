// Match (client side): a relayed match — send op-coded bytes to the other members, hear theirs, follow presence.
import { NetloomError } from '../codec/errors.js';
import { type RelayedProtocol, relayedProtocol } from '../codec/relayed-protocol.js';
import type { TransportName } from '../link/link.js';
import type { Room, RoomEvents, RoomStats } from './room.js';
import type { RoomMember } from './room-mirror.js';

export { type RelayedProtocol, relayedProtocol };

/** `client.createMatch()` / `client.joinMatch()` options. */
export interface MatchOptions {
  /** The server's room type for relayed matches (default `match`: `rooms: { match: relayedRoom() }`). */
  type?: string;
  /** Reaches the room's onAuth (relayed rooms accept everyone). */
  joinData?: unknown;
}

export interface MatchSendOptions {
  /** Reliable (default): ordered and never lost. Unreliable: may drop, never buffered. */
  reliable?: boolean;
  /** Only these members (client ids or members) get it; default every other member. */
  to?: ReadonlyArray<string | RoomMember>;
}

/** A relayed message from another member. */
export interface MatchData {
  /** The sender's client id. */
  from: string;
  /** The game's op code. */
  op: number;
  data: Uint8Array;
}

/** Events of a Match. */
export type MatchEvents = Pick<
  RoomEvents<RelayedProtocol>,
  'data' | 'presence' | 'leave' | 'reconnecting' | 'reconnected' | 'error'
>;

const MAX_OP_CODE = 0xffff_ffff;

/**
 * One membership of a relayed match. The server has no game logic: `send` reaches the other
 * members (or the listed ones) in the order the server processed the sends, on the channel chosen.
 * The match ends when its last member leaves; its id then answers `match_ended`.
 */
export class Match {
  /** @internal Created by `client.createMatch()` / `client.joinMatch()`. */
  constructor(
    /** The underlying room membership (stats, transport, lifecycle events). */
    readonly room: Room<RelayedProtocol>,
  ) {}

  /** The match id to share with friends; they call `client.joinMatch(id)`. */
  get id(): string {
    return this.room.id;
  }

  /** This client's id within the match (what others see as `from`). */
  get clientId(): string {
    return this.room.clientId;
  }

  /** Everyone in the match, this client included, in join order. */
  get members(): RoomMember[] {
    return this.room.members;
  }

  get transport(): TransportName | null {
    return this.room.transport;
  }

  /**
   * Relays `data` under op code `op` (0..2^32-1). Returns false when it was not sent (unreliable while
   * congested or offline, or the match was left). Throws `encode_invalid` for a bad op or data.
   */
  send(op: number, data: Uint8Array, options: MatchSendOptions = {}): boolean {
    if (!Number.isInteger(op) || op < 0 || op > MAX_OP_CODE) {
      throw new NetloomError('encode_invalid', `match op must be an integer in 0..${MAX_OP_CODE}`);
    }
    if (!(data instanceof Uint8Array))
      throw new NetloomError('encode_invalid', 'match data must be a Uint8Array');
    const to = options.to ? options.to.map((m) => (typeof m === 'string' ? m : m.clientId)) : [];
    if (options.to && to.length === 0) return false; // an empty list reaches nobody
    return this.room.send('data', { op, data, to }, { reliable: options.reliable ?? true });
  }

  on<K extends keyof MatchEvents>(type: K, listener: (event: MatchEvents[K]) => void): () => void {
    return this.room.on(type, listener);
  }

  off<K extends keyof MatchEvents>(type: K, listener: (event: MatchEvents[K]) => void): void {
    this.room.off(type, listener);
  }

  /** Leaves the match; when the last member leaves, the match ends for good. */
  leave(): Promise<void> {
    return this.room.leave();
  }

  stats(): RoomStats {
    return this.room.stats();
  }
}
