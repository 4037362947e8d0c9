// Hostile peer traffic: signaling outside a shared peers room, malformed relay frames and fuzzed PEER messages never crash the server nor break other pairs.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { ByteReader } from '../../src/codec/bytes.js';
import { NetloomError } from '../../src/codec/errors.js';
import { decodeMessage, encodeFrame, FrameKind, MessageKind, PeerPart } from '../../src/codec/frames.js';
import { mulberry32 } from '../codec/fuzz-corpus.js';
import { until } from '../helpers/netloom.js';
import { joinPeers, type PeerServer, peerProtocol, startPeerServer } from './harness.js';
import { peerDataFrame, type RawMember, rawMember } from './raw-member.js';

let server: PeerServer | null = null;
let clients: Client[] = [];
const raws: RawMember[] = [];

afterEach(async () => {
  for (const c of clients) c.close();
  for (const r of raws.splice(0)) r.peer.ws.close();
  clients = [];
  await server?.close();
  server = null;
});

/** Close codes of the SIGNAL messages a raw member got back from `peer`. */
function signalCloses(raw: RawMember, peer: string): string[] {
  return raw.messages().flatMap((m) => {
    if (m.kind !== MessageKind.Signal || m.peer !== peer) return [];
    const parsed = JSON.parse(m.payload) as { kind: string; code?: string };
    return parsed.kind === 'close' ? [parsed.code ?? 'normal'] : [];
  });
}

const offer = JSON.stringify({ kind: 'offer', sdp: 'v=0\r\n' });

