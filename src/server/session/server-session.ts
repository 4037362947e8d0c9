// One client's session on this node: its sequencing core, its links (base and upgraded, see SessionLinks) and room memberships.
import { NetloomError } from '../../codec/errors.js';
import { decodeFrame, encodeFrame, FrameKind, type Message, MessageKind } from '../../codec/frames.js';
import type { Link, TransportName } from '../../link/link.js';
import { SessionCore } from '../../session/core.js';
import { SessionLinks, type SessionLinksEvents } from '../../session/links.js';
import type { TimerHandle } from '../../shared/clock.js';
import { encodeSignal, type SignalMessage } from '../../signaling/messages.js';
import type { Identity } from '../identity.js';
import type { LeaveReason } from '../rooms/define.js';
import type { MemberPort } from '../rooms/host.js';
import { allowReceive, allowSend, onClientMessage, overRate, peerViewOf } from './client-messages.js';
import {
  type ClientLimits,
  DEFAULT_CLIENT_LIMITS,
  MessageRateLimit,
  RateVerdict,
  takeToken,
} from './limits.js';
import type { PeerSessionView } from './peer-messages.js';
import type { Membership, SessionContext } from './session-context.js';
import { type PortSession, SessionPort } from './session-port.js';

export type { Membership, SessionContext, SessionSignaling } from './session-context.js';

/** Server side of a session. Created by the SessionManager after a valid HELLO. */
export class ServerSession implements SessionLinksEvents, PortSession {
  readonly core: SessionCore;
  readonly memberships = new Map<number, Membership>();
  /** The session's links: the base link (HELLO), an upgraded one, and which is primary. */
  readonly links: SessionLinks;
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
  /** The rate limit's token bucket, kept here (TokenBucketState): a message touches no other object for it. */
  rateTokens: number;
  rateLast: number;
  private readonly ratePerMs: number;
  private readonly rateBurst: number;
  /** Largest frame the fast path in `frame` takes (the smaller of the frame and message limits). */
  private readonly maxFastFrameBytes: number;
  /** The server's message middleware, held here: the per-message checks read no context object. */
  private readonly middleware: SessionContext['middleware'];
  /** The membership the last room message went to, and its handle (see onRoomMessage). */
  private lastMembership: Membership | null = null;
  private lastHandle = -1;

  constructor(
    readonly id: string,
    readonly token: string,
    private readonly ctx: SessionContext,
  ) {
    this.core = new SessionCore({ ...ctx.coreOptions, clock: ctx.clock });
    this.core.onmessage = (message, reliable) => this.onMessage(message, reliable);
    this.core.onfatal = (error) => this.end(error.code, error.message);
    // The session hears its links itself (SessionLinksEvents): a frame reaches `frame` with no closure between.
    this.links = new SessionLinks(this.core, ctx.clock, this);
    this.lastFrameAt = ctx.clock.now();
    this.limits = ctx.limits ?? DEFAULT_CLIENT_LIMITS;
    this.rate = MessageRateLimit.create(this.limits, this.lastFrameAt);
    this.ratePerMs = this.rate?.perMs ?? 0;
    this.rateBurst = this.rate?.burst ?? 0;
    this.rateTokens = this.rateBurst;
    this.rateLast = this.lastFrameAt;
    this.maxFastFrameBytes = Math.min(this.limits.maxMessageBytes, ctx.frameLimits.maxFrameBytes);
    this.middleware = ctx.middleware;
  }

  /** Sends the client a session-level notice (a warning such as `message_rate_exceeded`, or `server_shutdown`). */
  notice(code: string, message: string): void {
    if (this.state === 'ended') return;
    this.core.sendMessage({ kind: MessageKind.Notice, code, message }, true);
  }

  /** The link the session sends on (the primary), or null while dropped. */
  get link(): Link | null {
    return this.links.primary;
  }

  /** The transport carrying the session now (its primary link's), or null while dropped. */
  get transport(): TransportName | null {
    return this.links.primary?.transport ?? null;
  }

  /** Sends the client a signaling message from `peer` ('' = the server), reliably. */
  sendSignal(peer: string, message: SignalMessage): void {
    if (this.state === 'ended') return;
    this.core.sendMessage({ kind: MessageKind.Signal, peer, payload: encodeSignal(message) }, true);
  }

