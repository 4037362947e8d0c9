// RoomRuntime: runs one authoritative room in this process — clients, hooks, typed messages, the tick loop.
import { NetloomError } from '../../codec/errors.js';
import type { Clock } from '../../shared/clock.js';
import type { Identity } from '../identity.js';
import type { Logger, Metrics } from '../metrics.js';
import type { AnyProtocol, BroadcastOptions, LeaveReason, Room, RoomClient, SendOptions } from './define.js';
import type { MemberPort, RoomHost, RoomRunner, RoomSpec } from './host.js';
import { randomClientId } from './ids.js';
import { type RoomPeers, roomPeersFor } from './peers/room-peers.js';
import { type PresenceTarget, PresenceTracker, type RoomMember } from './presence.js';
import { LEAVE_CODES, type LinkedClient, MEMBER_OF, type Member } from './room-members.js';
import {
  type AnyDefinition,
  handlersByOp,
  type MessageHandler,
  RELIABLE_META,
  UNRELIABLE_META,
} from './room-messages.js';
import { PendingSeats } from './room-seats.js';
import { RoomStateStore } from './room-state.js';
import { TickLoop } from './tick.js';

/** One room, run in-process. Implements both the room code's `Room` and the runner seam's `RoomHost`. */
export class RoomRuntime implements Room<AnyProtocol, unknown, unknown>, RoomHost {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly clock: Clock;
  readonly log: Logger;
  readonly maxClients: number;
  readonly protocolHash: string;
  readonly tags: Readonly<Record<string, string>>;
  private readonly def: AnyDefinition;
  private readonly metrics: Metrics;
  private readonly spec: RoomSpec;
  private readonly memberMap = new Map<string, Member>();
  private readonly handlerByOp: (MessageHandler | undefined)[];
  private readonly presence: PresenceTracker;
  readonly state: RoomStateStore;
  /** The relay and mesh of a peer-assisted room (null when the room has peers off). */
  readonly peers: RoomPeers | null;
  private readonly clientView = new Map<string, RoomClient<unknown>>();
  private readonly pending: PendingSeats;
  private readonly loop: TickLoop | null;
  private isDisposed = false;
  /** True while this room counts in the `rooms{type}` gauge (from a successful start to dispose). */
  private counted = false;

  constructor(spec: RoomSpec) {
    this.spec = spec;
    this.def = spec.definition;
    this.id = spec.id;
    this.type = spec.type;
    this.clock = spec.clock;
    this.log = spec.log;
    this.metrics = spec.metrics;
    this.maxClients = this.def.maxClients ?? 16;
    this.protocolHash = this.def.protocol.hash;
    this.tags = Object.freeze({ ...spec.tags });
    this.data = this.def.data ? this.def.data() : undefined;
    this.handlerByOp = handlersByOp(this.def);
    this.pending = new PendingSeats(this.clock, spec.now ?? Date.now, () => this.maybeAutoDispose());
    const portOf = (id: string) => this.memberMap.get(id)?.port;
    this.peers = roomPeersFor(this.def, { clock: this.clock, metrics: this.metrics, log: this.log, portOf });
    const presence = this.def.presence !== false || this.peers !== null; // peers learn each other by presence
    this.presence = new PresenceTracker(presence, () => this.targets());
    this.state = new RoomStateStore(this.def.state, () => this.targets());
    if (this.def.sharedState && spec.onStateChanged) this.state.onFlush = spec.onStateChanged;
    const rate = this.def.tickRate ?? 0;
    const onTick = this.def.onTick;
    this.loop =
      rate > 0 && onTick
        ? new TickLoop(
            rate,
            this.clock,
            (dt) => this.guard('onTick', () => onTick(this, dt)),
            () => this.metrics.inc(`tick_overruns{${this.type}}`),
          )
        : null;
  }

  get clients(): ReadonlyMap<string, RoomClient<unknown>> {
    return this.clientView;
  }

  get members(): RoomMember[] {
    return this.presence.members;
  }

  memberCount(): number {
    return this.presence.size;
  }

