// ServerConnection: the client's session with one server node — handshake, room handles, resume after link loss, transport upgrade.
import { type ErrorCode, NetloomError } from '../codec/errors.js';
import {
  DEFAULT_FRAME_LIMITS,
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameKind,
  type Message,
  MessageKind,
  type PeerMessage,
  type Welcome,
  WIRE_VERSION,
} from '../codec/frames.js';
import type { Link, TransportName } from '../link/link.js';
import { SessionCore, type SessionStats } from '../session/core.js';
import { SessionLinks } from '../session/links.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { SERVER_PEER } from '../signaling/hub.js';
import { encodeSignal, type IceServer, parseSignal } from '../signaling/messages.js';
import { resumeSession } from './connection-resume.js';
import type { ConnectionOptions, RoomBinding, SessionMessage, TransportChange } from './connection-types.js';
import { deliverRoomMessage, dispatchSessionMessage } from './dispatch.js';
import { asNetloomError, handshake } from './handshake.js';
import { type UpgradeEvent, Upgrader } from './upgrade.js';

export type {
  ConnectionOptions,
  ReconnectOptions,
  RoomBinding,
  SessionMessage,
  TransportChange,
} from './connection-types.js';

type State = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The client end of one session; carries any number of room memberships. */
export class ServerConnection {
  private state: State = 'idle';
  private readonly core: SessionCore;
  private readonly links: SessionLinks;
  private readonly upgrader: Upgrader | null;
  private reported: TransportName | null = null;
  private token = '';
  private idleTimeoutMs = 5_000;
  private idleTimer: TimerHandle | null = null;
  private nextHandle = 1;
  private readonly bindings = new Map<number, RoomBinding>();
  private opening: Promise<void> | null = null;
  /** Receives session-level messages (RPC responses, notices, pushes); see also `onSessionMessage`. */
  onsession: ((message: SessionMessage) => void) | null = null;
  private readonly sessionHandlers = new Map<number, Array<(message: SessionMessage) => void>>();
  /** Called when the connection has no rooms left and closed itself. */
  onempty: (() => void) | null = null;
  /** Called on every change of transport (after SWITCH_ACK for an upgrade, at once for a fallback). */
  ontransport: ((change: TransportChange) => void) | null = null;
  /** Called with what each upgrade attempt came to (upgraded, failed or lost, and when it is retried). */
  onupgrade: ((event: UpgradeEvent) => void) | null = null;

  constructor(private readonly options: ConnectionOptions) {
    this.core = new SessionCore({ ...options.core, clock: options.clock });
    this.core.onmessage = (message, reliable) => this.onMessage(message, reliable);
    this.core.onfatal = (error) => this.fail(error.code, error.message);
    this.links = new SessionLinks(this.core, options.clock, {
      frame: (bytes, link) => this.onFrame(bytes, link),
      baseLost: (info) => this.lost(info.code),
      invalid: (message) => this.fail('sequence_invalid', message),
      primary: (link) => {
        if (link === this.links.base) this.setTransport(link.transport);
      },
    });
    const up = options.upgrade;
    this.upgrader = up
      ? new Upgrader(
          {
            clock: options.clock,
            random: options.random,
            signal: (message) =>
              this.state === 'open' &&
              this.core.sendMessage(
                { kind: MessageKind.Signal, peer: SERVER_PEER, payload: encodeSignal(message) },
                true,
              ),
            adopt: (link, hooks) => {
              if (this.state !== 'open' || !this.links.addUpgraded(link, hooks)) return false;
              return this.links.switchToUpgraded();
            },
            report: (event) => {
              if (event.type === 'upgraded') this.setTransport(event.transport);
              this.onupgrade?.(event);
            },
            sessionToken: () => this.token,
          },
          up.transport,
          up.iceServers,
          up.options,
        )
      : null;
    this.onSessionMessage(MessageKind.Signal, (message) => {
      if (message.peer !== SERVER_PEER || !this.upgrader) return;
      try {
        this.upgrader.signal(parseSignal(message.payload));
      } catch {
        // a malformed signal from the server is ignored: the upgrade times out and is retried
      }
    });
  }

