// Test helper: in-memory "WebRTC" peers for the upgrade machinery (an offer names a memory link pair; the links say transport 'webrtc').
import type { UpgradePeer } from '../../src/client/upgrade.js';
import type { ErrorCode } from '../../src/codec/errors.js';
import type { Channel, Link, LinkCloseInfo, LinkStats, TransportName } from '../../src/link/link.js';
import type { UpgradeServerPeer } from '../../src/server/transports/webrtc/upgrade.js';
import { createMemoryLinkPair, type MemoryLink } from '../link/memory-pair.js';

/** A Link that forwards to another and reports a different transport name. */
export class TaggedLink implements Link {
  onframe: ((frame: Uint8Array, channel: Channel) => void) | null = null;
  onclose: ((info: LinkCloseInfo) => void) | null = null;

  constructor(
    readonly inner: MemoryLink,
    readonly transport: TransportName = 'webrtc',
  ) {
    inner.onframe = (frame, channel) => this.onframe?.(frame, channel);
    inner.onclose = (info) => this.onclose?.(info);
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  get bufferedBytes(): number {
    return this.inner.bufferedBytes;
  }

  send(channel: Channel, frame: Uint8Array): boolean {
    return this.inner.send(channel, frame);
  }

  close(code?: ErrorCode | 'normal', reason?: string): void {
    this.inner.close(code, reason);
  }

  stats(): LinkStats {
    return this.inner.stats();
  }
}

/** Two tagged links connected to each other. */
export function taggedPair(transport: TransportName = 'webrtc'): { client: TaggedLink; server: TaggedLink } {
  const { client, server } = createMemoryLinkPair();
  return { client: new TaggedLink(client, transport), server: new TaggedLink(server, transport) };
}

interface Pending {
  client: TaggedLink;
  server: TaggedLink;
  /** Made while `serverStalls`: neither end ever opens. */
  stall: boolean;
}

/**
 * Pairs fake client and server peers: the client's offer is `fake-offer <n>`, the server answers
 * `fake-answer <n>` and both links open once the client has the answer. Counts open peers per side.
 */
export class FakeRtc {
  private next = 1;
  private readonly pending = new Map<string, Pending>();
  /** Client peers made in all. */
  clientMade = 0;
  /** Client and server peers made and not closed. */
  openClient = 0;
  openServer = 0;
  /** The client ends of every pair made, newest last. */
  readonly clientLinks: TaggedLink[] = [];
  /** Server peers never open a link (to test timeouts). */
  serverStalls = false;
  /** Candidates the server peers were given. */
  readonly candidates: string[] = [];

  clientPeer = (): UpgradePeer => {
    const id = String(this.next++);
    this.clientMade++;
    let resolveLink!: (link: Link) => void;
    let rejectLink!: (err: Error) => void;
    const link = new Promise<Link>((resolve, reject) => {
      resolveLink = resolve;
      rejectLink = reject;
    });
    link.catch(() => undefined);
    let closed = false;
    let opened: TaggedLink | null = null;
    this.openClient++;
    const peer: UpgradePeer = {
      onCandidate: null,
      offer: async () => {
        queueMicrotask(() =>
          peer.onCandidate?.({
            candidate: `candidate:${id} 1 udp 1 127.0.0.1 9 typ host`,
            sdpMid: '0',
            sdpMLineIndex: 0,
          }),
        );
        return `fake-offer ${id}`;
      },
      setAnswer: async (sdp) => {
        const pair = this.pending.get(id);
        if (sdp !== `fake-answer ${id}` || !pair) throw new Error('wrong answer');
        this.pending.delete(id);
        if (pair.stall) return;
        opened = pair.client;
        this.clientLinks.push(pair.client);
        queueMicrotask(() => resolveLink(pair.client));
      },
      addCandidate: () => undefined,
      link,
      close: () => {
        if (closed) return;
        closed = true;
        this.openClient--;
        if (opened) opened.close('normal', 'peer closed');
        rejectLink(new Error('closed'));
      },
    };
    return peer;
  };

  serverPeer = (): UpgradeServerPeer => {
    let resolveLink!: (link: Link) => void;
    let rejectLink!: (err: Error) => void;
    const link = new Promise<Link>((resolve, reject) => {
      resolveLink = resolve;
      rejectLink = reject;
    });
    link.catch(() => undefined);
    let closed = false;
    let opened: TaggedLink | null = null;
    this.openServer++;
    return {
      answer: async (sdp) => {
        const match = /^fake-offer (\d+)$/.exec(sdp);
        if (!match) throw new Error('not a fake offer');
        const pair = { ...taggedPair(), stall: this.serverStalls };
        this.pending.set(match[1], pair);
        opened = pair.server;
        if (!pair.stall) queueMicrotask(() => resolveLink(pair.server));
        return `fake-answer ${match[1]}`;
      },
      addCandidate: (c) => {
        this.candidates.push(c.candidate);
      },
      link,
      close: () => {
        if (closed) return;
        closed = true;
        this.openServer--;
        if (opened) opened.close('normal', 'peer closed');
        rejectLink(new Error('closed'));
      },
    };
  };
}