  get tick(): number {
    return this.loop?.count ?? 0;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  async start(options: unknown): Promise<void> {
    const onCreate = this.def.onCreate;
    if (onCreate) await onCreate(this, options);
    this.loop?.start();
    if (!this.isDisposed) {
      this.counted = true;
      this.metrics.gaugeAdd(`rooms{${this.type}}`, 1);
      this.log.debug({}, 'room started');
    }
  }

  // ---- Room (what room code calls) ----

  send(client: RoomClient<unknown>, type: string, message: unknown, options?: SendOptions): void {
    const member = this.memberMap.get(client.id);
    if (!member) return;
    this.flushPending();
    const { op, payload } = this.def.protocol.server.encodeTransient(type, message);
    member.port.send(options?.reliable ?? true, op, payload);
  }

  broadcast(type: string, message: unknown, options?: BroadcastOptions<unknown>): void {
    this.flushPending();
    const { op, payload } = this.def.protocol.server.encodeTransient(type, message);
    const reliable = options?.reliable ?? true;
    const except = options?.except;
    const only = options?.only;
    const targets = only ? only.map((c) => this.memberMap.get(c.id)) : this.memberMap.values();
    for (const member of targets) {
      if (!member) continue;
      if (except && (Array.isArray(except) ? except.includes(member.client) : except === member.client))
        continue;
      member.port.send(reliable, op, payload);
    }
  }

  allowReconnection(client: RoomClient<unknown>, ms: number): void {
    const member = this.memberMap.get(client.id);
    if (member) member.reconnectMs = Math.max(0, ms);
  }

  kick(client: RoomClient<unknown>, reason = 'kicked'): void {
    this.removeMember(client.id, 'kicked', reason);
  }

  lock(): Promise<void> {
    return this.setListing({ locked: true });
  }

  unlock(): Promise<void> {
    return this.setListing({ locked: false });
  }

  setPrivate(flag: boolean): Promise<void> {
    return this.setListing({ private: flag });
  }

  private async setListing(change: { locked?: boolean; private?: boolean }): Promise<void> {
    if (this.isDisposed) return;
    await this.spec.setListing?.(change);
  }

  dispose(reason: 'disposed' | 'lost' = 'disposed'): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    if (this.counted) this.metrics.gaugeAdd(`rooms{${this.type}}`, -1);
    this.log.debug({}, 'room disposing');
    this.loop?.stop();
    const why = reason === 'lost' ? 'room lost by the cluster' : 'room disposed';
    for (const id of [...this.memberMap.keys()]) this.removeMember(id, reason, why);
    this.pending.clear();
    const onDispose = this.def.onDispose;
    this.guardAsync('onDispose', async () => {
      if (onDispose) await onDispose(this);
    }).finally(() => this.spec.onDisposed());
  }

  // ---- RoomHost (what the control plane and sessions call) ----

  /** A member's smoothed round-trip time in ms (undefined before it is measured, or for a non-member). */
  rttOf(client: RoomClient<unknown>): number | undefined {
    return this.memberMap.get(client.id)?.port.rtt?.();
  }

  memberList(): RoomMember[] {
    return this.presence.members;
  }

  stateJson(): Record<string, string> {
    return this.state.jsonEntries();
  }

  seatIds(): string[] {
    return [...this.memberMap.values()].map((member) => member.seatId);
  }

  async authorize(seatId: string, joinData: unknown, expiresAt: number, identity?: Identity): Promise<void> {
    if (this.isDisposed) throw new NetloomError('room_disposed', 'room was disposed');
    let data: unknown;
    const onAuth = this.def.onAuth;
    if (onAuth) {
      const candidate = {
        id: '',
        sessionId: '',
        data: undefined,
        joinData,
        userId: identity?.userId,
        auth: identity,
        state: 'joined' as const,
      };
      let result: Awaited<ReturnType<NonNullable<AnyDefinition['onAuth']>>>;
      try {
        result = await onAuth(this, candidate, joinData);
      } catch (err) {
        this.hookFailed('onAuth', err);
        this.maybeAutoDispose();
        throw new NetloomError('auth_refused', 'authorization failed');
      }
      if (result?.ok !== true) {
        this.maybeAutoDispose();
        throw new NetloomError('auth_refused', (result && !result.ok && result.message) || 'join refused');
      }
      data = result.data;
      // An onAuth that took its time may outlive the room: a disposed room holds no seats.
      if (this.isDisposed) throw new NetloomError('room_disposed', 'room was disposed');
    }
    this.pending.reserve(seatId, { data, joinData, identity, expiresAt });
  }

  async admit(seatId: string, sessionId: string, port: MemberPort): Promise<RoomClient<unknown>> {
    const seat = this.isDisposed ? undefined : this.pending.take(seatId);
    if (!seat) throw new NetloomError('seat_invalid', 'no pending seat for this token');
    const client = {
      id: randomClientId(),
      sessionId,
      data: seat.data,
      joinData: seat.joinData,
      userId: seat.identity?.userId,
      auth: seat.identity,
      state: 'joined' as 'joined' | 'dropped',
    };
    this.flushPending(); // earlier diffs go to earlier members; the joiner gets snapshots instead
    const member: Member = { client, seatId, port, reconnectMs: 0, reconnectTimer: null };
    this.memberMap.set(client.id, member);
    // Not enumerable: room code that copies or logs its client does not carry the record along.
    Object.defineProperty(client, MEMBER_OF, { value: member, writable: true, enumerable: false });
    this.clientView.set(client.id, client);
    this.log.debug({ clientId: client.id, sessionId, userId: client.userId }, 'client joined');
    this.peers?.join(client.id);
    this.presence.add({ clientId: client.id, userId: client.userId }, port);
    this.state.snapshotTo(port);
    const onJoin = this.def.onJoin;
    if (onJoin) await this.guardAsync('onJoin', async () => onJoin(this, client));
    return client;
  }

