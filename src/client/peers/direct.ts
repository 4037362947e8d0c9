// DirectPeer: the browser-to-browser WebRTC connection of one peer pair (offering or answering), giving a Link over two pre-negotiated datachannels.
import { type ErrorCode, NetloomError } from '../../codec/errors.js';
import {
  closeDataChannels,
  DATACHANNEL_INIT,
  type DataChannelLike,
  DataChannelLink,
  type Handler,
} from '../../link/datachannel.js';
import type { Link } from '../../link/link.js';
import type { IceServer, SignalMessage } from '../../signaling/messages.js';

/** The part of RTCPeerConnection a direct peer uses, both roles; the browser's and werift's both satisfy it. */
export interface PeerConnectionLike {
  readonly connectionState: string;
  readonly localDescription: { sdp: string } | null;
  createDataChannel(
    label: string,
    init: { negotiated: boolean; id: number; ordered: boolean; maxRetransmits?: number },
  ): DataChannelLike;
  createOffer(): Promise<{ sdp?: string }>;
  createAnswer(): Promise<{ sdp?: string }>;
  setLocalDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<unknown>;
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<unknown>;
  addIceCandidate(candidate: {
    candidate: string;
    sdpMid?: string;
    sdpMLineIndex?: number;
  }): Promise<unknown>;
  close(): unknown;
  onicecandidate: Handler<{
    candidate?: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null;
  }>;
  onconnectionstatechange: Handler<unknown>;
}

export type PeerConnectionConstructor = new (configuration: {
  iceServers: IceServer[];
}) => PeerConnectionLike;

export interface DirectPeerOptions {
  RTCPeerConnection: PeerConnectionConstructor;
  iceServers: IceServer[];
  /** From start (offerer) or the offer (answerer) to open datachannels. */
  connectTimeoutMs: number;
  /** Largest frame either way (default 65,536). */
  maxFrameBytes?: number;
  /** After a local close, time for the close notice to reach the peer (default 500 ms). */
  closeGraceMs?: number;
}

type RemoteCandidate = { candidate: string; sdpMid?: string; sdpMLineIndex?: number };

/**
 * One attempt at a direct link with a peer. The offerer calls `start()`; the answerer passes the offer
 * to `signal()`. Signaling goes out through `send` (the server relays it to the peer). `link` resolves
 * once both datachannels are open and rejects on failure or timeout; `close()` ends everything.
 */
export class DirectPeer {
  readonly link: Promise<Link>;
  private pc: PeerConnectionLike | null = null;
  private channels: DataChannelLike[] = [];
  private dataLink: DataChannelLink | null = null;
  private remoteSet = false;
  private localSent = false;
  private readonly remoteQueue: RemoteCandidate[] = [];
  private readonly localQueue: SignalMessage[] = [];
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private resolveLink!: (link: Link) => void;
  private rejectLink!: (err: NetloomError) => void;

  constructor(
    readonly role: 'offerer' | 'answerer',
    private readonly options: DirectPeerOptions,
    private readonly send: (message: SignalMessage) => void,
  ) {
    this.link = new Promise<Link>((resolve, reject) => {
      this.resolveLink = resolve;
      this.rejectLink = reject;
    });
    this.link.catch(() => {});
  }

  /** Offerer: creates the connection and sends the offer. */
  start(): void {
    void this.run(async (pc) => {
      const offer = await pc.createOffer();
      await pc.setLocalDescription({ type: 'offer', sdp: offer.sdp ?? '' });
      this.sendLocal('offer', pc, offer.sdp);
    });
  }

  /** A signaling message from the peer. */
  signal(message: SignalMessage): void {
    if (this.closed) return;
    switch (message.kind) {
      case 'offer':
        if (this.role !== 'answerer' || this.pc) return;
        void this.run(async (pc) => {
          await pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
          await this.remoteReady(pc);
          const answer = await pc.createAnswer();
          await pc.setLocalDescription({ type: 'answer', sdp: answer.sdp ?? '' });
          this.sendLocal('answer', pc, answer.sdp);
        });
        return;
      case 'answer': {
        const pc = this.pc;
        if (this.role !== 'offerer' || !pc || this.remoteSet) return;
        pc.setRemoteDescription({ type: 'answer', sdp: message.sdp })
          .then(() => this.remoteReady(pc))
          .catch((err: unknown) => this.fail('sdp_invalid', `answer refused: ${messageOf(err)}`));
        return;
      }
      case 'candidate': {
        if (message.candidate === null) return;
        const c: RemoteCandidate = { candidate: message.candidate };
        if (message.sdpMid !== null) c.sdpMid = message.sdpMid;
        if (message.sdpMLineIndex !== null) c.sdpMLineIndex = message.sdpMLineIndex;
        if (!this.remoteSet || !this.pc) {
          if (this.remoteQueue.length < 64) this.remoteQueue.push(c);
          return;
        }
        this.pc.addIceCandidate(c).catch(() => {});
        return;
      }
      default:
        this.fail('peer_closed', 'the peer closed its side');
    }
  }

