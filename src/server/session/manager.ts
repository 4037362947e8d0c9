// SessionManager: accepts new links, runs the HELLO/WELCOME handshake, creates and resumes sessions.
import { randomBytes } from 'node:crypto';
import { NetloomError } from '../../codec/errors.js';
import {
  decodeFrame,
  encodeFrame,
  FrameKind,
  type FrameLimits,
  type Hello,
  WIRE_VERSION,
} from '../../codec/frames.js';
import type { Link } from '../../link/link.js';
import type { SessionCoreOptions } from '../../session/core.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import type { SessionExtensionHooks } from '../extensions.js';
import type { Identity } from '../identity.js';
import type { Logger, Metrics } from '../metrics.js';
import type { MemberPort } from '../rooms/host.js';
import type { ClientLimits } from './limits.js';
import { type Membership, ServerSession, type SessionSignaling } from './server-session.js';

export interface SessionManagerOptions {
  /** A link must complete HELLO within this time (default 5,000 ms). */
  handshakeTimeoutMs: number;
  /** Interval of the PINGs clients send, told to them in WELCOME (default 2,000 ms). */
  pingIntervalMs: number;
  /** A link with no frame for this long is treated as dead (default 6,000 ms). */
  idleTimeoutMs: number;
  /** A session with no room for this long is closed (default 10,000 ms). */
  emptySessionMs: number;
  /**
   * Interval of the server's own PINGs, which measure each session's round-trip time for room code
   * (`room.rttOf(client)`, `relayedRoom({ host: 'rtt' })`); default 5,000 ms, 0 turns them off.
   */
  rttProbeMs?: number;
  frameLimits: FrameLimits;
  /** Per-client message size and rate limits (default DEFAULT_CLIENT_LIMITS). */
  limits?: ClientLimits;
  core: Partial<Omit<SessionCoreOptions, 'clock' | 'pingIntervalMs'>>;
}

export interface SessionManagerDeps {
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Redeems a seat token and seats the client in its room. */
  join(
    sessionId: string,
    seat: string,
    port: MemberPort,
    /** The session: the seat's identity becomes its identity (first one wins; another user is `forbidden`). */
    holder: { identity: Identity | undefined },
  ): Promise<Membership & { roomType: string }>;
  /** RPC requests, middleware, and session start/end for session data and pushes (see extensions.ts). */
  extensions?: SessionExtensionHooks;
  /** Where SIGNAL messages go (transport upgrades); absent: they are refused with `transport_unavailable`. */
  signaling?: SessionSignaling;
}

/** Owns every session of this node, keyed by secret token. */
export class SessionManager {
  private readonly sessions = new Map<string, ServerSession>();
  private readonly pendingLinks = new Set<Link>();
  private sweepTimer: TimerHandle | null = null;
  private closed = false;
  private draining = false;

