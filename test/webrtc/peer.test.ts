// WebRTC peers: answers and ICE options, bad SDP and candidates, timeouts, congestion and close paths, leaks.
import { afterEach, describe, expect, it } from 'vitest';
import { weriftPeerConnection } from '../../src/client/node-webrtc.js';
import {
  createClientPeer,
  type RTCPeerConnectionConstructorLike,
  webRtcAvailable,
} from '../../src/client/transports/webrtc.js';
import { NetloomError } from '../../src/codec/errors.js';
import type { DataChannelLike } from '../../src/link/datachannel.js';
import {
  checkCandidate,
  createServerPeer,
  openServerPeerCount,
  type ServerPeer,
  type WebRtcServerOptions,
} from '../../src/server/transports/webrtc/index.js';
import { until } from '../helpers/netloom.js';
import { makeFrame, Probe, sameBytes } from '../link/conformance.js';
import { createWebRtcPair, type WebRtcPair } from './pair.js';
import { connectRawClient, type RawClient, rawOffer, rawPeerConnection } from './raw-client.js';

// The browser's types satisfy the structural ones (checked by tsc).
const fromDom: RTCPeerConnectionConstructorLike | undefined = (
  globalThis as { RTCPeerConnection?: typeof RTCPeerConnection }
).RTCPeerConnection;
const domChannel: DataChannelLike | undefined = undefined as RTCDataChannel | undefined;
void fromDom;
void domChannel;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await until(() => openServerPeerCount() === 0, 5_000, 'server peers to close');
});

function serverPeer(options: WebRtcServerOptions = {}): ServerPeer {
  const peer = createServerPeer(options);
  cleanups.push(() => peer.close());
  return peer;
}

async function pair(...args: Parameters<typeof createWebRtcPair>): Promise<WebRtcPair> {
  const p = await createWebRtcPair(...args);
  cleanups.push(() => p.cleanup());
  return p;
}

async function raw(peer: ServerPeer): Promise<RawClient> {
  const client = await connectRawClient(peer);
  cleanups.push(() => client.close());
  return client;
}

async function offerSdp(): Promise<string> {
  const { pc } = rawPeerConnection();
  cleanups.push(() => pc.close());
  return rawOffer(pc);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NetloomError);
  return (err as NetloomError).code;
}

function candidatesIn(sdp: string): Array<{ address: string; port: number; type: string }> {
  return sdp
    .split(/\r?\n/)
    .filter((line) => line.startsWith('a=candidate:'))
    .map((line) => {
      const parts = line.split(' ');
      return { address: parts[4], port: Number(parts[5]), type: parts[7] };
    });
}

/** Expects `peer` to be closed with its link rejected with `code`. */
async function expectRefused(peer: ServerPeer, code: string): Promise<void> {
  expect(peer.closed).toBe(true);
  expect(await codeOf(peer.link)).toBe(code);
}

