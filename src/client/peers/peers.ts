// RoomPeers (client side): `room.peers` — typed messages to other members over direct links or the relay, the peer list and its events.
import { isErrorCode, NetloomError } from '../../codec/errors.js';
import { type PeerMessage, PeerPart, type PresenceMember } from '../../codec/frames.js';
import type { PeerMessages } from '../../codec/protocol.js';
import type { TransportName } from '../../link/link.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import { Emitter } from '../../shared/emitter.js';
import { type IceServer, parseSignal, type SignalMessage } from '../../signaling/messages.js';
import type { PeerConnectionConstructor } from './direct.js';
import { PeerPair } from './pair.js';
import { type PeerSetup, parsePeerSetup } from './setup.js';
import type { AnyPeerProtocol, PeerInfo, PeerLifecycleEvents, PeerSendOptions } from './types.js';

/** What `room.peers` needs from its room and connection. */
export interface RoomPeersHost {
  clock: Clock;
  /** Sends a PEER frame message (to member `peer`) on the session; false when it was not sent. */
  sendFrame(peer: string, frame: Uint8Array, reliable: boolean): boolean;
  /** Sends a SIGNAL to member `peer`. */
  sendSignal(peer: string, message: SignalMessage): void;
  /** Runs `emit` now, or after JOINED while joining (so that listeners added after the join see it). */
  defer(emit: () => void): void;
  /** The RTCPeerConnection to use and the ICE servers of the join ticket (none: host candidates only). */
  rtc(): { RTCPeerConnection?: unknown; iceServers: IceServer[] };
  transport(): TransportName | null;
}

type MessageListener = (message: unknown, from: string) => void;

/**
 * The peers of one room membership. In a room with `peers` on, the server sends a set-up (who this
 * member is, which peers to link directly, the allowed types); every other member is a peer reachable
 * at once through the relay, and over a direct datachannel link once it is up. Peers are the room's
 * members (presence) other than this client; peer ids are their client ids.
 */
export class RoomPeers<P = unknown> {
  private readonly events = new Emitter<PeerLifecycleEvents>();
  private readonly listeners = new Map<string, Set<MessageListener>>();
  private readonly pairs = new Map<string, PeerPair>();
  private readonly members = new Map<string, string>();
  private readonly announced = new Set<string>();
  private setupValue: PeerSetup | null = null;
  private allowed = new Set<number>();
  private direct = new Set<string>();
  private idleTimer: TimerHandle | null = null;
  private closed = false;
  private readonly protocol: AnyPeerProtocol;

  /** @internal Created by Room. */
  constructor(
    protocol: unknown,
    private readonly host: RoomPeersHost,
  ) {
    this.protocol = protocol as AnyPeerProtocol;
  }

  /** True once the server said this room has peer traffic on. */
  get enabled(): boolean {
    return this.setupValue !== null && !this.closed;
  }

  /** This member's id (its client id in the room), '' until peers are set up. */
  get self(): string {
    return this.setupValue?.self ?? '';
  }

  /** The other members, with the path to each. */
  list(): PeerInfo[] {
    const out: PeerInfo[] = [];
    if (!this.enabled) return out;
    for (const [id, userId] of this.members) {
      if (id === this.self) continue;
      const pair = this.pairs.get(id);
      out.push({ id, userId, path: pair?.path ?? 'relay', rtt: pair?.rtt ?? 0 });
    }
    return out;
  }

