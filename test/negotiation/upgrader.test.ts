// The client negotiator on its own: candidate queueing both ways, timeouts, refusals, backoff and stale answers.
import { describe, expect, it } from 'vitest';
import {
  type ClientCandidate,
  type UpgradeEvent,
  type UpgradePeer,
  Upgrader,
} from '../../src/client/upgrade.js';
import type { Link, LinkCloseInfo } from '../../src/link/link.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { SignalMessage } from '../../src/signaling/index.js';
import { taggedPair } from './fake-rtc.js';

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function candidate(n: number): ClientCandidate {
  return {
    candidate: `candidate:${n} 1 udp 1 127.0.0.1 ${9000 + n} typ host`,
    sdpMid: '0',
    sdpMLineIndex: 0,
  };
}

/** A peer driven by hand: the test decides when the offer, the answer and the link settle. */
function manualPeer() {
  const added: string[] = [];
  let answer!: () => void;
  let openLink!: (link: Link) => void;
  let failLink!: (err: Error) => void;
  let closed = 0;
  const peer: UpgradePeer = {
    onCandidate: null,
    offer: async () => 'v=0 offer',
    setAnswer: (sdp) => {
      added.push(`answer:${sdp}`);
      return new Promise<void>((resolve) => {
        answer = resolve;
      });
    },
    addCandidate: (c) => {
      added.push(c.candidate);
    },
    link: new Promise<Link>((resolve, reject) => {
      openLink = resolve;
      failLink = reject;
    }),
    close: () => {
      closed++;
    },
  };
  peer.link.catch(() => undefined);
  return {
    peer,
    added,
    answer: () => answer(),
    open: (link: Link) => openLink(link),
    fail: () => failLink(new Error('ice failed')),
    closed: () => closed,
  };
}

function harness(options: { available?: boolean } = {}) {
  const clock = new ManualClock();
  const sent: SignalMessage[] = [];
  const events: UpgradeEvent[] = [];
  const peers: Array<ReturnType<typeof manualPeer>> = [];
  const adopted: Array<{ link: Link; hooks: { acked(): void; closed(info: LinkCloseInfo): void } }> = [];
  const upgrader = new Upgrader(
    {
      clock,
      random: () => 1,
      signal: (m) => {
        sent.push(m);
        return true;
      },
      adopt: (link, hooks) => {
        adopted.push({ link, hooks });
        return true;
      },
      report: (e) => events.push(e),
    },
    {
      name: 'webrtc',
      available: () => options.available ?? true,
      createPeer: () => {
        const p = manualPeer();
        peers.push(p);
        return p.peer;
      },
    },
    [],
    { timeoutMs: 1_000, retryBaseMs: 100, retryMaxMs: 400 },
  );
  return { clock, sent, events, peers, adopted, upgrader };
}

describe('Upgrader', () => {
  it('sends local candidates only after the offer and holds remote ones until the answer is set', async () => {
    const h = harness();
    h.upgrader.start();
    const p = h.peers[0];
    p.peer.onCandidate?.(candidate(1)); // gathered before the offer went out
    await flush();
    expect(h.sent.map((m) => m.kind)).toEqual(['offer', 'candidate']);
    p.peer.onCandidate?.(candidate(2));
    expect(h.sent.map((m) => m.kind)).toEqual(['offer', 'candidate', 'candidate']);
    h.upgrader.signal({ kind: 'candidate', ...candidate(3) }); // before the answer: held
    expect(p.added).toEqual([]);
    h.upgrader.signal({ kind: 'answer', sdp: 'v=0 answer' });
    h.upgrader.signal({ kind: 'candidate', ...candidate(4) }); // answer being set: still held
    await flush();
    expect(p.added).toEqual(['answer:v=0 answer']);
    p.answer();
    await flush();
    expect(p.added).toEqual(['answer:v=0 answer', candidate(3).candidate, candidate(4).candidate]);
    h.upgrader.signal({ kind: 'answer', sdp: 'v=0 stale' }); // a second answer is ignored
    h.upgrader.signal({ kind: 'candidate', ...candidate(5) }); // after the answer: straight through
    await flush();
    expect(p.added.slice(1)).toEqual([3, 4, 5].map((n) => candidate(n).candidate));
    const pair = taggedPair();
    p.open(pair.client);
    await flush();
    expect(h.adopted.length).toBe(1);
    expect(h.upgrader.state).toBe('switching');
    h.adopted[0].hooks.acked();
    expect(h.upgrader.state).toBe('active');
    expect(h.events).toEqual([{ type: 'upgraded', transport: 'webrtc' }]);
  });

  it('times out, tells the server, and retries with doubling delays', async () => {
    const h = harness();
    h.upgrader.start();
    await flush();
    h.clock.advance(1_000);
    expect(h.sent.at(-1)).toMatchObject({ kind: 'close', code: 'upgrade_timeout' });
    expect(h.peers[0].closed()).toBe(1);
    expect(h.events).toEqual([{ type: 'failed', code: 'upgrade_timeout', retryInMs: 100 }]);
    expect(h.upgrader.state).toBe('waiting');
    h.clock.advance(100);
    expect(h.peers.length).toBe(2);
    await flush();
    h.peers[1].fail(); // the connection fails outright
    await flush();
    expect(h.events.at(-1)).toEqual({ type: 'failed', code: 'upgrade_failed', retryInMs: 200 });
    h.clock.advance(200);
    await flush();
    h.upgrader.signal({ kind: 'close', code: 'signal_rate_exceeded' }); // refused by the server: not told back
    expect(h.events.at(-1)).toEqual({ type: 'failed', code: 'signal_rate_exceeded', retryInMs: 400 });
    expect(h.sent.filter((m) => m.kind === 'close').length).toBe(2);
    h.clock.advance(400);
    expect(h.peers.length).toBe(4);
    h.upgrader.stop(); // the base link was lost: abandon quietly
    expect(h.peers[3].closed()).toBe(1);
    expect(h.upgrader.state).toBe('idle');
    h.clock.advance(10_000);
    expect(h.peers.length).toBe(4);
  });

  it('retries after the upgraded link is lost and abandons a link that opens too late', async () => {
    const h = harness();
    h.upgrader.start();
    await flush();
    const late = h.peers[0];
    h.clock.advance(1_000); // timed out...
    const pair = taggedPair();
    late.open(pair.client); // ...then the link opens anyway
    await flush();
    expect(pair.client.isOpen).toBe(false);
    expect(h.adopted.length).toBe(0);
    h.clock.advance(100);
    await flush();
    const second = taggedPair();
    h.peers[1].open(second.client);
    await flush();
    h.adopted[0].hooks.acked();
    h.adopted[0].hooks.closed({ code: 'link_closed', reason: 'gone', local: false });
    expect(h.events.at(-1)).toEqual({ type: 'lost', code: 'link_closed', retryInMs: 200 });
    h.clock.advance(200);
    expect(h.peers.length).toBe(3);
  });

  it('does nothing when the runtime lacks the transport or the preference puts websocket first', () => {
    const h = harness({ available: false });
    h.upgrader.start();
    expect(h.peers.length).toBe(0);
    const clock = new ManualClock();
    const preferWs = new Upgrader(
      { clock, random: Math.random, signal: () => true, adopt: () => true, report: () => undefined },
      { name: 'webrtc', available: () => true, createPeer: () => manualPeer().peer },
      [],
      { transports: ['websocket', 'webrtc'] },
    );
    expect(preferWs.wanted).toBe(false);
    preferWs.start();
    expect(preferWs.state).toBe('idle');
  });
});
