// Unit level: the PEER message on the wire, the protocol's peer section, the mesh, the set-up parser and the policy defaults.
import { describe, expect, it } from 'vitest';
import { parsePeerSetup } from '../../src/client/peers/setup.js';
import {
  decodeFrame,
  encodeFrame,
  FrameKind,
  type Message,
  MessageKind,
  PeerPart,
} from '../../src/codec/frames.js';
import { defineProtocol, fnv1a32, p } from '../../src/codec/index.js';
import { Mesh } from '../../src/server/rooms/peers/mesh.js';
import { PEER_DEFAULTS, resolvePeerPolicy } from '../../src/server/rooms/peers/options.js';
import { codeOf } from '../helpers/codes.js';

function roundTrip(message: Message): Message {
  const frame = decodeFrame(encodeFrame({ kind: FrameKind.Reliable, seq: 3, message }));
  if (frame.kind !== FrameKind.Reliable) throw new Error('not reliable');
  return frame.message;
}

describe('PEER message', () => {
  it('round-trips its three parts with the bytes WIRE.md shows', () => {
    const frame = {
      kind: MessageKind.Peer,
      handle: 2,
      part: PeerPart.Frame,
      peer: 'ab',
      frame: Uint8Array.of(6, 1),
    } as const;
    expect(Array.from(encodeFrame({ kind: FrameKind.Reliable, seq: 3, message: frame }))).toEqual([
      0x03, 0x03, 0x1d, 0x02, 0x00, 0x02, 0x61, 0x62, 0x06, 0x01,
    ]);
    expect(roundTrip(frame)).toEqual(frame);
    // WIRE.md §8's example: `ab` sends `seq { n: 5 }` (peer op 3), seq 1, to `cd` in session frame 9.
    const inner = encodeFrame({
      kind: FrameKind.Reliable,
      seq: 1,
      message: { kind: MessageKind.Room, handle: 0, op: 3, payload: Uint8Array.of(5) },
    });
    const outer = encodeFrame({
      kind: FrameKind.Reliable,
      seq: 9,
      message: { kind: MessageKind.Peer, handle: 1, part: PeerPart.Frame, peer: 'cd', frame: inner },
    });
    expect(Array.from(outer, (b) => b.toString(16).padStart(2, '0')).join(' ')).toBe(
      '03 09 1d 01 00 02 63 64 03 01 15 00 03 05',
    );
    const setup = { kind: MessageKind.Peer, handle: 1, part: PeerPart.Setup, setup: '{"self":"x"}' } as const;
    expect(roundTrip(setup)).toEqual(setup);
    const refused = {
      kind: MessageKind.Peer,
      handle: 1,
      part: PeerPart.Refused,
      peer: 'ab',
      code: 'peer_rate_exceeded',
      reason: 'slow down',
    } as const;
    expect(roundTrip(refused)).toEqual(refused);
  });

  it('refuses an empty peer frame, an unknown part and trailing bytes', () => {
    expect(codeOf(() => decodeFrame(Uint8Array.of(0x03, 1, 0x1d, 1, 0, 1, 0x61)))).toBe('frame_truncated');
    expect(codeOf(() => decodeFrame(Uint8Array.of(0x03, 1, 0x1d, 1, 3)))).toBe('frame_malformed');
    expect(codeOf(() => decodeFrame(Uint8Array.of(0x03, 1, 0x1d, 1, 1, 1, 0x61, 0)))).toBe(
      'frame_trailing_bytes',
    );
  });
});

describe('protocol peer section', () => {
  const base = { client: { a: p.varuint() }, server: { b: p.string() } };

  it('leaves the hash of a protocol without `peer` as it was, and changes it with one', () => {
    const plain = defineProtocol(base);
    // WIRE.md §5.3 as it stood before the peer section: client and server rows only.
    const text = '{"client":[[1,"a",{"type":"varuint"}]],"server":[[1,"b",{"type":"string"}]]}';
    expect(plain.hash).toBe(fnv1a32(`netloom-protocol/1${text}`));
    expect(plain.peer.messages).toEqual([]);
    const withPeers = defineProtocol({
      ...base,
      peer: { pos: p.object({ x: p.float32() }), chat: p.string() },
    });
    expect(withPeers.hash).not.toBe(plain.hash);
    expect(withPeers.peer.messages.map((m) => [m.name, m.op])).toEqual([
      ['chat', 1],
      ['pos', 2],
    ]);
    const { op, payload } = withPeers.peer.encode('pos', { x: 1.5 });
    expect(withPeers.peer.decode(op, payload)).toEqual({ name: 'pos', value: { x: 1.5 } });
    expect(codeOf(() => withPeers.peer.decode(op, Uint8Array.of(1)))).toBe('frame_truncated');
    expect(withPeers.peer.side).toBe('peer');
  });
});

describe('mesh', () => {
  it('pairs each member with at most maxMesh others, in join order, and refills on leave', () => {
    const mesh = new Mesh(2);
    expect(mesh.add('a')).toEqual(['a']);
    expect(mesh.add('b')).toEqual(['b', 'a']);
    expect(mesh.add('c')).toEqual(['c', 'a', 'b']);
    expect(mesh.add('d')).toEqual(['d']); // everyone else is full
    expect(mesh.direct('d')).toEqual([]);
    expect(mesh.linked('a', 'b')).toBe(true);
    const changed = mesh.remove('a');
    expect(changed.sort()).toEqual(['b', 'c', 'd']);
    expect(mesh.direct('d').sort()).toEqual(['b', 'c']);
    for (const id of ['b', 'c', 'd']) expect(mesh.direct(id).length).toBeLessThanOrEqual(2);
    expect(new Mesh(0).add('x')).toEqual(['x']);
  });
});

describe('peer set-up and policy', () => {
  it('parses a set-up strictly', () => {
    const good = {
      self: 'a',
      direct: ['b'],
      types: [1, 2],
      maxPayloadBytes: 100,
      pingIntervalMs: 250,
      idleTimeoutMs: 1000,
      connectTimeoutMs: 10000,
    };
    expect(parsePeerSetup(JSON.stringify(good))).toEqual(good);
    for (const bad of [
      '',
      '[]',
      JSON.stringify({ ...good, self: 3 }),
      JSON.stringify({ ...good, types: [-1] }),
    ])
      expect(codeOf(() => parsePeerSetup(bad))).toBe('payload_invalid');
    expect(codeOf(() => parsePeerSetup(JSON.stringify({ ...good, iceServers: [{ urls: 5 }] })))).toBe(
      'payload_invalid',
    );
  });

  it('has a default for every limit, and no ICE servers of its own (host candidates only)', () => {
    expect(resolvePeerPolicy(undefined)).toBeNull();
    expect(resolvePeerPolicy({ enabled: false })).toBeNull();
    const policy = resolvePeerPolicy({});
    expect(policy).toEqual({ ...PEER_DEFAULTS, burst: PEER_DEFAULTS.ratePerSecond * 2 });
    expect(policy?.iceServers).toBeNull();
    expect(codeOf(() => resolvePeerPolicy({ maxMesh: -1 }))).toBe('protocol_invalid');
  });
});
