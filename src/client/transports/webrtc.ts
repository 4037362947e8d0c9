// The client side of the WebRTC link: an RTCPeerConnection (the browser's, or werift's in Node) offering two datachannels.
import { type ErrorCode, NetloomError } from '../../codec/errors.js';
import {
  closeDataChannels,
  DATACHANNEL_INIT,
  type DataChannelLike,
  DataChannelLink,
  type Handler,
} from '../../link/datachannel.js';
import type { Link, LinkCloseInfo } from '../../link/link.js';

/** A STUN or TURN server, as in RTCConfiguration.iceServers. */
export interface IceServerConfig {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** An ICE candidate as signaling carries it (RTCIceCandidateInit). */
export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** A local candidate to trickle to the server. */
export interface LocalIceCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** The part of RTCPeerConnection the client peer uses; the browser's and werift's both satisfy it. */
export interface RTCPeerConnectionLike {
  readonly connectionState: string;
  readonly localDescription: { sdp: string } | null;
  createDataChannel(
    label: string,
    init: { negotiated: boolean; id: number; ordered: boolean; maxRetransmits?: number },
  ): DataChannelLike;
  createOffer(): Promise<{ sdp?: string; type?: string }>;
  setLocalDescription(description: { type: 'offer'; sdp: string }): Promise<unknown>;
  setRemoteDescription(description: { type: 'answer'; sdp: string }): Promise<unknown>;
  addIceCandidate(candidate: IceCandidateInit): Promise<unknown>;
  close(): unknown;
  onicecandidate: Handler<{
    candidate?: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null;
  }>;
  onconnectionstatechange: Handler<unknown>;
}

/** An RTCPeerConnection constructor: `globalThis.RTCPeerConnection` in browsers; see `netloom/client/node-webrtc` in Node. */
export type RTCPeerConnectionConstructorLike = new (configuration: {
  iceServers: IceServerConfig[];
}) => RTCPeerConnectionLike;

export interface ClientPeerOptions {
  /** The constructor to use; default `globalThis.RTCPeerConnection` (absent in Node: pass werift's, adapted). */
  RTCPeerConnection?: RTCPeerConnectionConstructorLike;
  /** STUN/TURN servers (the server hands them out); default [] (host and peer-reflexive candidates only). */
  iceServers?: IceServerConfig[];
  /** Time for the datachannels to open, from `offer()`. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** Unreliable frames are dropped while the datachannels buffer more than this. Default 65,536. */
  unreliableDropBytes?: number;
  /** A reliable send that would buffer more than this closes the link with `slow_consumer`. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Largest frame accepted from the server (and sent to it). Default 65,536. */
  maxFrameBytes?: number;
  /** Largest answer SDP accepted, in UTF-8 bytes. Default 16 KiB. */
  maxSdpBytes?: number;
  /** After a local close, time the close notice gets to reach the server before the connection is torn down. Default 1,000 ms. */
  closeGraceMs?: number;
}

export interface ClientPeer {
  /** Creates the two channels and the offer. */
  offer(): Promise<string>;
  /**
   * Local ICE candidates to trickle to the server, reported only after `offer()` has resolved and never
   * for candidates already in the offer (may be none: the server is ICE-lite and the browser may appear
   * as peer-reflexive).
   */
  onCandidate: ((candidate: LocalIceCandidate) => void) | null;
  setAnswer(sdp: string): Promise<void>;
  /** A remote candidate (queued until the answer is set). */
  addCandidate(candidate: IceCandidateInit): Promise<void>;
  /** Resolves with the Link once both datachannels are open; rejects on timeout (`peer_timeout`), failure or close. */
  readonly link: Promise<Link>;
  /** Closes the link if open (the server sees a normal close), else the connection; `link` rejects with `peer_closed`. */
  close(code?: ErrorCode | 'normal', reason?: string): void;
  readonly closed: boolean;
}

/** True when this environment can make WebRTC datachannels (a browser without RTCPeerConnection: false). */
export function webRtcAvailable(
  ctor: unknown = (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection,
): boolean {
  return typeof ctor === 'function';
}

/**
 * Creates the client side of a WebRTC link to the server's peer. Nothing happens until `offer()`.
 * Throws `transport_unavailable` when there is no RTCPeerConnection constructor.
 */
export function createClientPeer(options: ClientPeerOptions = {}): ClientPeer {
  const Ctor =
    options.RTCPeerConnection ??
    (globalThis as { RTCPeerConnection?: RTCPeerConnectionConstructorLike }).RTCPeerConnection;
  if (!webRtcAvailable(Ctor) || Ctor === undefined) {
    throw new NetloomError(
      'transport_unavailable',
      'no RTCPeerConnection: pass one in options.RTCPeerConnection',
    );
  }
  return new BrowserClientPeer(Ctor, options);
}

const DEFAULT_MAX_SDP_BYTES = 16 * 1024;

class BrowserClientPeer implements ClientPeer {
  readonly link: Promise<Link>;
  onCandidate: ((candidate: LocalIceCandidate) => void) | null = null;

  private pc: RTCPeerConnectionLike | null = null;
  private reliable: DataChannelLike | null = null;
  private unreliable: DataChannelLike | null = null;
  private state: 'new' | 'offering' | 'offered' | 'answered' | 'closed' = 'new';
  private dataLink: DataChannelLink | null = null;
  private readonly pending: IceCandidateInit[] = [];
  /** Local candidates found before `offer()` resolved, and the offer they may already be in. */
  private early: LocalIceCandidate[] | null = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private resolveLink!: (link: Link) => void;
  private rejectLink!: (err: NetloomError) => void;
  private tornDown = false;

  constructor(
    private readonly Ctor: RTCPeerConnectionConstructorLike,
    private readonly options: ClientPeerOptions,
  ) {
    this.link = new Promise<Link>((resolve, reject) => {
      this.resolveLink = resolve;
      this.rejectLink = reject;
    });
    this.link.catch(() => {}); // the owner may never await it
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  async offer(): Promise<string> {
    if (this.state === 'closed') throw new NetloomError('peer_closed', 'the peer is closed');
    if (this.state !== 'new') throw new NetloomError('signal_unexpected', 'offer() was already called');
    this.state = 'offering';
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    this.timer = setTimeout(
      () => this.fail('peer_timeout', `datachannels not open after ${timeoutMs} ms`),
      timeoutMs,
    );
    try {
      const pc = new this.Ctor({ iceServers: this.options.iceServers ?? [] });
      this.pc = pc;
      pc.onicecandidate = (event) => this.localCandidate(event.candidate);
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'failed') this.fail('link_error', 'ICE or DTLS failed');
        else if (pc.connectionState === 'closed') this.fail('link_closed', 'peer connection closed');
      };
      this.reliable = pc.createDataChannel('reliable', { ...DATACHANNEL_INIT.reliable });
      this.unreliable = pc.createDataChannel('unreliable', { ...DATACHANNEL_INIT.unreliable });
      this.reliable.onopen = () => this.channelOpened();
      this.unreliable.onopen = () => this.channelOpened();
      const offer = await pc.createOffer();
      this.assertOpen();
      await pc.setLocalDescription({ type: 'offer', sdp: offer.sdp ?? '' });
      this.assertOpen();
      const sdp = pc.localDescription?.sdp ?? offer.sdp;
      if (!sdp) throw new Error('no local description');
      this.state = 'offered';
      const early = this.early ?? [];
      this.early = null;
      const unsent = early.filter((c) => !sdp.includes(c.candidate.replace(/^a=/, '')));
      if (unsent.length > 0) setTimeout(() => this.reportCandidates(unsent), 0);
      return sdp;
    } catch (err) {
      if (err instanceof NetloomError) throw err;
      if (this.closed) throw new NetloomError('peer_closed', 'the peer closed during set-up', { cause: err });
      const error = new NetloomError('link_error', `cannot create the offer: ${messageOf(err)}`, {
        cause: err,
      });
      this.fail(error.code, error.message, error);
      throw error;
    }
  }

  async setAnswer(sdp: string): Promise<void> {
    if (this.state === 'closed') throw new NetloomError('peer_closed', 'the peer is closed');
    if (this.state !== 'offered' || this.pc === null)
      throw new NetloomError('signal_unexpected', 'setAnswer() before offer() resolved, or twice');
    const maxBytes = this.options.maxSdpBytes ?? DEFAULT_MAX_SDP_BYTES;
    if (typeof sdp !== 'string' || !sdp.startsWith('v=0'))
      throw this.refuse('sdp_invalid', 'answer is not an SDP');
    if (sdp.length > maxBytes || new TextEncoder().encode(sdp).byteLength > maxBytes)
      throw this.refuse('sdp_too_large', `answer SDP larger than ${maxBytes} bytes`);
    this.state = 'answered';
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
      for (const candidate of this.pending.splice(0)) {
        this.assertOpen();
        await this.pc.addIceCandidate(candidate);
      }
    } catch (err) {
      if (err instanceof NetloomError) throw err;
      if (this.closed)
        throw new NetloomError('peer_closed', 'the peer closed while taking the answer', { cause: err });
      throw this.refuse('sdp_invalid', `answer refused: ${messageOf(err)}`, err);
    }
  }

