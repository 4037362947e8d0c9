// The server's WebRTC peer: one ICE-lite werift RTCPeerConnection per client, answering its offer, yielding a Link.
import { type RTCDataChannel, RTCPeerConnection } from 'werift';
import { type ErrorCode, NetloomError } from '../../../codec/errors.js';
import { closeDataChannels, DATACHANNEL_INIT, DataChannelLink } from '../../../link/datachannel.js';
import type { Link, LinkCloseInfo } from '../../../link/link.js';
import {
  type ResolvedWebRtcServerOptions,
  resolveWebRtcServerOptions,
  type WebRtcServerOptions,
  weriftServerConfig,
} from './options.js';
import { type CandidateInit, type CheckedCandidate, checkCandidate, checkOffer } from './sdp.js';

export type { WebRtcServerOptions } from './options.js';

export interface ServerPeer {
  /** Takes the client's offer; resolves to the answer SDP (with the server's host candidates in it: ICE-lite). */
  answer(offerSdp: string): Promise<string>;
  /** A trickled client candidate (queued until the remote description is set). Throws NetloomError on bad input. */
  addCandidate(candidate: CandidateInit): Promise<void>;
  /** Resolves with the Link once both datachannels ('reliable' and 'unreliable') are open; rejects on timeout/failure. */
  readonly link: Promise<Link>;
  /**
   * Closes the peer: the link if it is open (the client sees `code` and `reason` through its link), else the
   * peer connection, rejecting `link` with `peer_closed`. Idempotent.
   */
  close(code?: ErrorCode | 'normal', reason?: string): void;
  readonly closed: boolean;
}

let openPeerConnections = 0;

/**
 * How many server peer connections exist and are not closed yet, across the process. Every peer counts
 * from `createServerPeer` until its werift RTCPeerConnection has closed (its UDP sockets released).
 */
export function openServerPeerCount(): number {
  return openPeerConnections;
}

/**
 * Creates the server side of a WebRTC link for one client. The peer is ICE-lite (host candidates only,
 * never a STUN query), uses two pre-negotiated datachannels (`reliable` id 0, ordered; `unreliable` id 1,
 * unordered with no retransmits), and closes itself on bad input (throwing a NetloomError: `sdp_too_large`,
 * `sdp_invalid`, `candidate_invalid`, `candidate_limit`, `signal_unexpected`), on timeout (`link` rejects
 * with `peer_timeout`) and on ICE/DTLS failure (`link_error`). Throws `request_invalid` on bad options.
 */
export function createServerPeer(options: WebRtcServerOptions = {}): ServerPeer {
  return new WeriftServerPeer(resolveWebRtcServerOptions(options));
}

class WeriftServerPeer implements ServerPeer {
  readonly link: Promise<Link>;

