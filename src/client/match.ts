// Match (client side): a relayed match — send op-coded bytes to the other members, hear theirs, follow presence and host.
import { NetloomError } from '../codec/errors.js';
import {
  decodeRelayedHost,
  RELAYED_HOST_KEY,
  type RelayedHostRecord,
  type RelayedProtocol,
  relayedProtocol,
} from '../codec/relayed-protocol.js';
import type { TransportName } from '../link/link.js';
import { Emitter } from '../shared/emitter.js';
import type { Room, RoomEvents, RoomStats } from './room.js';
import type { RoomMember, StateChangeEvent } from './room-mirror.js';

export { type RelayedProtocol, relayedProtocol };

/** The host of a match: who it is, and `epoch`, which grows by one with each change of host. */
export type MatchHost = Readonly<RelayedHostRecord>;

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
> & {
  /**
   * The match's host, once just after joining (the host at that moment) and then at each change,
   * in epoch order. Every member sees the same sequence (a later joiner, the part since it joined).
   */
  host: MatchHost;
};

const MAX_OP_CODE = 0xffff_ffff;

/**
 * One membership of a relayed match. The server has no game logic: `send` reaches the other
 * members (or the listed ones) in the order the server processed the sends, on the channel chosen.
 * The match ends when its last member leaves; its id then answers `match_ended`. One member is
 * the host (`host`, `isHost`, `host` events); the server alone chooses it.
 */
export class Match {
  /** Events the Match makes itself (`host`, and `error` for a malformed host record). */
  private readonly own = new Emitter<{ host: MatchHost; error: NetloomError }>();
  private current: MatchHost | null = null;
  /** Epoch of the last `host` event emitted. */
  private emittedEpoch = 0;

  /** @internal Created by `client.createMatch()` / `client.joinMatch()`. */
  constructor(
    /** The underlying room membership (stats, transport, lifecycle events). */
    readonly room: Room<RelayedProtocol>,
  ) {
    // The state snapshot is already applied when the join resolves; its events come just after.
    this.current = readHost(room.state.get(RELAYED_HOST_KEY));
    room.on('state-change', (event) => this.onStateChange(event));
  }

  /** The current host (null on a server without host election, or before it is known). */
  get host(): MatchHost | null {
    return this.current;
  }

  /** True when this client is the match's host. */
  get isHost(): boolean {
    return this.current !== null && this.current.clientId === this.room.clientId;
  }

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
    if (type === 'host') return this.own.on('host', listener as (event: MatchHost) => void);
    const offRoom = this.room.on(type as Exclude<K, 'host'>, listener as (event: unknown) => void);
    if (type !== 'error') return offRoom;
    const offOwn = this.own.on('error', listener as (event: NetloomError) => void);
    return () => {
      offRoom();
      offOwn();
    };
  }

  off<K extends keyof MatchEvents>(type: K, listener: (event: MatchEvents[K]) => void): void {
    if (type === 'host') this.own.off('host', listener as (event: MatchHost) => void);
    else this.room.off(type as Exclude<K, 'host'>, listener as (event: unknown) => void);
    if (type === 'error') this.own.off('error', listener as (event: NetloomError) => void);
  }

  /** Leaves the match; when the last member leaves, the match ends for good. */
  leave(): Promise<void> {
    return this.room.leave();
  }

  stats(): RoomStats {
    return this.room.stats();
  }

  private onStateChange(event: StateChangeEvent): void {
    if (event.key !== RELAYED_HOST_KEY || event.value === undefined) return; // cleared only once nobody is left
    const host = readHost(event.value);
    if (host === null) {
      this.own.emit(
        'error',
        new NetloomError('payload_invalid', `malformed ${RELAYED_HOST_KEY} from the server`),
      );
      return;
    }
    if (host.epoch <= this.emittedEpoch) return; // epochs only grow: an older host is never shown again
    this.emittedEpoch = host.epoch;
    if (this.current === null || host.epoch >= this.current.epoch) this.current = host;
    this.own.emit('host', host);
  }
}

function readHost(value: unknown): MatchHost | null {
  const host = decodeRelayedHost(value);
  return host === null ? null : Object.freeze(host);
}
