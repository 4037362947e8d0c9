// RoomPeers (server side): a peer-assisted room's members, their direct mesh, the relay of peer frames under the room's policy, and member-to-member signaling.
import { type ErrorCode, NetloomError } from '../../../codec/errors.js';
import { decodeFrame, encodeFrame, type Frame, FrameKind, MessageKind } from '../../../codec/frames.js';
import type { Clock } from '../../../shared/clock.js';
import { TokenBucket } from '../../../shared/token-bucket.js';
import { encodeSignal, parseSignal } from '../../../signaling/messages.js';
import type { Logger, Metrics } from '../../metrics.js';
import type { MemberPort } from '../host.js';
import { Mesh } from './mesh.js';
import { type PeerPolicy, type PeerRoomOptions, resolvePeerPolicy } from './options.js';
import { asPeerPort } from './port.js';

/** The peer section of a room protocol, as the relay needs it. */
export interface PeerDirection {
  readonly messages: readonly { readonly name: string; readonly op: number }[];
  /** Checks a payload against the message's schema; throws NetloomError. */
  check(op: number, payload: Uint8Array): void;
}

export interface RoomPeersDeps {
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  /** The protocol's peer section (absent: no peer message exists, every data frame is refused). */
  direction: PeerDirection | undefined;
  /** The current port of a member (a reconnection replaces it), or undefined when not a member. */
  portOf(clientId: string): MemberPort | undefined;
}

/** Rate limits of one sender → target pair: data frames (the policy's rate) and control frames. */
interface PairRates {
  readonly data: TokenBucket | null;
  readonly control: TokenBucket;
}

interface PeerMember {
  /** By target member id. */
  readonly pairs: Map<string, PairRates>;
  /** Every peer frame this member sends, whatever its target (a flood is dropped before any other work). */
  readonly frames: TokenBucket;
  readonly signals: TokenBucket;
  lastRefusalAt: number;
}

/** ACK, PING, PONG and SWITCH frames relayed per pair per second, at most (bursts of twice that); more are dropped. */
const CONTROL_FRAMES_PER_SECOND = 100;
/**
 * Peer frames one member may hand the relay per second, all targets together (bursts of twice that); more
 * are dropped unread. Peer frames skip the session's message rate limit (a full mesh on the relay at 20 Hz
 * would exceed it), so this bounds the work a flood can cause.
 */
const FRAMES_PER_SECOND = 4_000;

/** Time between two refusal reports to one member (refused frames are counted all the same). */
const REFUSAL_REPORT_MS = 250;
const PLACEHOLDER_REASON = 'refused by the relay';

/**
 * The server's part in a peer-assisted room. Peer frames (WIRE.md §8) pass through it while a pair has
 * no direct link: control frames (ACK, PING, PONG, SWITCH) always, data frames when the policy allows
 * them (type, size, schema when `inspect`, the sender's rate, the room's byte cap). A refused reliable
 * frame is replaced by a placeholder that keeps its sequence number (a NOTICE with the code), so the
 * receiver's sequencing stays whole; the sender hears `REFUSED` with the code.
 */
export class RoomPeers {
  private readonly mesh: Mesh;
  private readonly members = new Map<string, PeerMember>();
  private readonly allowed = new Set<number>();
  private relayedDataBytes = 0;

  constructor(
    readonly policy: PeerPolicy,
    private readonly deps: RoomPeersDeps,
  ) {
    this.mesh = new Mesh(policy.maxMesh);
    const names = policy.types === null ? null : new Set(policy.types);
    for (const m of deps.direction?.messages ?? []) if (!names || names.has(m.name)) this.allowed.add(m.op);
    deps.metrics.describe('peer_relay_bytes', { help: 'Bytes of peer frames relayed between room members.' });
  }

  /** Data bytes relayed so far (what `maxRelayBytes` bounds). */
  get relayedBytes(): number {
    return this.relayedDataBytes;
  }

  has(clientId: string): boolean {
    return this.members.has(clientId);
  }

  /** A member joined: pair it in the mesh and send the set-ups that changed (its own first). */
  join(clientId: string): void {
    if (this.members.has(clientId)) return;
    const now = this.deps.clock.now();
    const { signalsPerSecond } = this.policy;
    this.members.set(clientId, {
      pairs: new Map(),
      frames: new TokenBucket(FRAMES_PER_SECOND, FRAMES_PER_SECOND * 2, now),
      signals: new TokenBucket(signalsPerSecond, signalsPerSecond * 10, now),
      lastRefusalAt: -Infinity,
    });
    for (const id of this.mesh.add(clientId)) this.sendSetup(id);
  }

  /** A member left: its pairs go; members that gain a direct peer instead hear a new set-up. */
  leave(clientId: string): void {
    if (!this.members.delete(clientId)) return;
    for (const member of this.members.values()) member.pairs.delete(clientId);
    for (const id of this.mesh.remove(clientId)) this.sendSetup(id);
  }