describe('server peer: answers and ICE options', () => {
  it('answers ICE-lite with host candidates only, on 127.0.0.1 and announced addresses', async () => {
    const peer = serverPeer({ announcedAddresses: ['203.0.113.7'] });
    const answer = await peer.answer(await offerSdp());
    expect(answer).toMatch(/\r\na=ice-lite\r\n/);
    const candidates = candidatesIn(answer);
    expect(candidates.length).toBeGreaterThanOrEqual(2);
    expect(candidates.every((c) => c.type === 'host')).toBe(true);
    expect(candidates.map((c) => c.address)).toEqual(expect.arrayContaining(['127.0.0.1', '203.0.113.7']));
    expect(candidates.every((c) => !c.address.includes(':'))).toBe(true); // IPv4 only by default
  });

  it('keeps 127.0.0.1 out when announceLoopback is false, and uses the port range', async () => {
    const peer = serverPeer({
      announceLoopback: false,
      announcedAddresses: ['198.51.100.9'],
      portRange: [47_000, 47_100],
    });
    const candidates = candidatesIn(await peer.answer(await offerSdp()));
    expect(candidates.map((c) => c.address)).not.toContain('127.0.0.1');
    expect(candidates.map((c) => c.address)).toContain('198.51.100.9');
    for (const c of candidates) {
      expect(c.port).toBeGreaterThanOrEqual(47_000);
      expect(c.port).toBeLessThanOrEqual(47_100);
    }
  });

  it('refuses bad options with request_invalid', () => {
    for (const options of [
      { announcedAddresses: ['not-an-ip'] },
      { announcedAddresses: ['2001:db8::1'] },
      { portRange: [5, 5] as [number, number] },
      { portRange: [0, 70_000] as [number, number] },
      { iceServers: [{ urls: 'http://example.invalid' }] },
      { connectTimeoutMs: -1 },
      { maxCandidates: Number.NaN },
    ]) {
      const before = openServerPeerCount();
      expect(() => createServerPeer(options)).toThrowError(
        expect.objectContaining({ code: 'request_invalid' }),
      );
      expect(openServerPeerCount()).toBe(before);
    }
  });

  it('queues candidates that arrive before the offer, then connects', async () => {
    const peer = serverPeer();
    const { pc, reliable } = rawPeerConnection();
    cleanups.push(() => pc.close());
    const offer = await rawOffer(pc);
    const lines = offer.split('\r\n').filter((line) => line.startsWith('a=candidate:'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines)
      await peer.addCandidate({ candidate: line.slice(2), sdpMid: '0', sdpMLineIndex: 0 });
    await peer.addCandidate({ candidate: '', sdpMid: '0' }); // end of candidates
    const withoutCandidates = offer
      .split('\r\n')
      .filter((line) => !line.startsWith('a=candidate:'))
      .join('\r\n');
    await pc.setRemoteDescription({ type: 'answer', sdp: await peer.answer(withoutCandidates) });
    const link = await peer.link;
    const atServer = new Probe(link);
    await new Promise<void>((resolve) => {
      if (reliable.readyState === 'open') resolve();
      else reliable.onopen = () => resolve();
    });
    reliable.send(Buffer.from([1, 2, 3]));
    await atServer.wait(() => atServer.frames.reliable.length === 1, 'a frame');
    expect([...atServer.frames.reliable[0]]).toEqual([1, 2, 3]);
  });

  it('accepts mDNS candidates without resolving them, and strips them from offers', async () => {
    const peer = serverPeer();
    await peer.addCandidate({
      candidate: 'candidate:1 1 udp 2122260223 4b1f0a2e-9c1d-4e43-a3e4-2f6d0c9a1b7e.local 54321 typ host',
      sdpMid: '0',
    });
    const offer = (await offerSdp()).replace(
      'a=end-of-candidates',
      'a=candidate:9 1 udp 2122260223 0f0e0d0c-0b0a-0908-0706-050403020100.local 50000 typ host\r\na=end-of-candidates',
    );
    const answer = await peer.answer(offer);
    expect(answer).toMatch(/^v=0/);
    expect(peer.closed).toBe(false);
  });
});

describe('server peer: bad input closes the peer with a code', () => {
  it('refuses an offer over maxSdpBytes with sdp_too_large', async () => {
    const peer = serverPeer({ maxSdpBytes: 500 });
    const offer = await offerSdp();
    expect(offer.length).toBeGreaterThan(500);
    expect(await codeOf(peer.answer(offer))).toBe('sdp_too_large');
    await expectRefused(peer, 'sdp_too_large');
  });

  it('refuses a huge offer without choking on it', async () => {
    const peer = serverPeer();
    expect(await codeOf(peer.answer(`v=0\r\n${'a=x\r\n'.repeat(1_000_000)}`))).toBe('sdp_too_large');
    await expectRefused(peer, 'sdp_too_large');
  });

  for (const [what, mutate] of [
    ['garbage', () => 'hello world'],
    ['a number', () => 42 as unknown as string],
    [
      'an audio section',
      (sdp: string) => sdp.replace(/m=application [^\r]*/, 'm=audio 9 UDP/TLS/RTP/SAVPF 111'),
    ],
    ['no fingerprint', (sdp: string) => sdp.replace(/a=fingerprint:[^\r]*\r\n/, '')],
    ['no ICE credentials', (sdp: string) => sdp.replace(/a=ice-pwd:[^\r]*\r\n/, '')],
    ['control characters', (sdp: string) => sdp.replace('s=-', 's=\u0000')],
    [
      'a malformed candidate line',
      (sdp: string) => sdp.replace(/a=candidate:[^\r]*/, 'a=candidate:1 1 udp x 1.2.3.4 5 typ host'),
    ],
    ['a line that is not type=value', (sdp: string) => `${sdp}garbage\r\n`],
  ] as const) {
    it(`refuses an offer with ${what} with sdp_invalid`, async () => {
      const peer = serverPeer();
      expect(await codeOf(peer.answer((mutate as (sdp: string) => string)(await offerSdp())))).toBe(
        'sdp_invalid',
      );
      await expectRefused(peer, 'sdp_invalid');
    });
  }

  it('refuses an offer with more than maxCandidates candidates with candidate_limit', async () => {
    const peer = serverPeer({ maxCandidates: 1 });
    const offer = await offerSdp();
    expect(candidatesIn(offer).length).toBeGreaterThan(1);
    expect(await codeOf(peer.answer(offer))).toBe('candidate_limit');
    await expectRefused(peer, 'candidate_limit');
  });

  it('refuses trickled candidates beyond maxCandidates with candidate_limit', async () => {
    const peer = serverPeer({ maxCandidates: 2 });
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host', sdpMid: '0' };
    await peer.addCandidate(candidate);
    await peer.addCandidate(candidate);
    expect(await codeOf(peer.addCandidate(candidate))).toBe('candidate_limit');
    await expectRefused(peer, 'candidate_limit');
  });

  for (const [what, candidate] of [
    ['null', null],
    ['a string', 'candidate:1 1 udp 1 1.2.3.4 5 typ host'],
    ['no candidate field', { sdpMid: '0' }],
    ['garbage text', { candidate: 'garbage' }],
    ['a bad address', { candidate: 'candidate:1 1 udp 2122260223 999.1.1.1 5000 typ host' }],
    ['a bad port', { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 70000 typ host' }],
    ['a bad type', { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 5000 typ bogus' }],
    [
      'a dangling extension',
      { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host generation' },
    ],
    [
      'an overlong line',
      { candidate: `candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host ufrag ${'a'.repeat(600)}` },
    ],
    [
      'a bad sdpMLineIndex',
      { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host', sdpMLineIndex: -1 },
    ],
    ['a bad sdpMid', { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host', sdpMid: 7 }],
  ] as const) {
    it(`refuses a candidate that is ${what} with candidate_invalid`, async () => {
      const peer = serverPeer();
      expect(await codeOf(peer.addCandidate(candidate as never))).toBe('candidate_invalid');
      await expectRefused(peer, 'candidate_invalid');
    });
  }

  it('refuses a candidate for an unknown media section after the answer', async () => {
    const peer = serverPeer();
    await peer.answer(await offerSdp());
    const code = await codeOf(
      peer.addCandidate({
        candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host',
        sdpMid: 'nope',
      }),
    );
    expect(code).toBe('candidate_invalid');
    expect(peer.closed).toBe(true);
  });

  it('refuses a second offer with signal_unexpected, and calls after close with peer_closed', async () => {
    const peer = serverPeer();
    const offer = await offerSdp();
    await peer.answer(offer);
    expect(await codeOf(peer.answer(offer))).toBe('signal_unexpected');
    await expectRefused(peer, 'signal_unexpected');
    expect(await codeOf(peer.answer(offer))).toBe('peer_closed');
    expect(await codeOf(peer.addCandidate({ candidate: '' }))).toBe('peer_closed');
  });

  it('checks candidates as the signaling layer may use them', () => {
    expect(
      checkCandidate({ candidate: 'a=candidate:1 1 UDP 2122260223 ::1 5000 typ host generation 0' }).end,
    ).toBe(false);
    expect(checkCandidate({ candidate: '' }).end).toBe(true);
    expect(checkCandidate({ candidate: 'candidate:1 1 udp 1 x.local 1 typ host' }).mdns).toBe(true);
  });
});

describe('timeouts and closing before the link opens', () => {
  it('rejects link with peer_timeout when no offer arrives, and releases the peer', async () => {
    const peer = serverPeer({ connectTimeoutMs: 100 });
    expect(await codeOf(peer.link)).toBe('peer_timeout');
    expect(peer.closed).toBe(true);
  });

  it('rejects link with peer_timeout when the client never takes the answer', async () => {
    const peer = serverPeer({ connectTimeoutMs: 300 });
    await peer.answer(await offerSdp());
    expect(await codeOf(peer.link)).toBe('peer_timeout');
    await until(() => openServerPeerCount() === 0, 5_000, 'the peer to close');
  });

  it('rejects the client link with peer_timeout when no answer comes', async () => {
    const client = createClientPeer({ RTCPeerConnection: weriftPeerConnection(), connectTimeoutMs: 100 });
    cleanups.push(() => client.close());
    await client.offer();
    expect(await codeOf(client.link)).toBe('peer_timeout');
    expect(client.closed).toBe(true);
  });

  it('rejects link with peer_closed when closed before it opens', async () => {
    const peer = serverPeer();
    peer.close('kicked', 'bye');
    await expectRefused(peer, 'peer_closed');
    const client = createClientPeer({ RTCPeerConnection: weriftPeerConnection() });
    client.close();
    expect(await codeOf(client.link)).toBe('peer_closed');
    expect(await codeOf(client.offer())).toBe('peer_closed');
  });
});

describe('client peer: availability and bad answers', () => {
  it('reports availability and refuses to start without a constructor', () => {
    expect(webRtcAvailable(undefined)).toBe(false);
    expect(webRtcAvailable(weriftPeerConnection())).toBe(true);
    expect(webRtcAvailable()).toBe(
      typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function',
    );
    const g = globalThis as { RTCPeerConnection?: unknown };
    const saved = g.RTCPeerConnection;
    delete g.RTCPeerConnection;
    try {
      expect(() => createClientPeer()).toThrowError(
        expect.objectContaining({ code: 'transport_unavailable' }),
      );
    } finally {
      if (saved !== undefined) g.RTCPeerConnection = saved;
    }
  });

  it('refuses an answer before the offer, garbage answers and oversize answers', async () => {
    const early = createClientPeer({ RTCPeerConnection: weriftPeerConnection() });
    cleanups.push(() => early.close());
    expect(await codeOf(early.setAnswer('v=0\r\n'))).toBe('signal_unexpected');

    for (const [answer, code] of [
      ['not sdp', 'sdp_invalid'],
      [`v=0\r\n${'a=x\r\n'.repeat(10_000)}`, 'sdp_too_large'],
      ['v=0\r\nm=application nonsense\r\n', 'sdp_invalid'],
    ] as const) {
      const client = createClientPeer({ RTCPeerConnection: weriftPeerConnection() });
      cleanups.push(() => client.close());
      await client.offer();
      expect(await codeOf(client.setAnswer(answer))).toBe(code);
      expect(client.closed).toBe(true);
      expect(await codeOf(client.link)).toBe(code);
    }
  });

  it('refuses a second offer() with signal_unexpected', async () => {
    const client = createClientPeer({ RTCPeerConnection: weriftPeerConnection() });
    cleanups.push(() => client.close());
    await client.offer();
    expect(await codeOf(client.offer())).toBe('signal_unexpected');
  });
});

describe('WebRTC link behaviour', () => {
  it('is a webrtc link on both sides', async () => {
    const { client, server } = await pair();
    expect(client.transport).toBe('webrtc');
    expect(server.transport).toBe('webrtc');
  });

  it('drops unreliable frames when congested, keeps the buffer bounded, and still delivers reliable ones', async () => {
    const { client, server } = await pair({}, { unreliableDropBytes: 8_192 });
    const atServer = new Probe(server, false);
    let maxBuffered = 0;
    for (let i = 0; i < 2_000; i++) {
      client.send('unreliable', makeFrame(i, 1_000));
      maxBuffered = Math.max(maxBuffered, client.bufferedBytes);
    }
    expect(client.stats().droppedOut).toBeGreaterThan(0);
    expect(client.stats().framesOut.unreliable + client.stats().droppedOut).toBe(2_000);
    expect(maxBuffered).toBeLessThanOrEqual(8_192 + 1_000);
    expect(client.send('reliable', makeFrame(1, 100))).toBe(true);
    await atServer.wait(() => server.stats().framesIn.reliable === 1, 'the reliable frame');
    expect(server.stats().framesIn.unreliable).toBeLessThanOrEqual(client.stats().framesOut.unreliable);
  });

  it('closes with slow_consumer when reliable frames would buffer over maxBufferedBytes', async () => {
    const { client, server } = await pair({}, { maxBufferedBytes: 64 * 1024 });
    const atClient = new Probe(client);
    const atServer = new Probe(server);
    let sent = 0;
    while (client.send('reliable', makeFrame(sent, 8_000))) sent++;
    expect(sent).toBeLessThanOrEqual(8);
    expect(atClient.closes).toEqual([expect.objectContaining({ code: 'slow_consumer', local: false })]);
    await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
    expect(atServer.closes[0]).toMatchObject({ code: 'link_closed', local: false });
    expect(atServer.closes[0].reason).toMatch(/^slow_consumer/);
    // Frames accepted before the close still arrived, in order, before it.
    expect(atServer.frames.reliable.length).toBe(sent);
    expect(atServer.frames.reliable.every((f, i) => sameBytes(f, makeFrame(i, 8_000)))).toBe(true);
  });

  it('closes with frame_too_large when the peer sends a frame over maxFrameBytes, telling it', async () => {
    const { client, server } = await pair({ maxFrameBytes: 1_000 });
    const atClient = new Probe(client);
    const atServer = new Probe(server);
    expect(client.send('reliable', makeFrame(0, 1_000))).toBe(true);
    expect(client.send('reliable', makeFrame(1, 1_001))).toBe(true);
    await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
    expect(atServer.frames.reliable).toHaveLength(1);
    expect(atServer.closes[0]).toMatchObject({ code: 'frame_too_large', local: false });
    await atClient.wait(() => atClient.closes.length > 0, 'client onclose');
    expect(atClient.closes[0]).toMatchObject({ code: 'link_closed', local: false });
    expect(atClient.closes[0].reason).toMatch(/^frame_too_large/);
  });

  it('refuses to send a frame over the limit: reliable closes with message_too_large, unreliable drops', async () => {
    const { client } = await pair();
    const atClient = new Probe(client);
    expect(client.send('unreliable', new Uint8Array(65_537))).toBe(false);
    expect(client.stats().droppedOut).toBe(1);
    expect(client.isOpen).toBe(true);
    expect(client.send('reliable', new Uint8Array(65_537))).toBe(false);
    expect(atClient.closes).toEqual([expect.objectContaining({ code: 'message_too_large', local: false })]);
  });

  it('closes with internal_error when onframe throws, without crashing the process', async () => {
    const { client, server } = await pair();
    const atServer = new Probe(server, true, () => {
      throw new Error('handler bug');
    });
    const atClient = new Probe(client);
    client.send('reliable', makeFrame(0, 10));
    await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
    expect(atServer.closes[0]).toMatchObject({ code: 'internal_error', local: false });
    await atClient.wait(() => atClient.closes.length > 0, 'client onclose');
    expect(atClient.closes[0]).toMatchObject({ code: 'link_closed', local: false });
  });

  it('holds frames that arrive before onframe is set', async () => {
    const { client, server } = await pair();
    for (let i = 0; i < 5; i++) client.send('reliable', makeFrame(i, 50));
    await until(() => client.bufferedBytes === 0, 5_000, 'frames to leave');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const atServer = new Probe(server);
    await atServer.wait(() => atServer.frames.reliable.length === 5, 'held frames');
    expect(atServer.frames.reliable.every((f, i) => sameBytes(f, makeFrame(i, 50)))).toBe(true);
  });

  it('closing the server peer closes its link and tells the client the code', async () => {
    const { client, server, serverPeer } = await pair();
    const atClient = new Probe(client);
    const atServer = new Probe(server);
    serverPeer.close('kicked', 'bye');
    expect(serverPeer.closed).toBe(true);
    await atClient.wait(() => atClient.closes.length > 0, 'client onclose');
    expect(atServer.closes).toEqual([{ code: 'kicked', reason: 'bye', local: true }]);
    expect(atClient.closes).toEqual([{ code: 'link_closed', reason: 'kicked: bye', local: false }]);
  });
});

describe('what a raw client can send the server link', () => {
  for (const [what, send] of [
    ['a text message on the reliable channel', (c: RawClient) => c.reliable.send('hello')],
    ['a text message on the unreliable channel', (c: RawClient) => c.unreliable.send('{"close":"normal"}')],
    ['a notice with a bad code', (c: RawClient) => c.reliable.send('{"close":"Not A Code!"}')],
  ] as const) {
    it(`closes with frame_malformed on ${what}`, async () => {
      const peer = serverPeer();
      const client = await raw(peer);
      const atServer = new Probe(await peer.link);
      const closedAtClient = new Promise<void>((resolve) => {
        client.reliable.onclose = () => resolve();
      });
      send(client);
      await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
      expect(atServer.closes).toEqual([expect.objectContaining({ code: 'frame_malformed', local: false })]);
      await closedAtClient; // the server closed the channels
      await until(() => openServerPeerCount() === 0, 5_000, 'the peer to close');
    });
  }

  it('reports a close notice with its code and reason', async () => {
    const peer = serverPeer();
    const client = await raw(peer);
    const atServer = new Probe(await peer.link);
    client.reliable.send(Buffer.from([7]));
    client.reliable.send(JSON.stringify({ close: 'kicked', reason: 'bye' }));
    await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
    expect(atServer.frames.reliable.map((f) => [...f])).toEqual([[7]]);
    expect(atServer.closes).toEqual([{ code: 'link_closed', reason: 'kicked: bye', local: false }]);
  });

  it('ends the link with link_closed when the client vanishes without a word (ICE consent expires)', async () => {
    const peer = serverPeer({ consentTimeoutMs: 1_500 });
    const client = await raw(peer);
    const atServer = new Probe(await peer.link);
    await client.pc.close(); // werift sends nothing the server would notice
    await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
    expect(atServer.closes[0]).toMatchObject({ code: 'link_closed', local: false });
    expect(atServer.closes[0].reason).toMatch(/ICE consent expired/);
    await until(() => openServerPeerCount() === 0, 5_000, 'the peer to close');
  });

  it('ends the link with link_closed when the client closes a datachannel', async () => {
    const peer = serverPeer();
    const client = await raw(peer);
    const atServer = new Probe(await peer.link);
    client.unreliable.close();
    await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
    expect(atServer.closes[0]).toMatchObject({ code: 'link_closed', local: false });
    await until(() => openServerPeerCount() === 0, 5_000, 'the peer to close');
  });
});

describe('resources', () => {
  it('releases every peer connection and UDP socket after many set-ups and closes', async () => {
    const udpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWRAP').length;
    const before = udpSockets();
    for (let i = 0; i < 4; i++) {
      const p = await createWebRtcPair();
      expect(openServerPeerCount()).toBe(1);
      if (i % 2 === 0) p.client.close();
      else p.server.close('kicked');
      await p.cleanup();
    }
    // Refused peers too.
    for (let i = 0; i < 4; i++)
      await createServerPeer()
        .answer('junk')
        .catch(() => {});
    await until(() => openServerPeerCount() === 0, 5_000, 'server peers to close');
    await until(() => udpSockets() <= before, 5_000, 'UDP sockets to close');
    expect(udpSockets()).toBeLessThanOrEqual(before);
  });
});
