// Peer-assisted rooms over werift on loopback: peers learn each other, direct links form and carry reliable and unreliable messages.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { until } from '../helpers/netloom.js';
import { allOn, joinPeers, type PeerServer, peerClient, peerProtocol, startPeerServer } from './harness.js';

let server: PeerServer | null = null;
let clients: Client[] = [];

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await server?.close();
  server = null;
});

describe('peer-assisted room', () => {
  it('tells members who their peers are, then links them directly', async () => {
    server = await startPeerServer();
    const joined = await joinPeers(server.url, 3);
    clients = joined.clients;
    const [a, b, c] = joined.rooms;
    expect(a.peers.enabled).toBe(true);
    expect(a.peers.self).toBe(a.clientId);
    expect(
      a.peers
        .list()
        .map((p) => p.id)
        .sort(),
    ).toEqual([b.clientId, c.clientId].sort());
    const links: string[] = [];
    b.peers.on('peer-link', (e) => links.push(`${e.id}:${e.path}`));
    await allOn(joined.rooms, 'direct');
    expect(links.sort()).toEqual([`${a.clientId}:direct`, `${c.clientId}:direct`].sort());
    // No ICE server unless the server configures one: host candidates only, nothing leaves loopback.
    expect(joined.rtcs.flatMap((r) => r.configs ?? []).every((c) => c.iceServers.length === 0)).toBe(true);

    const got: Array<{ n: number; from: string }> = [];
    c.peers.on('seq', (msg, from) => got.push({ n: msg.n, from }));
    const pos: number[] = [];
    c.peers.on('pos', (msg) => pos.push(msg.x));
    for (let n = 1; n <= 50; n++) a.peers.send(c.clientId, 'seq', { n });
    for (let n = 1; n <= 20; n++) a.peers.send(c.clientId, 'pos', { x: n, y: 0 }, { reliable: false });
    b.peers.broadcast('seq', { n: 1000 });
    await until(() => got.length === 51 && pos.length > 0, 5_000, 'peer messages');
    expect(got.filter((g) => g.from === a.clientId).map((g) => g.n)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect(got.find((g) => g.from === b.clientId)?.n).toBe(1000);
    // Everything went direct: the server relayed no data bytes.
    const relayed = server.app.netloom.metrics().peer_relay_bytes ?? 0;
    expect(relayed).toBeLessThan(200);
  }, 30_000);

  it('links a full mesh of 8 members and reaches every peer with one broadcast each', async () => {
    server = await startPeerServer();
    const joined = await joinPeers(server.url, 8);
    clients = joined.clients;
    await allOn(joined.rooms, 'direct', 30_000);
    const heard = new Map<string, Set<string>>();
    for (const room of joined.rooms) {
      heard.set(room.clientId, new Set());
      room.peers.on('chat', (_m, from) => heard.get(room.clientId)?.add(from));
    }
    for (const room of joined.rooms) expect(room.peers.broadcast('chat', { text: room.clientId })).toBe(7);
    await until(() => [...heard.values()].every((s) => s.size === 7), 10_000, 'every broadcast');
  }, 60_000);

  it('reports peers joining and leaving, and closes the direct links of a member who leaves', async () => {
    server = await startPeerServer();
    const first = await joinPeers(server.url, 2);
    clients = first.clients;
    const [a, b] = first.rooms;
    const events: string[] = [];
    a.peers.on('peer-join', (e) => events.push(`join:${e.id}`));
    a.peers.on('peer-leave', (e) => events.push(`leave:${e.id}`));
    await allOn(first.rooms, 'direct');
    const third = peerClient(server.url);
    clients.push(third);
    const c = await third.joinById(a.id, {}, { protocol: peerProtocol });
    await until(() => events.length === 1, 5_000, 'peer-join');
    expect(events).toEqual([`join:${c.clientId}`]);
    const joinedC: string[] = [];
    c.peers.on('peer-join', (e) => joinedC.push(e.id)); // listeners added after the join still see everyone
    await until(() => joinedC.length === 2, 5_000, 'existing peers announced');
    expect(joinedC.sort()).toEqual([a.clientId, b.clientId].sort());
    await allOn([a, b, c], 'direct');
    await b.leave();
    await until(() => events.length === 2, 5_000, 'peer-leave');
    expect(events[1]).toBe(`leave:${b.clientId}`);
    expect(a.peers.list().map((p) => p.id)).toEqual([c.clientId]);
    await until(
      () => first.rtcs[1].made.every((pc) => pc.connectionState === 'closed'),
      5_000,
      "the leaver's peer connections to close",
    );
    await c.leave();
  }, 30_000);
});
