// One client's session on this node: its sequencing core, current link and room memberships.
import { NetloomError } from '../../codec/errors.js';
import {
  decodeFrame,
  encodeFrame,
  FrameKind,
  type FrameLimits,
  type Message,
  MessageKind,
} from '../../codec/frames.js';
import type { Link } from '../../link/link.js';
import { SessionCore, type SessionCoreOptions } from '../../session/core.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import type { Identity } from '../identity.js';
import type { Logger, Metrics } from '../metrics.js';
import type { Middleware } from '../middleware.js';
import type { LeaveReason } from '../rooms/define.js';
import type { MemberPort, RoomHost } from '../rooms/host.js';
import { type ClientLimits, DEFAULT_CLIENT_LIMITS, MessageRateLimit, RateVerdict } from './limits.js';

/** A room membership carried by a session, named on the wire by a per-session handle. */
export interface Membership {
  room: RoomHost;
  clientId: string;
}

/** What a session needs from the server around it. */
export interface SessionContext {
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  frameLimits: FrameLimits;
  coreOptions: Partial<SessionCoreOptions>;
  /** Per-client message size and rate limits (default DEFAULT_CLIENT_LIMITS). */
  limits?: ClientLimits;
  /** Redeems a seat token and seats the client; resolves to the membership or throws NetloomError. */
  join(session: ServerSession, seat: string, port: MemberPort): Promise<Membership & { roomType: string }>;
  /** Called once when the session ended for good. */
  ended(session: ServerSession): void;
  /** Answers an RPC request (absent: every request is answered `endpoint_unknown`). */
  rpc?(session: ServerSession, message: Extract<Message, { kind: typeof MessageKind.RpcRequest }>): void;
  /** Middleware on room messages in and out; its hooks are null while none is installed. */
  middleware?: Middleware;
}

/** Server side of a session. Created by the SessionManager after a valid HELLO. */
export class ServerSession {
  readonly core: SessionCore;
  readonly memberships = new Map<number, Membership>();
  link: Link | null = null;
  lastFrameAt: number;
  state: 'live' | 'dropped' | 'ended' = 'live';
  /** Who this session belongs to: taken from the first seat token it redeemed (undefined when anonymous). */
  identity: Identity | undefined = undefined;
  private expiryTimer: TimerHandle | null = null;
  private readonly pendingHandles = new Set<number>();
  /** When the session last became empty of rooms (null while it has some or a join is pending). */
  private emptySince: number | null = null;
  private readonly limits: ClientLimits;
  private readonly rate: MessageRateLimit | null;

  constructor(
    readonly id: string,
    readonly token: string,
    private readonly ctx: SessionContext,
  ) {
    this.core = new SessionCore({ ...ctx.coreOptions, clock: ctx.clock });
    this.core.onmessage = (message, reliable) => this.onMessage(message, reliable);
    this.core.onfatal = (error) => this.end(error.code, error.message);
    this.lastFrameAt = ctx.clock.now();
    this.limits = ctx.limits ?? DEFAULT_CLIENT_LIMITS;
    this.rate = MessageRateLimit.create(this.limits, this.lastFrameAt);
  }

  /** Sends the client a session-level notice (a warning such as `message_rate_exceeded`, or `server_shutdown`). */
  notice(code: string, message: string): void {
    if (this.state === 'ended') return;
    this.core.sendMessage({ kind: MessageKind.Notice, code, message }, true);
  }

  /** Starts (or resumes) the session on `link`; `peerLastReceived` is what the client already has. */
  attach(link: Link, peerLastReceived: number): void {
    if (this.expiryTimer !== null) this.ctx.clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const old = this.link;
    if (old && old !== link) {
      old.onclose = null;
      old.onframe = null;
      old.close('session_replaced', 'session resumed on another link');
    }
    this.link = link;
    this.state = 'live';
    this.lastFrameAt = this.ctx.clock.now();
    link.onframe = (bytes) => this.onFrame(bytes);
    link.onclose = () => this.onLinkLost();
    this.core.attach(link, peerLastReceived);
    for (const [handle, m] of this.memberships) {
      if (!m.room.reconnect(m.clientId, this.port(handle))) this.memberships.delete(handle);
    }
  }

  /** Joins the room behind `seat` under `handle` and tells the client the outcome. */
  async joinRoom(handle: number, seat: string): Promise<void> {
    if (this.memberships.has(handle) || this.pendingHandles.has(handle)) {
      this.core.sendMessage(
        {
          kind: MessageKind.JoinFailed,
          handle,
          code: 'handle_in_use',
          message: `handle ${handle} is in use`,
        },
        true,
      );
      return;
    }
    this.pendingHandles.add(handle);
    try {
      const m = await this.ctx.join(this, seat, this.port(handle));
      if (this.state === 'ended') {
        m.room.leave(m.clientId, 'session_ended');
        return;
      }
      this.adopt(handle, m);
    } catch (err) {
      const e = err instanceof NetloomError ? err : new NetloomError('internal_error', 'join failed');
      this.ctx.metrics.error(e.code);
      this.core.sendMessage({ kind: MessageKind.JoinFailed, handle, code: e.code, message: e.message }, true);
    } finally {
      this.pendingHandles.delete(handle);
    }
  }