  async addCandidate(candidate: IceCandidateInit): Promise<void> {
    if (this.state === 'closed') throw new NetloomError('peer_closed', 'the peer is closed');
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      typeof candidate.candidate !== 'string' ||
      candidate.candidate.length > 1_024
    )
      throw this.refuse('candidate_invalid', 'candidate is not an RTCIceCandidateInit');
    const init: IceCandidateInit = { candidate: candidate.candidate };
    if (typeof candidate.sdpMid === 'string') init.sdpMid = candidate.sdpMid;
    if (typeof candidate.sdpMLineIndex === 'number') init.sdpMLineIndex = candidate.sdpMLineIndex;
    if (this.state !== 'answered' || this.pc === null) {
      if (this.pending.length >= 64) throw this.refuse('candidate_limit', 'more than 64 queued candidates');
      this.pending.push(init);
      return;
    }
    try {
      await this.pc.addIceCandidate(init);
    } catch (err) {
      if (this.closed) throw new NetloomError('peer_closed', 'the peer is closed');
      throw this.refuse('candidate_invalid', `candidate refused: ${messageOf(err)}`, err);
    }
  }

  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (this.state === 'closed') return;
    if (this.dataLink) {
      this.dataLink.close(code, reason);
      return;
    }
    this.state = 'closed';
    this.rejectLink(new NetloomError('peer_closed', reason ? `peer closed: ${reason}` : 'peer closed'));
    this.teardown(false);
  }

  private localCandidate(
    candidate:
      | { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }
      | null
      | undefined,
  ): void {
    if (!candidate?.candidate || this.state === 'closed') return;
    const local: LocalIceCandidate = {
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? null,
      sdpMLineIndex: candidate.sdpMLineIndex ?? null,
    };
    if (this.early !== null) this.early.push(local);
    else this.reportCandidates([local]);
  }

  private reportCandidates(candidates: LocalIceCandidate[]): void {
    for (const candidate of candidates) {
      if (this.state === 'closed') return;
      try {
        this.onCandidate?.(candidate);
      } catch {
        // the owner's handler failing is its own business; the peer goes on
      }
    }
  }

  private refuse(code: ErrorCode, message: string, cause?: unknown): NetloomError {
    const err = new NetloomError(code, message, cause === undefined ? undefined : { cause });
    this.fail(code, message, err);
    return err;
  }

  private assertOpen(): void {
    if (this.state === 'closed') throw new NetloomError('peer_closed', 'the peer closed during set-up');
  }

  private channelOpened(): void {
    const { reliable, unreliable } = this;
    if (this.state === 'closed' || this.dataLink || !reliable || !unreliable) return;
    if (reliable.readyState !== 'open' || unreliable.readyState !== 'open') return;
    clearTimeout(this.timer);
    this.dataLink = new DataChannelLink(
      reliable,
      unreliable,
      {
        unreliableDropBytes: this.options.unreliableDropBytes,
        maxBufferedBytes: this.options.maxBufferedBytes,
        maxFrameBytes: this.options.maxFrameBytes,
        maxSendBytes: this.options.maxFrameBytes,
      },
      (info, flush) => this.linkEnded(info, flush),
    );
    this.resolveLink(this.dataLink);
  }

  private linkEnded(_info: LinkCloseInfo, flush: boolean): void {
    this.state = 'closed';
    this.teardown(flush);
  }

  private fail(code: ErrorCode, reason: string, err?: NetloomError): void {
    if (this.state === 'closed') return;
    if (this.dataLink) {
      this.dataLink.terminate(code, reason);
      return;
    }
    this.state = 'closed';
    this.rejectLink(err ?? new NetloomError(code, reason));
    this.teardown(false);
  }

  private teardown(flush: boolean): void {
    if (this.tornDown) return;
    this.tornDown = true;
    clearTimeout(this.timer);
    this.pending.length = 0;
    this.early = null;
    const pc = this.pc;
    if (pc) {
      pc.onicecandidate = null;
      pc.onconnectionstatechange = null;
    }
    const channels = [this.reliable, this.unreliable].filter((c): c is DataChannelLike => c !== null);
    void (async () => {
      try {
        const link = this.dataLink;
        await closeDataChannels(
          channels,
          flush ? (this.options.closeGraceMs ?? 1_000) : 0,
          () => link?.unsentBytes ?? 0,
        );
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