describe('hostile peer traffic', () => {
  it('refuses signaling to anyone not sharing a peers room with a code', async () => {
    server = await startPeerServer({ maxMesh: 0 });
    const meshRoom = await joinPeers(server.url, 1);
    const plainRoom = await joinPeers(server.url, 1, { type: 'plain' });
    clients = [...meshRoom.clients, ...plainRoom.clients];
    const [b] = meshRoom.rooms;
    const [outsider] = plainRoom.rooms;
    const raw = await rawMember(server, b.id);
    raws.push(raw);
    raw.send({ kind: MessageKind.Signal, peer: outsider.clientId, payload: offer });
    raw.send({ kind: MessageKind.Signal, peer: 'nobody', payload: offer });
    raw.send({ kind: MessageKind.Signal, peer: b.clientId, payload: offer }); // same room, but not in the mesh
    await until(
      () => raw.messages().filter((m) => m.kind === MessageKind.Signal).length === 3,
      5_000,
      'answers',
    );
    expect(signalCloses(raw, outsider.clientId)).toEqual(['signal_peer_unknown']);
    expect(signalCloses(raw, 'nobody')).toEqual(['signal_peer_unknown']);
    expect(signalCloses(raw, b.clientId)).toEqual(['peer_mesh_refused']);

    // Two members of a room without peers cannot signal each other either.
    const plainRaw = await rawMember(server, outsider.id);
    raws.push(plainRaw);
    plainRaw.send({ kind: MessageKind.Signal, peer: outsider.clientId, payload: offer });
    await until(() => signalCloses(plainRaw, outsider.clientId).length === 1, 5_000, 'refusal');
    expect(signalCloses(plainRaw, outsider.clientId)).toEqual(['signal_peer_unknown']);
    // A peer frame in a room without peers is refused too.
    plainRaw.sendPeer(outsider.clientId, peerDataFrame(1, new Uint8Array([0]), 1));
    await until(() => plainRaw.refusals().length === 1, 5_000, 'peers_disabled');
    expect(plainRaw.refusals()).toEqual([`${outsider.clientId}:peers_disabled`]);
  }, 20_000);

  it('refuses malformed signals between linked members', async () => {
    server = await startPeerServer({ maxMesh: 4 });
    const joined = await joinPeers(server.url, 1, { rtc: false });
    clients = joined.clients;
    const [b] = joined.rooms;
    const raw = await rawMember(server, b.id);
    raws.push(raw);
    raw.send({ kind: MessageKind.Signal, peer: b.clientId, payload: '{"kind":"offer","sdp":1}' });
    raw.send({ kind: MessageKind.Signal, peer: b.clientId, payload: 'not json' });
    await until(() => signalCloses(raw, b.clientId).length === 2, 5_000, 'refusals');
    expect(signalCloses(raw, b.clientId)).toEqual(['signal_invalid', 'signal_invalid']);
  }, 20_000);

  it('survives malformed relay frames, and other pairs carry on', async () => {
    server = await startPeerServer({ maxMesh: 0 });
    const joined = await joinPeers(server.url, 2);
    clients = joined.clients;
    const [a, b] = joined.rooms;
    const raw = await rawMember(server, b.id);
    raws.push(raw);
    const rnd = mulberry32(0x9ee5);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
    const valid = peerDataFrame(peerProtocol.peer.opOf('seq'), Uint8Array.of(5), 1);
    for (let i = 0; i < 300; i++) {
      const target = i % 3 === 0 ? 'nobody' : i % 3 === 1 ? b.clientId : raw.clientId;
      let frame: Uint8Array;
      if (i % 2 === 0) frame = bytes(1 + Math.floor(rnd() * 40));
      else {
        frame = valid.slice();
        frame[Math.floor(rnd() * frame.length)] = Math.floor(rnd() * 256);
      }
      raw.sendPeer(target, frame, i % 5 !== 0);
    }
    // Inner frames a client must not relay: HELLO, CLOSE, a NOTICE placeholder of its own, a room handle.
    raw.sendPeer(b.clientId, encodeFrame({ kind: FrameKind.Close, code: 'normal', reason: '' }));
    raw.sendPeer(
      b.clientId,
      encodeFrame({
        kind: FrameKind.Reliable,
        seq: 9,
        message: { kind: MessageKind.Notice, code: 'x', message: '' },
      }),
    );
    raw.sendPeer(
      b.clientId,
      encodeFrame({
        kind: FrameKind.Reliable,
        seq: 9,
        message: { kind: MessageKind.Room, handle: 3, op: 1, payload: new Uint8Array() },
      }),
    );
    const got: number[] = [];
    b.peers.on('seq', (m, from) => from === a.clientId && got.push(m.n));
    for (let n = 1; n <= 10; n++) a.peers.send(b.clientId, 'seq', { n });
    await until(() => got.length === 10, 5_000, 'the honest pair');
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(raw.peer.ws.readyState).toBe(1); // bad inner frames are refused, not a reason to end the session
    const m = server.app.netloom.metrics();
    expect(m.peer_relay_refused).toBeGreaterThan(100);

    // A PEER message a client may not send (a set-up) ends that session with frame_malformed.
    raw.send({ kind: MessageKind.Peer, handle: 1, part: PeerPart.Setup, setup: '{}' });
    expect((await raw.peer.closed).closeFrameCode).toBe('frame_malformed');
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
  }, 20_000);

  it('decodes fuzzed PEER messages or throws a NetloomError', () => {
    const rnd = mulberry32(0x1d1d);
    const seen = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const n = Math.floor(rnd() * 48);
      const body = Uint8Array.from({ length: n + 1 }, (_, k) =>
        k === 0 ? MessageKind.Peer : Math.floor(rnd() * 256),
      );
      if (n > 1 && rnd() < 0.7) {
        body[1] = Math.floor(rnd() * 128); // a one-byte handle
        body[2] = Math.floor(rnd() * 4); // mostly a known part
        if (n > 3 && rnd() < 0.5) body[3] = Math.floor(rnd() * 8); // a short peer id
      }
      let outcome = 'ok';
      try {
        const m = decodeMessage(new ByteReader(body), 256);
        if (m.kind !== MessageKind.Peer) throw new Error('wrong kind');
        if (m.part === PeerPart.Frame) expect(m.frame.length).toBeGreaterThan(0);
      } catch (err) {
        if (!(err instanceof NetloomError)) throw err;
        outcome = err.code;
      }
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    }
    expect(seen.get('ok')).toBeGreaterThan(50);
    expect(seen.get('frame_truncated')).toBeGreaterThan(100);
  });
});
