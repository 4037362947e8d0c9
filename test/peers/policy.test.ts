// The server's peer policy: allowed types, per-pair rate limit, the room's relayed byte cap, inspection of payloads, and the relay when no direct link may form.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client, NetloomError } from '../../src/client/index.js';
import { codeOf } from '../helpers/codes.js';
import { until } from '../helpers/netloom.js';
import { allOn, joinPeers, type PeerServer, peerProtocol, startPeerServer } from './harness.js';
import { peerDataFrame, rawMember } from './raw-member.js';

let server: PeerServer | null = null;
let clients: Client[] = [];
const raws: Array<{ peer: { ws: { close(): void } } }> = [];

afterEach(async () => {
  for (const c of clients) c.close();
  for (const r of raws.splice(0)) r.peer.ws.close();
  clients = [];
  await server?.close();
  server = null;
});

const op = (name: 'chat' | 'pos' | 'seq') => peerProtocol.peer.opOf(name);

describe('peer policy', () => {
  it('relays every pair when maxMesh is 0, and counts the relayed bytes', async () => {
    server = await startPeerServer({ maxMesh: 0 });
    const joined = await joinPeers(server.url, 3);
    clients = joined.clients;
    const [a, b, c] = joined.rooms;
    const got: string[] = [];
    for (const r of [b, c]) r.peers.on('chat', (m, from) => got.push(`${r.clientId}<${from}:${m.text}`));
    expect(a.peers.broadcast('chat', { text: 'hi' })).toBe(2);
    a.peers.send(c.clientId, 'pos', { x: 1, y: 2 }, { reliable: false });
    await until(() => got.length === 2, 5_000, 'relayed chat');
    expect(got.sort()).toEqual([`${b.clientId}<${a.clientId}:hi`, `${c.clientId}<${a.clientId}:hi`].sort());
    expect(a.peers.list().every((p) => p.path === 'relay')).toBe(true);
    expect(server.app.netloom.metrics().peer_relay_bytes).toBeGreaterThan(0);
    expect(joined.rtcs.every((r) => r.made.length === 0)).toBe(true); // no peer connection was even tried
  }, 20_000);

  it('falls back to the relay when a member has no RTCPeerConnection', async () => {
    server = await startPeerServer();
    const joined = await joinPeers(server.url, 2, { rtc: false });
    clients = joined.clients;
    const [a, b] = joined.rooms;
    const got: number[] = [];
    b.peers.on('seq', (m) => got.push(m.n));
    for (let n = 1; n <= 20; n++) a.peers.send(b.clientId, 'seq', { n });
    await until(() => got.length === 20, 5_000, 'messages over the relay');
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(a.peers.list()[0].path).toBe('relay');
  }, 20_000);

  it('refuses a type outside `types`, on the client and on the server, without breaking the pair', async () => {
    server = await startPeerServer({ types: ['seq', 'pos'], maxMesh: 0 });
    const joined = await joinPeers(server.url, 1);
    clients = joined.clients;
    const [b] = joined.rooms;
    expect(codeOf(() => b.peers.send('x', 'chat', { text: 'no' }))).toBe('peer_type_refused');
    const raw = await rawMember(server, b.id);
    raws.push(raw);
    const errors: NetloomError[] = [];
    b.peers.on('peer-error', (e) => errors.push(e.error));
    const got: string[] = [];
    b.peers.on('chat', (m) => got.push(m.text));
    b.peers.on('seq', (m) => got.push(`seq ${m.n}`));
    const chat = peerProtocol.peer.encode('chat', { text: 'sneaky' }).payload;
    raw.sendPeer(b.clientId, peerDataFrame(op('chat'), chat, 1));
    const seq = peerProtocol.peer.encode('seq', { n: 7 }).payload;
    raw.sendPeer(b.clientId, peerDataFrame(op('seq'), seq, 2));
    await until(() => got.length === 1, 5_000, 'the allowed message');
    expect(got).toEqual(['seq 7']); // the refused one kept its place in the sequence
    await until(() => raw.refusals().length === 1, 5_000, 'refusal to the sender');
    expect(raw.refusals()).toEqual([`${b.clientId}:peer_type_refused`]);
    expect(errors.map((e) => e.code)).toEqual(['peer_type_refused']);
    expect(server.app.netloom.metrics()['errors{peer_type_refused}']).toBe(1);
  }, 20_000);

  it('limits the rate of relayed messages per pair', async () => {
    server = await startPeerServer({ maxMesh: 0, ratePerSecond: 5, burst: 10 });
    const joined = await joinPeers(server.url, 2);
    clients = joined.clients;
    const [a, b] = joined.rooms;
    const errors: string[] = [];
    a.peers.on('peer-error', (e) => errors.push(e.error.code));
    const got: number[] = [];
    b.peers.on('seq', (m) => got.push(m.n));
    for (let n = 1; n <= 100; n++) a.peers.send(b.clientId, 'seq', { n });
    await until(() => errors.includes('peer_rate_exceeded'), 5_000, 'rate refusal');
    await until(
      () => (server?.app.netloom.metrics()['errors{peer_rate_exceeded}'] ?? 0) >= 80,
      5_000,
      'count',
    );
    expect(got.length).toBeGreaterThanOrEqual(10);
    expect(got.length).toBeLessThan(20);
    expect(got.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    // The pair goes on once the bucket refills.
    await new Promise((r) => setTimeout(r, 600));
    a.peers.send(b.clientId, 'seq', { n: 1_000 });
    await until(() => got.includes(1_000), 5_000, 'a later message');
  }, 20_000);

  it("caps the room's relayed bytes", async () => {
    server = await startPeerServer({ maxMesh: 0, maxRelayBytes: 600 });
    const joined = await joinPeers(server.url, 2);
    clients = joined.clients;
    const [a, b] = joined.rooms;
    const errors: string[] = [];
    a.peers.on('peer-error', (e) => errors.push(e.error.code));
    const got: string[] = [];
    b.peers.on('chat', (m) => got.push(m.text));
    for (let n = 0; n < 40; n++) a.peers.send(b.clientId, 'chat', { text: `${n}`.padStart(40, '.') });
    await until(() => errors.includes('peer_relay_cap'), 5_000, 'cap refusal');
    await until(() => (server?.app.netloom.metrics()['errors{peer_relay_cap}'] ?? 0) > 0, 5_000, 'count');
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(40);
    expect(server.app.netloom.metrics().peer_relay_bytes).toBeLessThan(1_200);
  }, 20_000);

  it('checks relayed payloads when inspecting, and forwards them opaque when not', async () => {
    for (const inspect of [true, false]) {
      server = await startPeerServer({ maxMesh: 0, inspect });
      const joined = await joinPeers(server.url, 1);
      clients = joined.clients;
      const [b] = joined.rooms;
      const raw = await rawMember(server, b.id);
      raws.push(raw);
      const errors: string[] = [];
      b.peers.on('peer-error', (e) => errors.push(e.error.code));
      // `seq` is { n: varuint }: six 0xff bytes are no varuint.
      raw.sendPeer(b.clientId, peerDataFrame(op('seq'), new Uint8Array(6).fill(0xff), 1));
      await until(() => errors.length === 1, 5_000, 'the receiver hears of it');
      if (inspect) {
        await until(() => raw.refusals().length === 1, 5_000, 'refusal');
        expect(raw.refusals()[0]).toBe(`${b.clientId}:payload_invalid`);
      } else expect(raw.refusals()).toEqual([]);
      expect(errors).toEqual(['payload_invalid']); // refused by the server, or by the receiving client
      for (const c of clients) c.close();
      clients = [];
      await server.close();
      server = null;
    }
  }, 30_000);

  it('links directly only the pairs the mesh picks (maxMesh)', async () => {
    server = await startPeerServer({ maxMesh: 1 });
    const joined = await joinPeers(server.url, 3);
    clients = joined.clients;
    const [a, b, c] = joined.rooms;
    await until(
      () => a.peers.list().find((p) => p.id === b.clientId)?.path === 'direct',
      10_000,
      'the first pair direct',
    );
    expect(c.peers.list().every((p) => p.path === 'relay')).toBe(true);
    const got: string[] = [];
    c.peers.on('chat', (m, from) => got.push(`${from}:${m.text}`));
    a.peers.send(c.clientId, 'chat', { text: 'via relay' });
    await until(() => got.length === 1, 5_000, 'relayed chat');
    expect(got).toEqual([`${a.clientId}:via relay`]);
    // When a leaves, b and c get the freed slots and link directly.
    await a.leave();
    await allOn([b, c], 'direct');
  }, 30_000);
});