  /** A peer frame from `from` to `target`: relayed, or refused under the policy. Never throws. */
  relay(from: string, target: string, frame: Uint8Array, reliable: boolean): void {
    const sender = this.members.get(from);
    if (!sender) return;
    if (!sender.frames.take(this.deps.clock.now())) {
      this.deps.metrics.inc('peer_relay_dropped');
      return;
    }
    const port = target !== from && this.members.has(target) ? asPeerPort(this.deps.portOf(target)) : null;
    if (!port) {
      this.refuse(from, sender, target, 'peer_unknown', 'no such peer in the room');
      return;
    }
    let decoded: Frame;
    try {
      decoded = decodeFrame(frame, { maxFrameBytes: this.policy.maxPayloadBytes + 64, maxStringBytes: 256 });
    } catch (err) {
      const e = err instanceof NetloomError ? err : new NetloomError('frame_malformed', String(err));
      this.refuse(from, sender, target, e.code, e.message);
      return;
    }
    const code = this.check(this.ratesOf(sender, target), decoded, reliable, frame.length);
    if (
      code === 'peer_rate_exceeded' &&
      decoded.kind !== FrameKind.Reliable &&
      decoded.kind !== FrameKind.Unreliable
    ) {
      this.deps.metrics.inc('peer_relay_dropped'); // an ACK or PING too many: harmless to drop
      return;
    }
    if (code !== null) {
      this.refuse(from, sender, target, code, `peer frame refused: ${code}`);
      if (decoded.kind === FrameKind.Reliable && reliable) {
        const message = { kind: MessageKind.Notice, code, message: PLACEHOLDER_REASON } as const;
        port.peerFrame(from, encodeFrame({ kind: FrameKind.Reliable, seq: decoded.seq, message }), true);
      }
      return;
    }
    this.deps.metrics.inc('peer_relay_bytes', frame.length);
    port.peerFrame(from, frame, reliable);
  }

  /** A signaling message from `from` to `target`; returns a code to refuse it with (the caller answers a close). */
  signal(from: string, target: string, payload: string): ErrorCode | null {
    const sender = this.members.get(from);
    if (!sender || target === from || !this.members.has(target)) return 'signal_peer_unknown';
    if (!sender.signals.take(this.deps.clock.now())) return 'signal_rate_exceeded';
    let text: string;
    try {
      const message = parseSignal(payload);
      if (message.kind !== 'close' && !this.mesh.linked(from, target)) return 'peer_mesh_refused';
      text = encodeSignal(message);
    } catch (err) {
      return err instanceof NetloomError ? err.code : 'signal_invalid';
    }
    const port = asPeerPort(this.deps.portOf(target));
    if (!port) return 'signal_peer_unknown';
    port.peerSignal(from, text);
    return null;
  }

  /** The policy's verdict on one decoded peer frame: null to relay it, else the code. */
  private check(rates: PairRates, frame: Frame, reliable: boolean, size: number): ErrorCode | null {
    const now = this.deps.clock.now();
    switch (frame.kind) {
      case FrameKind.Ack:
      case FrameKind.Ping:
      case FrameKind.Pong:
      case FrameKind.Switch:
      case FrameKind.SwitchAck:
        return rates.control.take(now) ? null : 'peer_rate_exceeded';
      case FrameKind.Reliable:
      case FrameKind.Unreliable:
        break;
      default:
        return 'frame_malformed';
    }
    // A numbered frame on the unreliable channel could be lost, leaving a gap in the pair's sequence.
    if (frame.kind === FrameKind.Reliable && !reliable) return 'frame_malformed';
    const message = frame.message;
    if (message.kind !== MessageKind.Room || message.handle !== 0) return 'frame_malformed';
    if (!this.allowed.has(message.op)) return 'peer_type_refused';
    if (message.payload.length > this.policy.maxPayloadBytes) return 'message_too_large';
    if (this.policy.inspect) {
      try {
        this.deps.direction?.check(message.op, message.payload);
      } catch (err) {
        return err instanceof NetloomError ? err.code : 'payload_invalid';
      }
    }
    if (rates.data && !rates.data.take(now)) return 'peer_rate_exceeded';
    if (this.relayedDataBytes + size > this.policy.maxRelayBytes) return 'peer_relay_cap';
    this.relayedDataBytes += size;
    return null;
  }

  private ratesOf(sender: PeerMember, target: string): PairRates {
    let rates = sender.pairs.get(target);
    if (!rates) {
      const now = this.deps.clock.now();
      const { ratePerSecond, burst } = this.policy;
      rates = {
        data: ratePerSecond > 0 ? new TokenBucket(ratePerSecond, Math.max(1, burst), now) : null,
        control: new TokenBucket(CONTROL_FRAMES_PER_SECOND, CONTROL_FRAMES_PER_SECOND * 2, now),
      };
      sender.pairs.set(target, rates);
    }
    return rates;
  }

  /** Counts a refusal and tells the sender (at most one report per REFUSAL_REPORT_MS). */
  private refuse(from: string, sender: PeerMember, target: string, code: ErrorCode, reason: string): void {
    this.deps.metrics.error(code);
    this.deps.metrics.inc('peer_relay_refused');
    const now = this.deps.clock.now();
    if (now - sender.lastRefusalAt < REFUSAL_REPORT_MS) return;
    sender.lastRefusalAt = now;
    asPeerPort(this.deps.portOf(from))?.peerRefused(target, code, reason.slice(0, 200));
  }

  private sendSetup(clientId: string): void {
    const port = asPeerPort(this.deps.portOf(clientId));
    if (!port) return;
    const p = this.policy;
    const setup: Record<string, unknown> = {
      self: clientId,
      direct: this.mesh.direct(clientId),
      types: [...this.allowed],
      maxPayloadBytes: p.maxPayloadBytes,
      pingIntervalMs: p.pingIntervalMs,
      idleTimeoutMs: p.idleTimeoutMs,
      connectTimeoutMs: p.connectTimeoutMs,
    };
    if (p.iceServers) setup.iceServers = p.iceServers;
    port.peerSetup(JSON.stringify(setup));
  }
}

/** The peer part of a room with this definition, or null when its `peers` option is absent or off. */
export function roomPeersFor(
  definition: { peers?: PeerRoomOptions; protocol: { peer?: PeerDirection } },
  deps: Omit<RoomPeersDeps, 'direction'>,
): RoomPeers | null {
  const policy = resolvePeerPolicy(definition.peers);
  return policy ? new RoomPeers(policy, { ...deps, direction: definition.protocol.peer }) : null;
}
