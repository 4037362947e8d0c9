// Room (client side): typed send/on for one room membership, lifecycle events and stats.
import { NetloomError } from '../codec/errors.js';
import { MessageKind, PeerPart } from '../codec/frames.js';
import type { ClientMessages, ServerMessages } from '../codec/protocol.js';
import type { TransportName } from '../link/link.js';
import { Emitter } from '../shared/emitter.js';
import { encodeSignal } from '../signaling/messages.js';
import type { RoomBinding, ServerConnection, TransportChange } from './connection.js';
import { RoomPeers } from './peers/peers.js';
import {
  MemberList,
  type PresenceEvent,
  type RoomMember,
  type RoomStateView,
  type StateChangeEvent,
  StateMirror,
} from './room-mirror.js';

/** Event names a Room emits itself; a protocol's server messages may not use them. */
export const ROOM_EVENTS = [
  'reconnecting',
  'reconnected',
  'leave',
  'error',
  'transport',
  'presence',
  'state-change',
] as const;

export interface RoomLifecycleEvents {
  /** The link was lost; the session is being resumed. `attempt` counts from 1. */
  reconnecting: { attempt: number; code: string };
  /** The session resumed; nothing reliable was lost. */
  reconnected: undefined;
  /** The membership ended: `code` is `normal` for a consented leave, else a stable error code. */
  leave: { code: string; reason: string };
  /** A message from the server could not be handled. */
  error: NetloomError;
  /** The transport carrying the room changed: `{ transport, previous }` (e.g. websocket → webrtc after an upgrade, back on a fallback). */
  transport: TransportChange;
  /** Members joined or left; the first event after joining lists everyone already there, this client included. */
  presence: PresenceEvent;
  /** One key of the room's state changed (on join, one event per key of the snapshot). */
  'state-change': StateChangeEvent;
}

/** Throws `protocol_invalid` when a server message name clashes with a room event name. */
export function assertRoomProtocol(protocol: AnyClientProtocol): void {
  for (const name of ROOM_EVENTS) {
    if (protocol.server.has(name)) {
      throw new NetloomError('protocol_invalid', `server message name '${name}' is reserved for room events`);
    }
  }
}

/** Room events: lifecycle events plus one per server message, typed from the protocol. */
export type RoomEvents<P> = RoomLifecycleEvents & ServerMessages<P>;

export interface RoomStats {
  /** Smoothed round-trip time in ms (0 until measured). */
  rtt: number;
  /** Estimated loss of unreliable frames from the server, 0..1. */
  loss: number;
  bytesIn: { reliable: number; unreliable: number };
  bytesOut: { reliable: number; unreliable: number };
  transport: TransportName | null;
}

export interface RoomSendOptions {
  /** Reliable (default): ordered, buffered across reconnection. Unreliable: may drop, never buffered. */
  reliable?: boolean;
}

/** What the client needs of a protocol at run time; every `defineProtocol(...)` result fits. */
export interface AnyClientProtocol {
  readonly hash: string;
  readonly client: { encode(name: string, value: unknown): { op: number; payload: Uint8Array } };
  readonly server: {
    decode(op: number, payload: Uint8Array): { name: string; value: unknown };
    has(name: string): boolean;
  };
}
type Queued = { op: number; payload: Uint8Array; reliable: boolean } | { emit: () => void };

/**
 * One membership of one room. Messages that arrive before the join resolves are held and
 * delivered on the next macrotask, so listeners added right after `await client.joinOrCreate()`
 * see them.
 */
export class Room<P> {
  id = '';
  type = '';
  clientId = '';
  private readonly events = new Emitter<Record<string, unknown>>();
  private phase: 'joining' | 'joined' | 'left' = 'joining';
  private readonly memberList = new MemberList();
  private readonly stateMirror = new StateMirror();
  private handle = 0;
  private held: Queued[] | null = [];
  private settle: { resolve(room: Room<P>): void; reject(err: NetloomError): void } | null = null;
  private readonly leaving: Array<() => void> = [];
  private readonly protocol: AnyClientProtocol;
  /** Members of a peer-assisted room: typed peer messages over direct links or the relay (docs/PEERS.md). */
  readonly peers: RoomPeers<P>;
  private readonly stopSignals: () => void;

  /** @internal Created by Client. */
  constructor(
    protocol: P,
    private readonly connection: ServerConnection,
  ) {
    this.protocol = protocol as unknown as AnyClientProtocol;
    assertRoomProtocol(this.protocol);
    this.peers = new RoomPeers<P>(protocol, {
      clock: connection.peerContext.clock,
      sendFrame: (peer, frame, reliable) =>
        connection.sendPeer(
          { kind: MessageKind.Peer, handle: this.handle, part: PeerPart.Frame, peer, frame },
          reliable,
        ),
      sendSignal: (peer, message) =>
        connection.sendPeer({ kind: MessageKind.Signal, peer, payload: encodeSignal(message) }, true),
      defer: (emit) => (this.held ? this.held.push({ emit }) : emit()),
      rtc: () => connection.peerContext,
      transport: () => connection.transport,
    });
    this.stopSignals = connection.onSessionMessage(MessageKind.Signal, (m) => {
      if (m.peer !== '') this.peers.signal(m.peer, m.payload);
    });
  }