  /**
   * Adds a handler for session-level messages of one kind (e.g. `MessageKind.Notice`); any number of
   * handlers per kind, so RPC, pushes and notices each plug in. Returns a function that removes it.
   */
  onSessionMessage<K extends SessionMessage['kind']>(
    kind: K,
    fn: (message: Extract<SessionMessage, { kind: K }>) => void,
  ): () => void {
    const list = this.sessionHandlers.get(kind) ?? [];
    const handler = fn as (message: SessionMessage) => void;
    list.push(handler);
    this.sessionHandlers.set(kind, list);
    return () => {
      const at = list.indexOf(handler);
      if (at >= 0) list.splice(at, 1);
    };
  }

  /** The transport carrying the session (null before it opens and while it resumes). */
  get transport(): TransportName | null {
    return this.reported;
  }

  /** Where the transport upgrade stands: `idle`, `waiting` (to retry), `offering`, `switching` or `active`. */
  get upgradeState(): string {
    return this.upgrader?.state ?? 'idle';
  }

  /** True while session-level messages can be sent: the session is open, or resuming after a link loss. */
  get usable(): boolean {
    return this.state === 'open' || this.state === 'reconnecting';
  }

  /** Sends an RPC request reliably (buffered across a resume); false when the session is not usable. */
  sendSession(message: Extract<Message, { kind: typeof MessageKind.RpcRequest }>): boolean {
    if (!this.usable) return false;
    return this.core.sendMessage(message, true);
  }

  stats(): SessionStats {
    return this.core.stats();
  }

  /** Joins the room behind `seat`; the binding hears about it. Rejects on join failure. */
  join(seat: string, binding: RoomBinding): number {
    if (this.state === 'closed') throw new NetloomError('link_closed', 'connection is closed');
    const handle = this.nextHandle++;
    this.bindings.set(handle, binding);
    if (this.state === 'idle') {
      this.opening = this.open(handle, seat);
      this.opening.catch((err: unknown) => {
        const e = asNetloomError(err);
        this.bindings.delete(handle);
        binding.joinFailed(e);
        this.endRooms(e.code, e.message);
        this.shutdown();
      });
    } else {
      const send = () => this.core.sendMessage({ kind: MessageKind.Join, handle, seat }, true);
      if (this.opening && this.state === 'connecting') this.opening.then(send, () => undefined);
      else send();
    }
    return handle;
  }

  sendRoom(handle: number, reliable: boolean, op: number, payload: Uint8Array): boolean {
    if (this.state === 'closed' || !this.bindings.has(handle)) return false;
    return this.core.sendRoom(reliable, handle, op, payload);
  }

  /** Sends peer traffic (a PEER frame, or a SIGNAL to a member); false when the session is closed or it was dropped. */
  sendPeer(
    message: PeerMessage | Extract<Message, { kind: typeof MessageKind.Signal }>,
    reliable: boolean,
  ): boolean {
    if (this.state === 'closed') return false;
    return this.core.sendMessage(message, reliable);
  }

  /** The clock, and the RTCPeerConnection and ICE servers for peer-to-peer links (see ConnectionOptions.peers). */
  get peerContext(): { clock: Clock; RTCPeerConnection?: unknown; iceServers: IceServer[] } {
    return { iceServers: [], ...this.options.peers, clock: this.options.clock };
  }

  /** Leaves one room (consented); the server answers LEFT. */
  leave(handle: number): void {
    if (!this.bindings.has(handle) || this.state === 'closed') return;
    this.core.sendMessage({ kind: MessageKind.Leave, handle }, true);
  }

  /** Ends the session now (consented): every room leaves with code `normal`. */
  close(): void {
    if (this.state === 'closed') return;
    this.links.sendControl(encodeFrame({ kind: FrameKind.Close, code: 'normal', reason: 'client closed' }));
    this.endRooms('normal', 'client closed');
    this.shutdown();
  }

  private async open(handle: number, seat: string): Promise<void> {
    this.state = 'connecting';
    const link = await this.options.connect();
    const hello = encodeFrame({ kind: FrameKind.Hello, version: WIRE_VERSION, mode: 'new', handle, seat });
    await handshake(link, hello, this.options, (welcome) => {
      this.token = welcome.sessionToken;
      this.use(link, welcome);
    });
  }

