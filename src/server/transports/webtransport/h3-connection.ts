// One HTTP/3 connection for WebTransport, server or client role: control and QPACK streams, SETTINGS, extended CONNECT, sessions.
import { NetloomError, toNetloomError } from '../../../codec/errors.js';
import { definedOnly } from '../../../shared/options.js';
import { connectRequestFields, connectResponseFrame, decodeConnect } from './connect-request.js';
import { encodeFrame, FRAME_GOAWAY, FRAME_HEADERS, FRAME_SETTINGS } from './h3-frames.js';
import {
  H3_CODES,
  H3_NO_ERROR,
  type H3CloseInfo,
  type H3ConnectionOptions,
  type H3Stats,
} from './h3-options.js';
import {
  type Route,
  type RouteHost,
  requestRoute,
  responseRoute,
  STREAM_CONTROL,
  STREAM_QPACK_DECODER,
  STREAM_QPACK_ENCODER,
  serverBidiRoute,
  uniRoute,
} from './h3-routes.js';
import { H3Streams } from './h3-streams.js';
import { DEFAULT_MAX_HEADER_LIST_BYTES, encodeFieldSection } from './qpack.js';
import type { QuicConnection } from './quic.js';
import { encodeOurSettings, type H3Settings } from './settings.js';
import type { StreamWriter } from './stream-writer.js';
import { encodeVarints, readVarint, varintLengthOf } from './varint.js';
import {
  DEFAULT_SESSION_LIMITS,
  type SessionHost,
  WtSession,
  type WtSessionLimits,
  type WtStream,
} from './wt-session.js';

export type { H3CloseInfo, H3ConnectionOptions, H3Stats } from './h3-options.js';

/**
 * HTTP/3 over one QUIC connection, as far as WebTransport needs it. The server role answers extended
 * CONNECT requests (path and origin checks) and hands each accepted session to `onsession`; the client role
 * opens sessions with `connect`. Protocol violations close the connection with the HTTP/3 error code and a
 * NetloomError in `error`; bad requests get a 4xx and never a crash.
 */
export class H3Connection implements SessionHost, RouteHost {
  onsession: ((session: WtSession) => void) | null = null;
  onrefused: ((status: number, reason: string) => void) | null = null;
  onclose: ((info: H3CloseInfo) => void) | null = null;
  peerSettings: H3Settings | null = null;
  /** The error that ended the connection, if one did. */
  error: NetloomError | null = null;
  closed = false;
  readonly stats: H3Stats = { sessionsOpened: 0, requestsRefused: 0, datagramsDropped: 0, streamsRefused: 0 };
  readonly sessions = new Map<number, WtSession>();
  /** The session the last datagram went to (see `datagram`). */
  private lastDatagramSession: WtSession | undefined = undefined;

  /** @internal Routes of the streams in use (the same Map as `streams.routes`). */
  readonly routes: Map<number, Route>;
  private readonly streams: H3Streams;
  private readonly idleCloseMs: number;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly control: StreamWriter;
  private readonly criticalSeen = new Set<string>();
  private goingAway = false;
  private lastRequestId = -1;
  private readonly settingsWaiters: Array<{ resolve: () => void; reject: (err: NetloomError) => void }> = [];
  readonly maxHeaderListBytes: number;
  readonly maxFrameBytes: number;
  private readonly maxSessions: number;
  private readonly sessionLimits: WtSessionLimits;

  constructor(
    readonly quic: QuicConnection,
    private readonly options: H3ConnectionOptions = {},
  ) {
    this.maxHeaderListBytes = options.maxHeaderListBytes ?? DEFAULT_MAX_HEADER_LIST_BYTES;
    this.maxFrameBytes = options.maxFrameBytes ?? 16_384;
    this.maxSessions = options.maxSessions ?? 16;
    this.idleCloseMs = options.idleCloseMs ?? 1_000;
    this.streams = new H3Streams(
      quic,
      this.stats,
      (err) => this.fail(err),
      options.maxPendingStreams ?? 16,
      options.maxPendingBytes ?? 256 * 1024,
    );
    this.routes = this.streams.routes;
    this.sessionLimits = { ...DEFAULT_SESSION_LIMITS, ...definedOnly(options.session ?? {}) };
    quic.onstreamdata = (id, data, fin) => this.guard(() => this.streamData(id, data, fin));
    quic.onstreamwritable = (id) => this.guard(() => this.streams.writers.get(id)?.flush());
    quic.onstreamreset = (id, code) => this.guard(() => this.routes.get(id)?.reset(code));
    // Datagrams are the hot path (a game's every input): no closure per call, unlike the guard() above.
    quic.ondatagram = (data) => {
      if (this.closed) return;
      try {
        this.datagram(data);
      } catch (err) {
        this.fail(toNetloomError(err));
      }
    };
    quic.onclose = (info) =>
      this.finish({
        code: info.code === H3_NO_ERROR || info.code === 0 ? 'normal' : 'link_closed',
        reason: info.reason,
        local: info.local,
      });
    this.control = this.streams.openUni(STREAM_CONTROL);
    this.control.write(
      encodeFrame(FRAME_SETTINGS, encodeOurSettings(this.maxSessions, this.maxHeaderListBytes)),
    );
    this.streams.openUni(STREAM_QPACK_ENCODER);
    this.streams.openUni(STREAM_QPACK_DECODER);
  }