  /** Ends the attempt or the link (the peer sees the link close). */
  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (this.dataLink?.isOpen) {
      this.dataLink.close(code, reason);
      return;
    }
    this.fail('peer_closed', reason || 'closed');
  }

  /** Makes the connection and channels, then runs `steps`; any failure ends the attempt. */
  private async run(steps: (pc: PeerConnectionLike) => Promise<void>): Promise<void> {
    if (this.closed || this.pc) return;
    const { connectTimeoutMs } = this.options;
    this.timer = setTimeout(
      () => this.fail('peer_timeout', `no direct link after ${connectTimeoutMs} ms`),
      connectTimeoutMs,
    );
    try {
      const pc = new this.options.RTCPeerConnection({ iceServers: this.options.iceServers });
      this.pc = pc;
      pc.onicecandidate = (event) => {
        const c = event.candidate;
        if (!c?.candidate || this.closed) return;
        const message: SignalMessage = {
          kind: 'candidate',
          candidate: c.candidate,
          sdpMid: c.sdpMid ?? null,
          sdpMLineIndex: c.sdpMLineIndex ?? null,
        };
        if (this.localSent) this.send(message);
        else this.localQueue.push(message);
      };
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'failed') this.fail('link_error', 'ICE or DTLS failed');
        else if (pc.connectionState === 'closed') this.fail('link_closed', 'peer connection closed');
      };
      const reliable = pc.createDataChannel('reliable', { ...DATACHANNEL_INIT.reliable });
      const unreliable = pc.createDataChannel('unreliable', { ...DATACHANNEL_INIT.unreliable });
      this.channels = [reliable, unreliable];
      reliable.onopen = () => this.opened();
      unreliable.onopen = () => this.opened();
      await steps(pc);
    } catch (err) {
      this.fail('link_error', `direct link set-up failed: ${messageOf(err)}`);
    }
  }

  /** The remote description is set: queued candidates go in. */
  private async remoteReady(pc: PeerConnectionLike): Promise<void> {
    this.remoteSet = true;
    for (const c of this.remoteQueue.splice(0)) await pc.addIceCandidate(c).catch(() => {});
  }

  /** Sends the offer or answer, then the candidates found meanwhile that it does not already hold. */
  private sendLocal(kind: 'offer' | 'answer', pc: PeerConnectionLike, fallback: string | undefined): void {
    if (this.closed) return;
    const sdp = pc.localDescription?.sdp ?? fallback;
    if (!sdp) throw new Error('no local description');
    this.send({ kind, sdp });
    this.localSent = true;
    for (const m of this.localQueue.splice(0)) {
      if (m.kind === 'candidate' && m.candidate && sdp.includes(m.candidate.replace(/^a=/, ''))) continue;
      this.send(m);
    }
  }

  private opened(): void {
    const [reliable, unreliable] = this.channels;
    if (this.closed || this.dataLink || reliable?.readyState !== 'open' || unreliable?.readyState !== 'open')
      return;
    clearTimeout(this.timer);
    const max = this.options.maxFrameBytes ?? 65_536;
    this.dataLink = new DataChannelLink(
      reliable,
      unreliable,
      { maxFrameBytes: max, maxSendBytes: max },
      (_info, flush) => this.teardown(flush),
    );
    this.resolveLink(this.dataLink);
  }

  private fail(code: ErrorCode, reason: string): void {
    if (this.dataLink) {
      this.dataLink.terminate(code, reason);
      return;
    }
    if (this.closed) return;
    this.rejectLink(new NetloomError(code, reason));
    this.teardown(false);
  }

  private teardown(flush: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    const pc = this.pc;
    if (pc) {
      pc.onicecandidate = null;
      pc.onconnectionstatechange = null;
    }
    const link = this.dataLink;
    void (async () => {
      try {
        const grace = flush ? (this.options.closeGraceMs ?? 500) : 0;
        await closeDataChannels(this.channels, grace, () => link?.unsentBytes ?? 0);
        link?.dispose();
        await pc?.close();
      } catch {
        // closing is best effort
      }
    })();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