  /** Starts (or resumes) the session on `link`; `peerLastReceived` is what the client already has. */
  attach(link: Link, peerLastReceived: number): void {
    if (this.expiryTimer !== null) this.ctx.clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.state = 'live';
    this.lastFrameAt = this.ctx.clock.now();
    const old = this.links.base;
    if (old && old !== link) this.ctx.signaling?.reset(this); // resumed while live: its upgrade goes too
    this.links.setBase(link);
    this.core.attach(link, peerLastReceived);
    for (const [handle, m] of this.memberships) {
      if (!m.room.reconnect(m.clientId, this.port(handle))) this.memberships.delete(handle);
    }
    this.forgetMembership();
  }

  /** Joins the room behind `seat` under `handle` and tells the client the outcome. */
  async joinRoom(handle: number, seat: string): Promise<void> {
    if (this.memberships.has(handle) || this.pendingHandles.has(handle)) {
      const message = `handle ${handle} is in use`;
      this.core.sendMessage({ kind: MessageKind.JoinFailed, handle, code: 'handle_in_use', message }, true);
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
    this.memberships.set(handle, { room: m.room, clientId: m.clientId, client: m.client });
    this.forgetMembership();
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

  /** The client left the room under `handle` (LEAVE): the room hears `consented`, the client gets LEFT. */
  leaveRoom(handle: number): void {
    const m = this.memberships.get(handle);
    if (!m) return;
    this.memberships.delete(handle);
    this.forgetMembership();
    if (this.memberships.size === 0) this.emptySince = this.ctx.clock.now();
    m.room.leave(m.clientId, 'consented');
    this.core.sendMessage({ kind: MessageKind.Left, handle, code: 'normal', reason: 'left' }, true);
  }

  /** Ends the session: rooms see `session_ended`, the client gets a CLOSE with `code`. */
  end(code: string, reason: string, leaveReason: LeaveReason = 'session_ended'): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.ctx.log.debug({ code, reason }, 'session ended');
    if (this.expiryTimer !== null) this.ctx.clock.clearTimeout(this.expiryTimer);
    for (const m of this.memberships.values()) m.room.leave(m.clientId, leaveReason);
    this.memberships.clear();
    this.forgetMembership();
    this.core.dispose();
    this.links.sendControl(encodeFrame({ kind: FrameKind.Close, code, reason }));
    this.links.closeAll(code === 'normal' ? 'normal' : 'link_closed', reason);
    this.ctx.signaling?.reset(this);
    this.ctx.ended(this);
  }

  /** The room's way to reach this session's client under `handle` (peer traffic included). */
  port(handle: number): MemberPort {
    return new SessionPort(this, handle);
  }

  // ---- PortSession (what the ports of this session's memberships call) ----

  sendRoomMessage(handle: number, reliable: boolean, op: number, payload: Uint8Array): void {
    const hook = this.middleware?.send;
    if (hook && !allowSend(hook, this, handle, reliable, op, payload)) return;
    this.core.sendRoom(reliable, handle, op, payload);
  }

  sendIfLive(message: Message, reliable: boolean): void {
    if (this.state !== 'ended') this.core.sendMessage(message, reliable);
  }

  membershipEnded(handle: number, code: string, reason: string): void {
    if (this.memberships.get(handle) === undefined) return;
    this.memberships.delete(handle);
    this.forgetMembership();
    if (this.memberships.size === 0) this.emptySince = this.ctx.clock.now();
    this.sendIfLive({ kind: MessageKind.Left, handle, code, reason }, true);
  }

  rttMs(): number {
    return this.core.stats().rtt;
  }

  // ---- SessionLinksEvents ----

  baseLost(): void {
    this.onLinkLost();
  }

  invalid(message: string): void {
    this.protocolError(new NetloomError('sequence_invalid', message));
  }

  primary(link: Link, previous: Link): void {
    this.ctx.metrics.inc(`transport_switches{${link.transport}}`);
    this.ctx.log.debug({ transport: link.transport, previous: previous.transport }, 'session switched link');
  }

  /** A frame arrived on one of the session's links at `at`. */
  frame(bytes: Uint8Array, link: Link, at: number): void {
    this.lastFrameAt = at;
    // Fast path for the commonest frame, an unreliable room message with a one-byte handle and op
    // ([Unreliable seq:u16] [Room handle op] payload, WIRE.md): the same checks as decodeFrame and the
    // general path below, without building frame and message objects. Anything else goes the long way.
    const length = bytes.length;
    if (
      length >= 6 &&
      bytes[0] === FrameKind.Unreliable &&
      bytes[3] === MessageKind.Room &&
      bytes[4] < 0x80 &&
      bytes[5] < 0x80 &&
      length <= this.maxFastFrameBytes
    ) {
      if (this.core.freshUnreliable(bytes[1] | (bytes[2] << 8), length) && this.state !== 'ended')
        this.onRoomMessage(bytes[4], bytes[5], bytes.subarray(6), false);
      return;
    }
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
      case FrameKind.Switch:
      case FrameKind.SwitchAck:
        this.links.switchFrame(frame, link);
        return;
      default:
        this.protocolError(
          new NetloomError('handshake_invalid', 'handshake frame on an established session'),
        );
    }
  }