  /**
   * Records a membership and sends JOINED. Room messages the room sent during onJoin went out
   * before it; the client holds them for the handle it asked for until JOINED arrives.
   */
  adopt(handle: number, m: Membership & { roomType: string }): void {
    this.memberships.set(handle, { room: m.room, clientId: m.clientId });
    this.emptySince = null;
    this.core.sendMessage(
      {
        kind: MessageKind.Joined,
        handle,
        roomId: m.room.id,
        roomType: m.roomType,
        clientId: m.clientId,
        protocolHash: m.room.protocolHash,
      },
      true,
    );
  }

  /** Ends the session: rooms see `session_ended`, the client gets a CLOSE with `code`. */
  end(code: string, reason: string, leaveReason: LeaveReason = 'session_ended'): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.ctx.log.debug({ code, reason }, 'session ended');
    if (this.expiryTimer !== null) this.ctx.clock.clearTimeout(this.expiryTimer);
    for (const m of this.memberships.values()) m.room.leave(m.clientId, leaveReason);
    this.memberships.clear();
    const link = this.link;
    this.link = null;
    this.core.dispose();
    if (link) {
      link.onclose = null;
      link.onframe = null;
      link.send('reliable', encodeFrame({ kind: FrameKind.Close, code, reason }));
      link.close(code === 'normal' ? 'normal' : 'link_closed', reason);
    }
    this.ctx.ended(this);
  }

  /** The room's way to reach this session's client under `handle`. */
  port(handle: number): MemberPort {
    return {
      send: (reliable, op, payload) => {
        const hook = this.ctx.middleware?.send;
        if (hook && !this.allowSend(hook, handle, reliable, op, payload)) return;
        this.core.sendRoom(reliable, handle, op, payload);
      },
      ended: (code, reason) => {
        if (this.memberships.get(handle) === undefined) return;
        this.memberships.delete(handle);
        if (this.memberships.size === 0) this.emptySince = this.ctx.clock.now();
        if (this.state !== 'ended')
          this.core.sendMessage({ kind: MessageKind.Left, handle, code, reason }, true);
      },
      presence: (joins, leaves) => {
        if (this.state !== 'ended')
          this.core.sendMessage({ kind: MessageKind.Presence, handle, joins, leaves }, true);
      },
      state: (reset, changes) => {
        if (this.state !== 'ended')
          this.core.sendMessage({ kind: MessageKind.RoomState, handle, reset, changes }, true);
      },
    };
  }

  private onFrame(bytes: Uint8Array): void {
    this.lastFrameAt = this.ctx.clock.now();
    let frame: ReturnType<typeof decodeFrame>;
    try {
      frame = decodeFrame(bytes, this.ctx.frameLimits);
    } catch (err) {
      this.protocolError(err);
      return;
    }
    switch (frame.kind) {
      case FrameKind.Reliable:
      case FrameKind.Unreliable:
        if (bytes.length > this.limits.maxMessageBytes) {
          this.protocolError(
            new NetloomError(
              'message_too_large',
              `message of ${bytes.length} bytes exceeds ${this.limits.maxMessageBytes}`,
            ),
          );
          return;
        }
        this.core.receive(frame, bytes.length);
        return;
      case FrameKind.Ack:
      case FrameKind.Ping:
      case FrameKind.Pong:
        this.core.receive(frame, bytes.length);
        return;
      case FrameKind.Close:
        this.end('normal', 'client closed the session', 'consented');
        return;
      default:
        this.protocolError(
          new NetloomError('handshake_invalid', 'handshake frame on an established session'),
        );
    }
  }

  private onMessage(message: Message, reliable = true): void {
    if (this.state === 'ended') return;
    if (this.rate !== null) {
      const verdict = this.rate.check(this.lastFrameAt);
      if (verdict !== RateVerdict.Ok) {
        this.overRate(verdict);
        return;
      }
    }
    switch (message.kind) {
      case MessageKind.Room: {
        const m = this.memberships.get(message.handle);
        if (!m) {
          this.ctx.metrics.inc('messages_unknown_handle');
          return;
        }
        const hook = this.ctx.middleware?.receive;
        if (hook && !this.allowReceive(hook, m, message.op, message.payload)) return;
        try {
          m.room.receive(m.clientId, message.op, message.payload, reliable);
        } catch (err) {
          this.protocolError(err);
        }
        return;
      }
      case MessageKind.Join:
        void this.joinRoom(message.handle, message.seat);
        return;
      case MessageKind.RpcRequest:
        if (this.ctx.rpc) this.ctx.rpc(this, message);
        else {
          const reply = { code: 'endpoint_unknown', message: 'this server has no endpoints' };
          this.core.sendMessage({ kind: MessageKind.RpcResponse, id: message.id, ok: false, ...reply }, true);
        }
        return;
      case MessageKind.Leave: {
        const m = this.memberships.get(message.handle);
        if (!m) return;
        this.memberships.delete(message.handle);
        if (this.memberships.size === 0) this.emptySince = this.ctx.clock.now();
        m.room.leave(m.clientId, 'consented');
        this.core.sendMessage(
          { kind: MessageKind.Left, handle: message.handle, code: 'normal', reason: 'left' },
          true,
        );
        return;
      }
      default:
        this.protocolError(new NetloomError('frame_malformed', 'message kind not accepted from a client'));
    }
  }

  /** Runs the onMessage middleware on a room message from the client; false drops it. */
  private allowReceive(
    hook: NonNullable<Middleware['receive']>,
    m: Membership,
    op: number,
    payload: Uint8Array,
  ): boolean {
    const { room, clientId } = m;
    const base = { sessionId: this.id, identity: this.identity, roomId: room.id, roomType: room.type };
    return hook({ ...base, clientId, op, size: payload.length, payload });
  }

  /** Runs the onSend middleware on a room message to the client; false drops it. */
  private allowSend(
    hook: NonNullable<Middleware['send']>,
    handle: number,
    reliable: boolean,
    op: number,
    payload: Uint8Array,
  ): boolean {
    const m = this.memberships.get(handle);
    const base = { kind: 'room' as const, sessionId: this.id, identity: this.identity, roomId: m?.room.id };
    return hook({ ...base, clientId: m?.clientId, op, reliable, size: payload.length, payload });
  }

  /** A message over the rate was dropped: warn the client, or kick it once the grace period is over. */
  private overRate(verdict: RateVerdict): void {
    this.ctx.metrics.inc('messages_rate_limited');
    if (verdict === RateVerdict.Warn) {
      this.ctx.metrics.inc('rate_limit_warnings');
      this.ctx.log.warn({ code: 'message_rate_exceeded' }, 'client over the message rate: warned');
      this.notice('message_rate_exceeded', 'too many messages: slow down or be disconnected');
    } else if (verdict === RateVerdict.Kick) {
      this.ctx.metrics.error('message_rate_exceeded');
      this.ctx.log.warn({ code: 'message_rate_exceeded' }, 'client over the message rate: kicked');
      this.end('message_rate_exceeded', 'too many messages', 'kicked');
    }
  }

  private protocolError(err: unknown): void {
    const e = err instanceof NetloomError ? err : new NetloomError('internal_error', String(err));
    this.ctx.metrics.error(e.code);
    this.ctx.log.warn({ sessionId: this.id, code: e.code, msg: e.message }, 'closing session on bad input');
    this.end(e.code, e.message);
  }

  /** The link died without a CLOSE: keep the session for the longest window a room grants. */
  onLinkLost(): void {
    if (this.state !== 'live') return;
    this.state = 'dropped';
    this.core.detach();
    const link = this.link;
    this.link = null;
    if (link) {
      link.onframe = null;
      link.onclose = null;
    }
    let windowMs = 0;
    for (const [handle, m] of [...this.memberships]) {
      const granted = m.room.drop(m.clientId);
      if (granted === 0) this.memberships.delete(handle);
      windowMs = Math.max(windowMs, granted);
    }
    if (windowMs === 0) {
      this.end('session_expired', 'no room kept the seat');
      return;
    }
    this.expiryTimer = this.ctx.clock.setTimeout(() => {
      this.expiryTimer = null;
      if (this.state === 'dropped') this.end('session_expired', 'reconnection window expired');
    }, windowMs);
  }

  /** Closes a live session that has had no room and no pending join for `emptyMs`. */
  checkEmpty(now: number, emptyMs: number): void {
    if (this.state !== 'live' || this.emptySince === null || this.pendingHandles.size > 0) return;
    if (now - this.emptySince > emptyMs) this.end('normal', 'session has no rooms');
  }

  /** Drops the link if nothing arrived for `idleMs` (called by the manager's sweep). */
  checkIdle(now: number, idleMs: number): void {
    if (this.state === 'live' && this.link && now - this.lastFrameAt > idleMs) {
      this.ctx.metrics.error('idle_timeout');
      const link = this.link;
      this.onLinkLost();
      link.close('idle_timeout', 'no frames received');
    }
  }
}