  on<K extends keyof PeerLifecycleEvents>(
    type: K,
    listener: (event: PeerLifecycleEvents[K]) => void,
  ): () => void;
  on<K extends keyof PeerMessages<P> & string>(
    type: K,
    listener: (message: PeerMessages<P>[K], from: string) => void,
  ): () => void;
  on(type: string, listener: (event: never, from: string) => void): () => void {
    if (isLifecycle(type)) return this.events.on(type, listener as (event: unknown) => void);
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener as MessageListener);
    return () => set.delete(listener as MessageListener);
  }

  off(type: string, listener: (event: never, from: string) => void): void {
    if (isLifecycle(type)) this.events.off(type, listener as (event: unknown) => void);
    else this.listeners.get(type)?.delete(listener as MessageListener);
  }

  /**
   * Sends a peer message to one peer: over its direct link when up, otherwise through the server. Returns
   * false when not sent (unknown peer, unreliable while congested). Throws `peers_disabled` in a room
   * without peers, `peer_type_refused` for a type the room does not allow, `encode_invalid` for a value
   * that does not fit the schema, `message_too_large` for a payload over the relay's limit.
   */
  send<K extends keyof PeerMessages<P> & string>(
    peerId: string,
    type: K,
    message: PeerMessages<P>[K],
    options?: PeerSendOptions,
  ): boolean {
    const { op, payload } = this.encode(type, message);
    const pair = peerId === this.self ? undefined : this.pairFor(peerId, false);
    return pair?.send(op, payload, options?.reliable ?? true) ?? false;
  }

  /** Sends a peer message to every peer (encoded once); returns how many took it. */
  broadcast<K extends keyof PeerMessages<P> & string>(
    type: K,
    message: PeerMessages<P>[K],
    options?: PeerSendOptions,
  ): number {
    const { op, payload } = this.encode(type, message);
    let sent = 0;
    for (const id of this.members.keys()) {
      if (id === this.self) continue;
      if (this.pairFor(id, false)?.send(op, payload, options?.reliable ?? true)) sent++;
    }
    return sent;
  }

  // ---- @internal: what the room hands over ----

  /** @internal A PEER message for this membership. */
  message(message: PeerMessage, reliable: boolean): void {
    if (this.closed) return;
    switch (message.part) {
      case PeerPart.Setup:
        this.applySetup(message.setup);
        return;
      case PeerPart.Frame:
        this.pairFor(message.peer, true)?.fromRelay(message.frame, reliable);
        return;
      default:
        this.error(message.peer, message.code, message.reason);
    }
  }

  /** @internal Presence of the room changed. */
  presence(joins: PresenceMember[], leaves: string[]): void {
    if (this.closed) return;
    for (const m of joins) this.members.set(m.clientId, m.userId);
    for (const id of leaves) {
      this.members.delete(id);
      this.pairs.get(id)?.dispose();
      this.pairs.delete(id);
      if (this.announced.delete(id)) this.host.defer(() => this.events.emit('peer-leave', { id }));
    }
    this.announce();
  }

  /** @internal A SIGNAL from member `from`; false when it is not a peer of this room. */
  signal(from: string, payload: string): boolean {
    if (this.closed || !this.enabled || !(this.members.has(from) || this.direct.has(from))) return false;
    let message: SignalMessage;
    try {
      message = parseSignal(payload);
    } catch {
      return true; // the server checked it; a mismatch is dropped
    }
    this.pairFor(from, true)?.signal(message);
    return true;
  }

  /** @internal The membership ended: every pair closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer !== null) this.host.clock.clearTimeout(this.idleTimer);
    for (const pair of this.pairs.values()) pair.dispose();
    this.pairs.clear();
  }

  private encode(type: string, message: unknown): { op: number; payload: Uint8Array } {
    const setup = this.setupValue;
    if (!setup || this.closed) throw new NetloomError('peers_disabled', 'this room has no peer traffic');
    const peer = this.protocol.peer;
    if (!peer?.has(type)) throw new NetloomError('peer_type_refused', `no peer message named "${type}"`);
    const encoded = peer.encode(type, message);
    if (!this.allowed.has(encoded.op))
      throw new NetloomError('peer_type_refused', `the room does not allow peer message "${type}"`);
    if (encoded.payload.length > setup.maxPayloadBytes)
      throw new NetloomError('message_too_large', `peer message of ${encoded.payload.length} bytes`);
    return encoded;
  }

  private applySetup(text: string): void {
    let setup: PeerSetup;
    try {
      setup = parsePeerSetup(text);
    } catch (err) {
      this.error('', 'payload_invalid', err instanceof Error ? err.message : String(err));
      return;
    }
    this.setupValue = setup;
    this.allowed = new Set(setup.types);
    this.direct = new Set(setup.direct);
    for (const id of setup.direct) this.pairFor(id, true);
    for (const pair of this.pairs.values()) pair.setDirect(this.direct.has(pair.id), this.timings());
    this.announce();
    this.scheduleIdle();
  }

  /** Emits `peer-join` for members not yet announced (once peers are set up). */
  private announce(): void {
    if (!this.enabled) return;
    for (const [id, userId] of this.members) {
      if (id === this.self || this.announced.has(id)) continue;
      this.announced.add(id);
      this.host.defer(() => this.events.emit('peer-join', { id, userId }));
    }
  }

  /** The pair with `id`, made on first use; `vouched` when the server named it (set-up, relayed frame, signal). */
  private pairFor(id: string, vouched: boolean): PeerPair | null {
    const existing = this.pairs.get(id);
    if (existing) return existing;
    const setup = this.setupValue;
    if (!setup || this.closed || id === setup.self || id.length === 0) return null;
    if (!vouched && !this.members.has(id)) return null;
    const host = this.host;
    const pair: PeerPair = new PeerPair(
      id,
      setup.self < id,
      {
        clock: host.clock,
        relay: (frame, reliable) => host.sendFrame(id, frame, reliable),
        signal: (message) => host.sendSignal(id, message),
        deliver: (op, payload) => this.deliver(id, op, payload),
        skipped: (code, reason) => this.error(id, code, reason),
        path: (path, previous) => host.defer(() => this.events.emit('peer-link', { id, path, previous })),
        fatal: (error) => {
          this.error(id, error.code, error.message);
          if (this.pairs.get(id) === pair) this.pairs.delete(id);
          pair.dispose();
        },
        direct: () => this.directOptions(),
        get transport() {
          return host.transport() ?? 'websocket';
        },
      },
      this.timings(),
    );
    this.pairs.set(id, pair);
    pair.setDirect(this.direct.has(id), this.timings());
    return pair;
  }

  private timings() {
    const s = this.setupValue;
    return {
      pingIntervalMs: s?.pingIntervalMs ?? 250,
      idleTimeoutMs: s?.idleTimeoutMs ?? 700,
      connectTimeoutMs: s?.connectTimeoutMs ?? 10_000,
    };
  }

  private directOptions() {
    const rtc = this.host.rtc();
    const Ctor = (rtc.RTCPeerConnection ??
      (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection) as
      | PeerConnectionConstructor
      | undefined;
    if (typeof Ctor !== 'function') return null;
    return { RTCPeerConnection: Ctor, iceServers: this.setupValue?.iceServers ?? rtc.iceServers };
  }

  private deliver(from: string, op: number, payload: Uint8Array): void {
    const peer = this.protocol.peer;
    if (!peer || !this.allowed.has(op)) {
      this.error(from, 'peer_type_refused', `peer op ${op} is not allowed in this room`);
      return;
    }
    let decoded: { name: string; value: unknown };
    try {
      decoded = peer.decode(op, payload);
    } catch (err) {
      const e = err instanceof NetloomError ? err : new NetloomError('payload_invalid', String(err));
      this.error(from, e.code, e.message);
      return;
    }
    this.host.defer(() => {
      const set = this.listeners.get(decoded.name);
      if (!set) return;
      for (const fn of [...set]) {
        try {
          fn(decoded.value, from);
        } catch (err) {
          this.events.onListenerError(err);
        }
      }
    });
  }

  private error(id: string, code: string, reason: string): void {
    const error = new NetloomError(isCode(code) ? code : 'internal_error', reason);
    this.host.defer(() => this.events.emit('peer-error', { id, error }));
  }

  /** One timer for the whole room checks every pair's direct link for silence. */
  private scheduleIdle(): void {
    if (this.idleTimer !== null || this.closed) return;
    const every = Math.max(25, Math.floor(this.timings().idleTimeoutMs / 4));
    this.idleTimer = this.host.clock.setTimeout(() => {
      this.idleTimer = null;
      const now = this.host.clock.now();
      for (const pair of this.pairs.values()) pair.checkIdle(now);
      this.scheduleIdle();
    }, every);
  }
}

function isLifecycle(type: string): type is keyof PeerLifecycleEvents {
  return type === 'peer-join' || type === 'peer-leave' || type === 'peer-link' || type === 'peer-error';
}

function isCode(code: string): code is NetloomError['code'] {
  return isErrorCode(code);
}