  receive(clientId: string, op: number, payload: Uint8Array, reliable = true): void {
    const member = this.memberMap.get(clientId);
    if (member) this.deliver(member, op, payload, reliable);
  }

  receiveFrom(client: RoomClient<unknown>, op: number, payload: Uint8Array, reliable: boolean): void {
    const member = (client as LinkedClient)[MEMBER_OF];
    if (member !== undefined) this.deliver(member, op, payload, reliable);
  }

  /** A decoded client message to its handler. */
  private deliver(member: Member, op: number, payload: Uint8Array, reliable: boolean): void {
    const value = this.def.protocol.client.decodeValue(op, payload);
    this.metrics.roomMessagesIn++;
    const handler = this.handlerByOp[op];
    if (!handler) {
      this.metrics.inc('room_messages_unhandled');
      return;
    }
    try {
      handler(this, member.client, value, reliable ? RELIABLE_META : UNRELIABLE_META);
    } catch (err) {
      this.hookFailed(`messages.${this.def.protocol.client.nameOf(op)}`, err);
    }
  }

  drop(clientId: string): number {
    const member = this.memberMap.get(clientId);
    if (!member) return 0;
    member.client.state = 'dropped';
    member.reconnectMs = 0;
    const onDrop = this.def.onDrop;
    if (onDrop) this.guard('onDrop', () => onDrop(this, member.client));
    else member.reconnectMs = this.def.reconnectionMs ?? 20_000;
    if (!this.memberMap.has(clientId)) return 0; // onDrop kicked it
    if (member.reconnectMs <= 0) {
      this.removeMember(clientId, 'dropped', 'link lost');
      return 0;
    }
    member.reconnectTimer = this.clock.setTimeout(() => {
      member.reconnectTimer = null;
      this.removeMember(clientId, 'reconnection_expired', 'reconnection window expired');
    }, member.reconnectMs);
    return member.reconnectMs;
  }

  reconnect(clientId: string, port: MemberPort): boolean {
    const member = this.memberMap.get(clientId);
    if (!member) return false;
    if (member.reconnectTimer !== null) this.clock.clearTimeout(member.reconnectTimer);
    member.reconnectTimer = null;
    member.port = port;
    if (member.client.state === 'dropped') {
      member.client.state = 'joined';
      const onReconnect = this.def.onReconnect;
      if (onReconnect) this.guard('onReconnect', () => onReconnect(this, member.client));
    }
    return true;
  }

  leave(clientId: string, reason: LeaveReason): void {
    this.removeMember(clientId, reason, reason);
  }

  // ---- internals ----

  private removeMember(clientId: string, reason: LeaveReason, text: string): void {
    const member = this.memberMap.get(clientId);
    if (!member) return;
    this.memberMap.delete(clientId);
    (member.client as LinkedClient)[MEMBER_OF] = undefined;
    this.clientView.delete(clientId);
    this.log.debug({ clientId, sessionId: member.client.sessionId, reason }, 'client left');
    this.peers?.leave(clientId);
    this.presence.remove(clientId);
    if (member.reconnectTimer !== null) this.clock.clearTimeout(member.reconnectTimer);
    if (reason !== 'consented' && reason !== 'session_ended') member.port.ended(LEAVE_CODES[reason], text);
    this.spec.onSeatFreed(member.seatId);
    const onLeave = this.def.onLeave;
    const after = () => this.maybeAutoDispose();
    if (onLeave) this.guardAsync('onLeave', async () => onLeave(this, member.client, reason)).finally(after);
    else after();
  }

  /** Sends batched presence and state changes now, so they reach clients before what follows. */
  private flushPending(): void {
    this.presence.flush();
    this.state.flush();
  }

  private *targets(): Iterable<PresenceTarget> {
    for (const m of this.memberMap.values()) yield { clientId: m.client.id, port: m.port };
  }

  private maybeAutoDispose(): void {
    if (this.isDisposed || this.def.autoDispose === false) return;
    if (this.memberMap.size === 0 && this.pending.size === 0) this.dispose();
  }

  private guard(hook: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.hookFailed(hook, err);
    }
  }

  private async guardAsync(hook: string, fn: () => Promise<void> | void): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.hookFailed(hook, err);
    }
  }

  private hookFailed(hook: string, err: unknown): void {
    this.metrics.inc(`hook_errors{${hook}}`);
    this.log.error({ err, roomId: this.id, roomType: this.type, hook }, `room hook ${hook} threw`);
  }
}

/** The default runner: room code runs in this process, on this event loop. */
export const inProcessRunner: RoomRunner = {
  async start(spec) {
    const room = new RoomRuntime(spec);
    await room.start(spec.options);
    return room;
  },
};