  get isClient(): boolean {
    return this.quic.isClient;
  }

  /** Client: opens a WebTransport session. Rejects with `wt_session_refused` (status in the message) or the connection's error. */
  async connect(authority: string, path: string, origin?: string): Promise<WtSession> {
    await this.settingsArrived();
    const settings = this.peerSettings!;
    if (!settings.enableWebTransport || !settings.h3Datagram)
      throw new NetloomError('wt_session_refused', 'server does not offer WebTransport with HTTP datagrams');
    if (this.goingAway) throw new NetloomError('wt_session_refused', 'server sent GOAWAY');
    return new Promise<WtSession>((resolve, reject) => {
      const id = this.quic.openStream(true);
      const writer = this.streams.writer(id);
      const request = { authority, path, origin, headers: connectRequestFields(authority, path, origin) };
      const refuse = (err: NetloomError) => {
        this.waiterRejects.delete(refuse);
        reject(err);
      };
      this.waiterRejects.add(refuse);
      const respond = (status: number): WtSession | null => {
        this.waiterRejects.delete(refuse);
        if (status !== 200) {
          writer.abandon();
          reject(new NetloomError('wt_session_refused', `server answered ${status}`));
          return null;
        }
        const session = new WtSession(id, request, this, writer, this.sessionLimits);
        this.addSession(session);
        resolve(session);
        return session;
      };
      this.routes.set(id, responseRoute(this, id, respond, refuse));
      writer.write(encodeFrame(FRAME_HEADERS, encodeFieldSection(request.headers)));
    });
  }

  private readonly waiterRejects = new Set<(err: NetloomError) => void>();

  /** Sends GOAWAY: no new sessions are accepted (server) or opened (client); open ones continue. */
  goaway(): void {
    if (this.goingAway || this.closed) return;
    this.goingAway = true;
    const id = this.isClient ? 0 : this.lastRequestId + 4;
    this.control.write(encodeFrame(FRAME_GOAWAY, encodeVarints(Math.max(0, id))));
  }

  /** Closes every session and the connection (GOAWAY first on a server). */
  close(reason = ''): void {
    if (this.closed) return;
    this.goaway();
    for (const session of [...this.sessions.values()]) session.close(0, reason);
    this.quic.close(H3_NO_ERROR, reason);
    this.finish({ code: 'normal', reason, local: true });
  }

  // SessionHost

  openSessionStream(session: WtSession, bidirectional: boolean): WtStream {
    return this.streams.openSessionStream(session, bidirectional);
  }

  sessionEnded(session: WtSession): void {
    this.sessions.delete(session.id);
    if (this.lastDatagramSession === session) this.lastDatagramSession = undefined;
    for (const stream of session.streams.values()) this.forgetStream(stream.id, stream.readableEnded);
    this.scheduleIdleClose();
  }