  private onMessage(message: Message, reliable = true): void {
    if (this.state === 'ended') return;
    if (message.kind === MessageKind.Room) {
      this.onRoomMessage(message.handle, message.op, message.payload, reliable);
      return;
    }
    // Peer frames have their own per-pair limits in the room's relay (RoomPeers).
    if (message.kind !== MessageKind.Peer && !this.withinRate()) return;
    const error = onClientMessage(this, this.ctx, message, reliable);
    if (error) this.protocolError(error);
  }

  /** A room message from the client: rate limit, membership, middleware, then the room. */
  private onRoomMessage(handle: number, op: number, payload: Uint8Array, reliable: boolean): void {
    if (!this.withinRate()) return;
    // Most sessions are in one room: remember the last membership used (`ended` and Leave forget it).
    let m = this.lastMembership;
    if (m === null || this.lastHandle !== handle) {
      m = this.memberships.get(handle) ?? null;
      if (m === null) {
        this.ctx.metrics.inc('messages_unknown_handle');
        return;
      }
      this.lastMembership = m;
      this.lastHandle = handle;
    }
    const hook = this.middleware?.receive;
    if (hook && !allowReceive(hook, this, m, op, payload)) return;
    try {
      const room = m.room;
      if (m.client !== undefined && room.receiveFrom !== undefined)
        room.receiveFrom(m.client, op, payload, reliable);
      else room.receive(m.clientId, op, payload, reliable);
    } catch (err) {
      this.protocolError(err);
    }
  }

  private forgetMembership(): void {
    this.lastMembership = null;
    this.lastHandle = -1;
  }

  /** Takes one message from the client's rate budget; false when it must be dropped (handled here). */
  private withinRate(): boolean {
    const rate = this.rate;
    if (rate === null || takeToken(this, this.lastFrameAt, this.ratePerMs, this.rateBurst)) return true;
    const verdict = rate.overLimit(this.lastFrameAt);
    if (verdict === RateVerdict.Ok) return true;
    overRate(this, this.ctx, verdict);
    return false;
  }

  private peerViewMade: PeerSessionView | null = null;

  /** The session as its peer traffic sees it (peer-messages.ts), made on first use. */
  get peerView(): PeerSessionView {
    this.peerViewMade ??= peerViewOf(this, this.ctx.metrics);
    return this.peerViewMade;
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
    this.links.closeAll('link_closed', 'session dropped');
    this.ctx.signaling?.reset(this);
    let windowMs = 0;
    for (const [handle, m] of [...this.memberships]) {
      const granted = m.room.drop(m.clientId);
      if (granted === 0) this.memberships.delete(handle);
      this.forgetMembership();
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
    if (this.state !== 'live' || !this.links.primary) return;
    const upgraded = this.links.upgradedLink;
    if (!this.links.checkIdle(now, idleMs)) {
      if (upgraded && !upgraded.isOpen) this.ctx.metrics.error('idle_timeout');
      return;
    }
    this.ctx.metrics.error('idle_timeout');
    this.links.base?.close('idle_timeout', 'no frames received'); // its close drops the session
    if (this.state === 'live') this.onLinkLost();
  }
}