  private readonly pc: RTCPeerConnection;
  private readonly reliable: RTCDataChannel;
  private readonly unreliable: RTCDataChannel;
  private state: 'new' | 'answering' | 'answered' | 'closed' = 'new';
  private dataLink: DataChannelLink | null = null;
  private readonly pending: CheckedCandidate['init'][] = [];
  private candidates = 0;
  private readonly timer: ReturnType<typeof setTimeout>;
  private resolveLink!: (link: Link) => void;
  private rejectLink!: (err: NetloomError) => void;
  private tornDown = false;
  private lastCheckAt = Date.now();
  private consentTimer: ReturnType<typeof setInterval> | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: ResolvedWebRtcServerOptions) {
    this.link = new Promise<Link>((resolve, reject) => {
      this.resolveLink = resolve;
      this.rejectLink = reject;
    });
    this.link.catch(() => {}); // the owner may never await it; a rejection must not go unhandled
    this.pc = new RTCPeerConnection({
      ...weriftServerConfig(options),
      // Called for every STUN binding request from the client: its ICE consent checks.
      iceFilterStunResponse: () => {
        this.lastCheckAt = Date.now();
        return true;
      },
    });
    openPeerConnections++;
    this.reliable = this.pc.createDataChannel('reliable', DATACHANNEL_INIT.reliable);
    this.unreliable = this.pc.createDataChannel('unreliable', DATACHANNEL_INIT.unreliable);
    this.reliable.onopen = () => this.channelOpened();
    this.unreliable.onopen = () => this.channelOpened();
    this.unsubscribe = this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed') this.fail('link_error', 'ICE or DTLS failed');
      else if (state === 'closed') this.fail('link_closed', 'peer connection closed');
    }).unSubscribe;
    this.timer = setTimeout(
      () => this.fail('peer_timeout', `datachannels not open after ${options.connectTimeoutMs} ms`),
      options.connectTimeoutMs,
    );
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  async answer(offerSdp: string): Promise<string> {
    if (this.state === 'closed') throw new NetloomError('peer_closed', 'the peer is closed');
    if (this.state !== 'new')
      throw this.refuse(new NetloomError('signal_unexpected', 'the offer was already answered'));
    this.state = 'answering';
    let sdp: string;
    try {
      const checked = checkOffer(offerSdp, this.options.maxSdpBytes, this.options.maxCandidates);
      this.countCandidates(checked.candidates);
      sdp = checked.sdp;
    } catch (err) {
      throw this.refuse(err as NetloomError);
    }
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      this.assertOpen();
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      this.assertOpen();
      this.state = 'answered';
      for (const init of this.pending.splice(0)) await this.pc.addIceCandidate(init);
      this.assertOpen();
      const answer = this.pc.localDescription?.sdp;
      if (!answer) throw new Error('werift produced no answer');
      return answer;
    } catch (err) {
      if (err instanceof NetloomError) throw err;
      if (this.closed)
        throw new NetloomError('peer_closed', 'the peer closed while answering', { cause: err });
      throw this.refuse(new NetloomError('sdp_invalid', `offer refused: ${messageOf(err)}`, { cause: err }));
    }
  }

  async addCandidate(candidate: CandidateInit): Promise<void> {
    if (this.state === 'closed') throw new NetloomError('peer_closed', 'the peer is closed');
    let checked: CheckedCandidate;
    try {
      checked = checkCandidate(candidate);
      if (!checked.end) this.countCandidates(1);
    } catch (err) {
      throw this.refuse(err as NetloomError);
    }
    // mDNS names are not resolved: an ICE-lite server needs no remote candidates (the client's checks reveal
    // its address), and must not send multicast queries for clients.
    if (checked.mdns) return;
    if (this.state !== 'answered') {
      this.pending.push(checked.init);
      return;
    }
    try {
      await this.pc.addIceCandidate(checked.init);
    } catch (err) {
      if (this.closed) throw new NetloomError('peer_closed', 'the peer is closed');
      throw this.refuse(
        new NetloomError('candidate_invalid', `candidate refused: ${messageOf(err)}`, { cause: err }),
      );
    }
  }

  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (this.state === 'closed') return;
    if (this.dataLink) {
      this.dataLink.close(code, reason); // ends in linkEnded, which tears down
      return;
    }
    this.state = 'closed';
    this.rejectLink(new NetloomError('peer_closed', reason ? `peer closed: ${reason}` : 'peer closed'));
    this.teardown(false);
  }

  private countCandidates(count: number): void {
    this.candidates += count;
    if (this.candidates > this.options.maxCandidates)
      throw new NetloomError('candidate_limit', `more than ${this.options.maxCandidates} candidates`);
  }

  /** Closes the peer because of `err` (bad input) and returns it for the caller to throw. */
  private refuse(err: NetloomError): NetloomError {
    this.fail(err.code, err.message, err);
    return err;
  }

  private assertOpen(): void {
    if (this.state === 'closed') throw new NetloomError('peer_closed', 'the peer closed while answering');
  }

  private channelOpened(): void {
    if (this.state === 'closed' || this.dataLink) return;
    if (this.reliable.readyState !== 'open' || this.unreliable.readyState !== 'open') return;
    clearTimeout(this.timer);
    const consentMs = this.options.consentTimeoutMs;
    if (consentMs > 0) {
      this.consentTimer = setInterval(
        () => {
          const silentMs = Date.now() - this.lastCheckAt;
          if (silentMs > consentMs)
            this.fail('link_closed', `ICE consent expired: no check from the client for ${silentMs} ms`);
        },
        Math.max(10, Math.floor(consentMs / 4)),
      );
    }
    this.dataLink = new DataChannelLink(
      this.reliable,
      this.unreliable,
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

  /** Ends the peer for a reason found here or below: the link closes with `code`, or `link` rejects. */
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

  /** Releases everything: channels (flushed first when `flush`), then the peer connection and its sockets. */
  private teardown(flush: boolean): void {
    if (this.tornDown) return;
    this.tornDown = true;
    clearTimeout(this.timer);
    clearInterval(this.consentTimer);
    this.unsubscribe();
    this.pending.length = 0;
    const channels = [this.reliable, this.unreliable];
    void (async () => {
      try {
        const link = this.dataLink;
        await closeDataChannels(
          channels,
          flush ? this.options.closeGraceMs : 0,
          () => link?.unsentBytes ?? 0,
        );
        link?.dispose();
        await this.pc.close();
      } catch {
        // werift failing to close cleanly must not take the process down; the count still drops
      } finally {
        openPeerConnections--;
      }
    })();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