  /** Everyone in the room, this client included, in join order (empty when the room sends no presence). */
  get members(): RoomMember[] {
    return this.memberList.list;
  }

  /** The room's key-value state (read-only; the server sets it); `state-change` events report changes. */
  get state(): RoomStateView {
    return this.stateMirror;
  }

  /** The transport carrying this room now. */
  get transport(): TransportName | null {
    return this.connection.transport;
  }

  /** @internal Starts the join with a seat token; resolves when the server seats the client. */
  start(seat: string): Promise<Room<P>> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      this.handle = this.connection.join(seat, this.binding());
    });
  }

  on<K extends keyof RoomEvents<P> & string>(
    type: K,
    listener: (event: RoomEvents<P>[K]) => void,
  ): () => void {
    return this.events.on(type, listener as (event: unknown) => void);
  }

  off<K extends keyof RoomEvents<P> & string>(type: K, listener: (event: RoomEvents<P>[K]) => void): void {
    this.events.off(type, listener as (event: unknown) => void);
  }

  /** Sends a message to the room. Returns false when it was not sent (unreliable while congested or offline, or left). */
  send<K extends keyof ClientMessages<P> & string>(
    type: K,
    message: ClientMessages<P>[K],
    options?: RoomSendOptions,
  ): boolean {
    if (this.phase !== 'joined') return false;
    const { op, payload } = this.protocol.client.encode(type, message);
    return this.connection.sendRoom(this.handle, options?.reliable ?? true, op, payload);
  }

  /** Leaves the room (consented: no reconnection window); resolves once the server confirmed or the session ended. */
  leave(): Promise<void> {
    if (this.phase === 'left') return Promise.resolve();
    return new Promise((resolve) => {
      this.leaving.push(resolve);
      this.connection.leave(this.handle);
    });
  }

  stats(): RoomStats {
    const s = this.connection.stats();
    return { rtt: s.rtt, loss: s.loss, bytesIn: s.bytesIn, bytesOut: s.bytesOut, transport: this.transport };
  }

  private binding(): RoomBinding {
    return {
      roomId: () => (this.phase === 'joined' ? this.id : undefined),
      joined: (info) => {
        if (info.protocolHash !== this.protocol.hash) {
          this.connection.leave(this.handle);
          this.fail(
            new NetloomError(
              'protocol_mismatch',
              `server protocol ${info.protocolHash}, client ${this.protocol.hash}`,
            ),
          );
          return;
        }
        this.id = info.roomId;
        this.type = info.roomType;
        this.clientId = info.clientId;
        this.phase = 'joined';
        this.settle?.resolve(this);
        this.settle = null;
        setTimeout(() => this.flushHeld(), 0);
      },
      joinFailed: (error) => this.fail(error),
      message: (op, payload, reliable) => {
        if (this.held) this.held.push({ op, payload: payload.slice(), reliable });
        else this.dispatch(op, payload);
      },
      left: (code, reason) => {
        if (this.phase === 'joining') {
          this.fail(new NetloomError('link_closed', `${code}: ${reason}`));
          return;
        }
        this.flushHeld();
        this.endPeers();
        this.phase = 'left';
        this.events.emit('leave', { code, reason });
        for (const resolve of this.leaving.splice(0)) resolve();
      },
      reconnecting: (info) => this.events.emit('reconnecting', info),
      reconnected: () => this.events.emit('reconnected', undefined),
      transport: (change) => this.emitOrHold('transport', change),
      presence: (joins, leaves) => {
        const event = this.memberList.apply(joins, leaves);
        if (event) this.emitOrHold('presence', event);
        this.peers.presence(joins, leaves);
      },
      peer: (message, reliable) => this.peers.message(message, reliable),
      state: (reset, changes) => {
        const { events, errors } = this.stateMirror.apply(reset, changes);
        for (const event of events) this.emitOrHold('state-change', event);
        for (const error of errors) this.emitOrHold('error', error);
      },
    };
  }

  private fail(error: NetloomError): void {
    this.endPeers();
    this.phase = 'left';
    this.held = null;
    this.settle?.reject(error);
    this.settle = null;
  }

  private endPeers(): void {
    this.stopSignals();
    this.peers.close();
  }

  private flushHeld(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    for (const m of held) {
      if ('emit' in m) m.emit();
      else this.dispatch(m.op, m.payload);
    }
  }

  /** Emits now, or after JOINED (with the held messages, in arrival order) while joining. */
  private emitOrHold(event: string, value: unknown): void {
    if (this.held) this.held.push({ emit: () => this.events.emit(event, value) });
    else this.events.emit(event, value);
  }

  private dispatch(op: number, payload: Uint8Array): void {
    let decoded: { name: string; value: unknown };
    try {
      decoded = this.protocol.server.decode(op, payload);
    } catch (err) {
      this.events.emit(
        'error',
        err instanceof NetloomError ? err : new NetloomError('payload_invalid', String(err)),
      );
      return;
    }
    this.events.emit(decoded.name, decoded.value);
  }
}