  constructor(
    private readonly options: SessionManagerOptions,
    private readonly deps: SessionManagerDeps,
  ) {
    this.scheduleSweep();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Every session of this node that has not ended. */
  live(): IterableIterator<ServerSession> {
    return this.sessions.values();
  }

  /**
   * Attaches a link the client opened directly (WebTransport, presenting its session token) to its
   * live session as the upgraded link; the client then sends SWITCH on it. Refused (false, and the
   * caller closes the link) for an unknown or dropped session, one that already has an upgraded
   * link, or during shutdown. A link that sees no SWITCH within `switchTimeoutMs` is closed.
   */
  attachUpgraded(token: string, link: Link, switchTimeoutMs = 5_000): boolean {
    const session = this.sessions.get(token);
    if (this.draining || this.closed || !session || session.state !== 'live') return false;
    const { clock, metrics } = this.deps;
    let switched = false;
    const timer = clock.setTimeout(() => {
      if (!switched) link.close('upgrade_timeout', 'no SWITCH on the new link');
    }, switchTimeoutMs);
    const added = session.links.addUpgraded(link, {
      switched: () => {
        switched = true;
        clock.clearTimeout(timer);
        metrics.inc(`upgrades{${link.transport}}`);
      },
      closed: (info) => {
        clock.clearTimeout(timer);
        if (!info.local) metrics.inc('upgraded_links_lost');
      },
    });
    if (!added) clock.clearTimeout(timer);
    return added;
  }

  /** Shutdown has begun: refuse new links and new joins (`server_shutdown`); live sessions go on. */
  drain(): void {
    this.draining = true;
  }

  /** Takes a freshly opened link and waits for its HELLO. */
  accept(link: Link): void {
    const { clock, metrics } = this.deps;
    if (this.closed || this.draining) {
      if (link.isOpen) {
        link.send(
          'reliable',
          encodeFrame({ kind: FrameKind.Close, code: 'server_shutdown', reason: 'server is shutting down' }),
        );
      }
      link.close('server_shutdown', 'server is shutting down');
      return;
    }
    metrics.inc('links_accepted');
    this.pendingLinks.add(link);
    const timer = clock.setTimeout(
      () => this.refuse(link, 'handshake_timeout', 'no HELLO in time'),
      this.options.handshakeTimeoutMs,
    );
    let got = false;
    link.onclose = () => {
      clock.clearTimeout(timer);
      this.pendingLinks.delete(link);
    };
    link.onframe = (bytes) => {
      if (got) {
        this.refuse(link, 'handshake_required', 'frame before WELCOME');
        return;
      }
      got = true;
      clock.clearTimeout(timer);
      let hello: Hello;
      try {
        const frame = decodeFrame(bytes, this.options.frameLimits);
        if (frame.kind !== FrameKind.Hello)
          throw new NetloomError('handshake_required', 'first frame must be HELLO');
        if (frame.version !== WIRE_VERSION) {
          throw new NetloomError(
            'version_unsupported',
            `wire version ${frame.version} is not ${WIRE_VERSION}`,
          );
        }
        hello = frame;
      } catch (err) {
        const e = err instanceof NetloomError ? err : new NetloomError('handshake_invalid', String(err));
        this.refuse(link, e.code, e.message);
        return;
      }
      this.handshake(link, hello).catch((err: unknown) => {
        const e = err instanceof NetloomError ? err : new NetloomError('internal_error', 'handshake failed');
        if (e.code === 'internal_error') this.deps.log.error({ err }, 'handshake failed');
        this.refuse(link, e.code, e.message);
      });
    };
  }

  /** Ends every session and refuses new links. */
  close(): void {
    this.closed = true;
    if (this.sweepTimer !== null) this.deps.clock.clearTimeout(this.sweepTimer);
    for (const link of this.pendingLinks) link.close('server_shutdown', 'server is shutting down');
    for (const session of [...this.sessions.values()])
      session.end('server_shutdown', 'server is shutting down');
  }

  private async handshake(link: Link, hello: Hello): Promise<void> {
    if (hello.mode === 'resume') {
      const session = this.sessions.get(hello.sessionToken);
      if (!session || session.state === 'ended')
        throw new NetloomError('session_unknown', 'no such session to resume');
      if (!link.isOpen) return;
      this.pendingLinks.delete(link);
      this.deps.metrics.inc('sessions_resumed');
      link.send('reliable', this.welcome(session, true));
      try {
        session.attach(link, hello.lastReceived);
      } catch (err) {
        session.end('sequence_invalid', err instanceof Error ? err.message : 'bad resume');
      }
      return;
    }
    const id = randomBytes(9).toString('base64url');
    const token = randomBytes(24).toString('base64url');
    const ctx = {
      clock: this.deps.clock,
      log: this.deps.log.child({ sessionId: id }),
      metrics: this.deps.metrics,
      frameLimits: this.options.frameLimits,
      limits: this.options.limits,
      coreOptions: {
        ...this.options.core,
        // Clients ping (at the interval WELCOME gives them) and the server answers, which keeps the
        // idle timers fed. The server pings rarely, only to know each session's round-trip time.
        pingIntervalMs: this.options.rttProbeMs ?? 5_000,
        allocate: (size: number) => Buffer.allocUnsafe(size),
      },
      join: (s: ServerSession, seat: string, port: MemberPort) =>
        this.draining
          ? Promise.reject(new NetloomError('server_shutdown', 'server is shutting down'))
          : this.deps.join(s.id, seat, port, s),
      rpc: this.deps.extensions?.rpc,
      middleware: this.deps.extensions?.middleware,
      signaling: this.deps.signaling,
      ended: (s: ServerSession) => {
        this.sessions.delete(s.token);
        this.deps.extensions?.ended(s);
        this.deps.metrics.retireTraffic(s.core.stats());
        this.deps.metrics.inc('sessions_ended');
      },
    };
    const session = new ServerSession(id, token, ctx);
    // The seat is redeemed before the session is registered: a link without a valid seat gets no session.
    let membership: Membership & { roomType: string };
    try {
      membership = await this.deps.join(id, hello.seat, session.port(hello.handle), session);
    } catch (err) {
      session.core.dispose();
      throw err;
    }
    if (!link.isOpen) {
      membership.room.leave(membership.clientId, 'session_ended');
      session.core.dispose();
      return;
    }
    this.pendingLinks.delete(link);
    this.sessions.set(token, session);
    this.deps.extensions?.opened(session);
    this.deps.metrics.inc('sessions_created');
    link.send('reliable', this.welcome(session, false));
    session.adopt(hello.handle, membership);
    session.attach(link, 0);
  }

  private welcome(session: ServerSession, resumed: boolean): Uint8Array {
    return encodeFrame({
      kind: FrameKind.Welcome,
      sessionId: session.id,
      sessionToken: session.token,
      lastReceived: session.core.lastReceived,
      resumed,
      pingIntervalMs: this.options.pingIntervalMs,
      idleTimeoutMs: this.options.idleTimeoutMs,
    });
  }

  private refuse(link: Link, code: NetloomError['code'], reason: string): void {
    this.deps.metrics.error(code);
    this.pendingLinks.delete(link);
    if (!link.isOpen) return;
    link.send('reliable', encodeFrame({ kind: FrameKind.Close, code, reason }));
    link.close(code, reason);
  }

  private scheduleSweep(): void {
    const every = Math.max(250, Math.floor(this.options.idleTimeoutMs / 4));
    this.sweepTimer = this.deps.clock.setTimeout(() => {
      const now = this.deps.clock.now();
      for (const s of this.sessions.values()) {
        s.checkIdle(now, this.options.idleTimeoutMs);
        s.checkEmpty(now, this.options.emptySessionMs);
      }
      if (!this.closed) this.scheduleSweep();
    }, every);
  }
}