  private use(link: Link, welcome: Welcome): void {
    this.idleTimeoutMs = welcome.idleTimeoutMs;
    // The server says how often to ping, unless the app chose an interval itself.
    if (this.options.core.pingIntervalMs === undefined) this.core.setPingInterval(welcome.pingIntervalMs);
    this.state = 'open';
    this.links.setBase(link);
    this.core.attach(link, welcome.lastReceived);
    this.setTransport(link.transport);
    this.scheduleIdleCheck();
    this.upgrader?.start();
  }

  private setTransport(transport: TransportName): void {
    const previous = this.reported;
    if (previous === transport) return;
    this.reported = transport;
    const change = { transport, previous };
    this.ontransport?.(change);
    for (const b of [...this.bindings.values()]) b.transport?.(change);
  }

  private onFrame(bytes: Uint8Array, link: Link): void {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, DEFAULT_FRAME_LIMITS);
    } catch (err) {
      const e = asNetloomError(err);
      this.fail(e.code, e.message);
      return;
    }
    if (frame.kind === FrameKind.Close) {
      this.endRooms(frame.code, frame.reason);
      this.shutdown();
      return;
    }
    if (frame.kind === FrameKind.Hello || frame.kind === FrameKind.Welcome) {
      this.fail('handshake_invalid', 'handshake frame on an open session');
      return;
    }
    if (frame.kind === FrameKind.Switch || frame.kind === FrameKind.SwitchAck) {
      this.links.switchFrame(frame, link);
      return;
    }
    this.core.receive(frame, bytes.length);
  }

  private onMessage(message: Message, reliable: boolean): void {
    if (!('handle' in message)) {
      dispatchSessionMessage(this.sessionHandlers.get(message.kind), message);
      if (this.onsession) this.onsession(message);
      return;
    }
    const binding = this.bindings.get(message.handle);
    if (!binding) return;
    const forget = () => this.bindings.delete(message.handle);
    const outcome = deliverRoomMessage(binding, message, reliable, forget);
    if (outcome === 'ended') {
      this.closeIfEmpty();
    } else if (outcome === 'unexpected') {
      this.fail('frame_malformed', 'message kind not expected from a server');
    }
  }

  /** The link died: resume the session on a new link, with backoff, within the window. */
  private lost(code: string): void {
    if (this.state !== 'open') return;
    this.state = 'reconnecting';
    this.core.detach();
    this.clearIdle();
    this.upgrader?.stop();
    this.links.closeAll('link_closed', 'link lost');
    this.reported = null;
    void this.resume(code);
  }

  /** Resumes the session on a new link (see connection-resume.ts); the rooms hear of each attempt. */
  private resume(code: string): Promise<void> {
    return resumeSession(
      {
        options: this.options,
        bindings: this.bindings,
        resuming: () => this.state === 'reconnecting',
        sessionToken: () => this.token,
        lastReceived: () => this.core.lastReceived,
        use: (link, welcome) => this.use(link, welcome),
        end: (code, reason) => {
          this.endRooms(code, reason);
          this.shutdown();
        },
        shutdown: () => this.shutdown(),
      },
      code,
    );
  }

  private scheduleIdleCheck(): void {
    this.clearIdle();
    const every = Math.max(100, this.idleTimeoutMs / 4);
    this.idleTimer = this.options.clock.setTimeout(() => {
      this.idleTimer = null;
      if (this.state !== 'open') return;
      if (this.links.checkIdle(this.options.clock.now(), this.idleTimeoutMs)) this.lost('idle_timeout');
      else this.scheduleIdleCheck();
    }, every);
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) this.options.clock.clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private fail(code: ErrorCode, reason: string): void {
    this.links.sendControl(encodeFrame({ kind: FrameKind.Close, code, reason }));
    this.endRooms(code, reason);
    this.shutdown();
  }

  private endRooms(code: string, reason: string): void {
    const bindings = [...this.bindings.values()];
    this.bindings.clear();
    for (const b of bindings) b.left(code, reason);
  }

  private closeIfEmpty(): void {
    if (this.bindings.size > 0 || this.state === 'closed') return;
    this.close();
  }

  private shutdown(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearIdle();
    this.upgrader?.stop();
    this.core.dispose();
    this.links.closeAll('normal', 'session over');
    this.onempty?.();
  }
}