  /** Server: browsers keep the connection after a session ends or is refused; close it once nothing uses it. */
  private scheduleIdleClose(): void {
    if (this.sessions.size > 0 || this.isClient || this.closed || this.idleCloseMs <= 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.sessions.size === 0) this.close('no session left');
    }, this.idleCloseMs);
    this.idleTimer.unref?.();
  }

  /** Drops a stream's route and writer; a stream the peer may still send on keeps a route that discards. */
  forgetStream(id: number, readableEnded: boolean): void {
    this.streams.forget(id, readableEnded);
  }

  // RouteHost

  /** @internal */
  settingsReceived(settings: H3Settings): void {
    this.peerSettings = settings;
    for (const waiter of this.settingsWaiters.splice(0)) waiter.resolve();
  }

  /** @internal */
  goawayReceived(): void {
    this.goingAway = true;
  }

  /** @internal */
  claimCriticalStream(name: string): void {
    if (this.criticalSeen.has(name)) throw new NetloomError('h3_stream_error', `second ${name} stream`);
    this.criticalSeen.add(name);
  }

  // Internals

  private guard(run: () => void): void {
    if (this.closed) return;
    try {
      run();
    } catch (err) {
      this.fail(toNetloomError(err));
    }
  }

  /** Ends the connection for a protocol error found here. */
  private fail(err: NetloomError): void {
    if (this.closed) return;
    this.error = err;
    try {
      this.quic.close(H3_CODES[err.code] ?? 0x102, err.message.slice(0, 200));
    } catch {
      // already closed
    }
    this.finish({ code: err.code, reason: err.message, local: true });
  }

  private finish(info: H3CloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const session of [...this.sessions.values()])
      session.terminate(info.reason || 'connection closed', info.local);
    this.streams.clear();
    const err = this.error ?? new NetloomError('link_closed', `connection closed: ${info.reason}`);
    for (const waiter of this.settingsWaiters.splice(0)) waiter.reject(err);
    for (const reject of [...this.waiterRejects]) reject(err);
    this.waiterRejects.clear();
    this.onclose?.(info);
  }

  private settingsArrived(): Promise<void> {
    if (this.peerSettings) return Promise.resolve();
    if (this.closed)
      return Promise.reject(this.error ?? new NetloomError('link_closed', 'connection closed'));
    return new Promise((resolve, reject) => this.settingsWaiters.push({ resolve, reject }));
  }

  private addSession(session: WtSession): void {
    clearTimeout(this.idleTimer);
    this.sessions.set(session.id, session);
    this.stats.sessionsOpened++;
    this.streams.release(session.id, session);
  }

  private datagram(data: Uint8Array): void {
    const quarter = readVarint(data, 0, data.length);
    // A connection nearly always carries one session: remember the last one found.
    let session = this.lastDatagramSession;
    if (session === undefined || session.id !== quarter * 4 || session.closed) {
      session = quarter < 0 ? undefined : this.sessions.get(quarter * 4);
      this.lastDatagramSession = session;
    }
    if (!session) {
      this.stats.datagramsDropped++;
      return;
    }
    session.receiveDatagram(data.subarray(varintLengthOf(data[0])));
  }

  private streamData(id: number, data: Uint8Array, fin: boolean): void {
    let route = this.routes.get(id);
    if (!route) {
      const kind = id % 4;
      const fromPeer = this.isClient ? kind === 1 || kind === 3 : kind === 0 || kind === 2;
      if (!fromPeer) return; // a local stream we already finished with
      route =
        kind >= 2 ? uniRoute(this, id) : this.isClient ? serverBidiRoute(this, id) : requestRoute(this, id);
      this.routes.set(id, route);
    }
    route.data(data, fin);
  }

  /** @internal Routes the rest of a WebTransport stream (header read) to its session, or holds it until the session exists. */
  attachWtStream(
    streamId: number,
    bidirectional: boolean,
    sessionId: number,
  ): (data: Uint8Array, fin: boolean) => void {
    const session = this.sessions.get(sessionId);
    if (session) return this.streams.accept(session, streamId, bidirectional);
    const possible =
      sessionId % 4 === 0 &&
      (this.isClient ? this.streams.writers.has(sessionId) : sessionId > this.lastRequestId);
    return possible
      ? this.streams.hold(sessionId, streamId, bidirectional)
      : this.streams.refuse(streamId, bidirectional);
  }

  /** Decodes and checks a CONNECT request; answers it; returns the new session or null. */
  /** @internal */
  handleRequest(id: number, block: Uint8Array): WtSession | null {
    this.lastRequestId = Math.max(this.lastRequestId, id);
    const writer = this.streams.writer(id);
    const refuse = (status: number, reason: string): null => {
      this.stats.requestsRefused++;
      writer.write(connectResponseFrame(status), true);
      if (writer.finished) this.streams.writers.delete(id);
      this.streams.release(id, null);
      this.scheduleIdleClose();
      this.onrefused?.(status, reason);
      return null;
    };
    if (this.goingAway) return refuse(503, 'going away');
    const check = decodeConnect(block, this.maxHeaderListBytes, this.options);
    if (!check.ok) return refuse(check.status, check.reason);
    if (this.sessions.size >= this.maxSessions) return refuse(429, 'too many sessions');
    writer.write(connectResponseFrame(200));
    const session = new WtSession(id, check.request, this, writer, this.sessionLimits);
    this.addSession(session);
    this.onsession?.(session);
    return session;
  }
}
