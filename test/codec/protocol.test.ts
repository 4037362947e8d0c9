// defineProtocol: inferred types, deterministic and explicit op codes, a stable hash, checked encode and decode.

import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type ClientMessages,
  type DecodedMessage,
  defineProtocol,
  NetloomError,
  p,
  type ServerMessages,
} from '../../src/codec/index.js';
import { codeOf } from '../helpers/codes.js';

const player = p.object({ id: p.varuint(), x: p.float32(), y: p.float32() });
const arena = defineProtocol({
  client: {
    input: p.object({ seq: p.varuint(), dx: p.float32(), dy: p.float32() }),
    chat: { op: 2, schema: p.object({ text: p.string(), to: p.optional(p.varuint()) }) },
    blob: p.object({ data: p.uint8Array() }),
  },
  server: {
    state: p.object({ tick: p.varuint(), ack: p.varuint(), players: p.list(player) }),
    event: p.union('type', [
      p.object({ type: p.literal('hit'), by: p.varuint() }),
      p.object({ type: p.literal('score'), points: p.varint() }),
    ]),
  },
});

describe('defineProtocol types', () => {
  it('infers message names and payload types end to end', () => {
    type C = ClientMessages<typeof arena>;
    type S = ServerMessages<typeof arena>;
    expectTypeOf<keyof C>().toEqualTypeOf<'input' | 'chat' | 'blob'>();
    expectTypeOf<keyof S>().toEqualTypeOf<'state' | 'event'>();
    expectTypeOf<C['input']>().toEqualTypeOf<{ seq: number; dx: number; dy: number }>();
    expectTypeOf<C['chat']>().toEqualTypeOf<{ text: string; to: number | undefined }>();
    expectTypeOf<S['state']['players']>().toEqualTypeOf<{ id: number; x: number; y: number }[]>();
    expectTypeOf<S['event']>().toEqualTypeOf<
      { type: 'hit'; by: number } | { type: 'score'; points: number }
    >();
    expectTypeOf(arena.client.encode).parameter(0).toEqualTypeOf<'input' | 'chat' | 'blob'>();
    expectTypeOf(arena.server.decode).returns.toEqualTypeOf<DecodedMessage<S>>();
    const input = arena.client.encode('input', { seq: 1, dx: 0, dy: 0 });
    const decoded = arena.client.decode(input.op, input.payload);
    if (decoded.name === 'chat') expectTypeOf(decoded.value).toEqualTypeOf<C['chat']>();
    // @ts-expect-error unknown message name
    expect(() => arena.client.encode('nope', {})).toThrow(NetloomError);
    // @ts-expect-error wrong payload type
    expect(() => arena.client.encode('input', { seq: 'one', dx: 0, dy: 0 })).toThrow(NetloomError);
  });
});

describe('op codes', () => {
  it('keeps explicit ops and numbers the rest from 1 in sorted name order, skipping taken ops', () => {
    expect(arena.client.messages.map((m) => [m.name, m.op, m.explicit])).toEqual([
      ['blob', 1, false],
      ['chat', 2, true],
      ['input', 3, false],
    ]);
    expect(arena.server.messages.map((m) => [m.name, m.op])).toEqual([
      ['event', 1],
      ['state', 2],
    ]);
    expect(arena.client.opOf('chat')).toBe(2);
    expect(arena.client.nameOf(3)).toBe('input');
    expect(arena.client.nameOf(99)).toBeUndefined();
    expect(arena.client.has('input')).toBe(true);
    expect(arena.client.has('state')).toBe(false);
  });

  it('does not depend on the order the messages were written in', () => {
    const a = defineProtocol({ client: { b: p.uint8(), a: p.uint8(), c: p.uint8() }, server: {} });
    const b = defineProtocol({ client: { c: p.uint8(), a: p.uint8(), b: p.uint8() }, server: {} });
    expect(a.client.messages.map((m) => m.op)).toEqual([1, 2, 3]);
    expect(a.client.messages.map((m) => m.name)).toEqual(b.client.messages.map((m) => m.name));
    expect(a.hash).toBe(b.hash);
  });

  it('refuses duplicate ops, ops out of range and bad schemas with protocol_invalid', () => {
    const dup = () =>
      defineProtocol({
        client: { a: { op: 5, schema: p.uint8() }, b: { op: 5, schema: p.uint8() } },
        server: {},
      });
    expect(codeOf(dup)).toBe('protocol_invalid');
    expect(codeOf(() => defineProtocol({ client: { a: { op: 0, schema: p.uint8() } }, server: {} }))).toBe(
      'protocol_invalid',
    );
    expect(
      codeOf(() => defineProtocol({ client: { a: { op: 70000, schema: p.uint8() } }, server: {} })),
    ).toBe('protocol_invalid');
    expect(codeOf(() => defineProtocol({ client: { a: { op: 1.5, schema: p.uint8() } }, server: {} }))).toBe(
      'protocol_invalid',
    );
    expect(codeOf(() => defineProtocol({ client: { q: p.quantized(0, 1, { bytes: 3 }) }, server: {} }))).toBe(
      'protocol_invalid',
    );
    expect(codeOf(() => defineProtocol({ client: {}, server: {} }, { limits: { maxDepth: -1 } }))).toBe(
      'protocol_invalid',
    );
    // The same name in both directions is fine: each direction has its own names and ops.
    expect(codeOf(() => defineProtocol({ client: { chat: p.string() }, server: { chat: p.string() } }))).toBe(
      'ok',
    );
  });
});

describe('protocol hash', () => {
  it('is stable for equal definitions and differs when names, ops, schemas or directions differ', () => {
    const make = () =>
      defineProtocol({
        client: { move: p.object({ x: p.float32(), y: p.float32() }) },
        server: { s: p.varuint() },
      });
    const base = make().hash;
    expect(base).toMatch(/^[0-9a-f]{8}$/);
    expect(make().hash).toBe(base);
    // Field order in the object literal does not change the wire format, so not the hash either.
    expect(
      defineProtocol({
        client: { move: p.object({ y: p.float32(), x: p.float32() }) },
        server: { s: p.varuint() },
      }).hash,
    ).toBe(base);
    const variants = [
      defineProtocol({
        client: { move: p.object({ x: p.float64(), y: p.float32() }) },
        server: { s: p.varuint() },
      }),
      defineProtocol({
        client: { walk: p.object({ x: p.float32(), y: p.float32() }) },
        server: { s: p.varuint() },
      }),
      defineProtocol({
        client: { move: { op: 7, schema: p.object({ x: p.float32(), y: p.float32() }) } },
        server: { s: p.varuint() },
      }),
      defineProtocol({
        client: { s: p.varuint() },
        server: { move: p.object({ x: p.float32(), y: p.float32() }) },
      }),
      defineProtocol({
        client: { move: p.object({ x: p.float32(), y: p.float32() }) },
        server: { s: p.varint() },
      }),
    ];
    const hashes = new Set([base, ...variants.map((v) => v.hash)]);
    expect(hashes.size).toBe(variants.length + 1);
  });
});

describe('encode and decode', () => {
  const players = Array.from({ length: 16 }, (_, i) => ({ id: i, x: i * 1.5, y: -i / 4 }));

  it('round-trips every message, including from a view inside a larger buffer', () => {
    const { op, payload } = arena.server.encode('state', { tick: 9, ack: 3, players });
    expect(op).toBe(2);
    const host = new Uint8Array(payload.length + 10);
    host.set(payload, 6);
    const decoded = arena.server.decode(op, host.subarray(6, 6 + payload.length));
    expect(decoded).toEqual({ name: 'state', value: { tick: 9, ack: 3, players } });
    const ev = arena.server.encode('event', { type: 'score', points: -5 });
    expect(arena.server.decode(ev.op, ev.payload)).toEqual({
      name: 'event',
      value: { type: 'score', points: -5 },
    });
    const chat = arena.client.encode('chat', { text: 'hé', to: undefined });
    expect(arena.client.decode(chat.op, chat.payload).value).toEqual({ text: 'hé' });
  });

  it('decodes byte arrays into a private copy so the frame buffer can be reused', () => {
    const { op, payload } = arena.client.encode('blob', { data: Uint8Array.from([1, 2, 3]) });
    const decoded = arena.client.decode(op, payload);
    payload.fill(0);
    expect(decoded.value).toEqual({ data: Uint8Array.from([1, 2, 3]) });
  });

  it('refuses unknown ops and hostile payloads before unpack', () => {
    expect(codeOf(() => arena.client.decode(0, new Uint8Array(1)))).toBe('unknown_op');
    expect(codeOf(() => arena.client.decode(77, new Uint8Array(1)))).toBe('unknown_op');
    expect(codeOf(() => arena.client.decode(-1, new Uint8Array(1)))).toBe('unknown_op');
    const opState = arena.server.opOf('state');
    // ack 0, players: 0xffffffff elements
    const huge = Uint8Array.from([0, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(codeOf(() => arena.server.decode(opState, huge))).toBe('list_too_long');
    expect(codeOf(() => arena.server.check(opState, huge))).toBe('list_too_long');
    const { payload } = arena.server.encode('state', { tick: 9, ack: 3, players });
    expect(codeOf(() => arena.server.decode(opState, payload.subarray(0, payload.length - 1)))).toBe(
      'frame_truncated',
    );
    expect(codeOf(() => arena.server.decode(arena.server.opOf('event'), Uint8Array.from([2, 0])))).toBe(
      'payload_invalid',
    );
  });

  it('refuses values that do not fit the schema with encode_invalid and a path', () => {
    const bad = [
      { tick: -1, ack: 0, players: [] },
      { tick: 2 ** 32, ack: 0, players: [] },
      { tick: 1, ack: 0, players: [{ id: 1, x: 'a', y: 0 }] },
      { tick: 1, ack: 0, players: [null] },
      { tick: 1, ack: 0 },
      null,
    ];
    for (const value of bad) {
      expect(codeOf(() => arena.server.encode('state', value as never))).toBe('encode_invalid');
    }
    try {
      arena.server.encode('state', { tick: 1, ack: 0, players: [{ id: 1, x: 'a', y: 0 }] } as never);
    } catch (err) {
      expect((err as Error).message).toContain('value.players[0].x');
    }
    expect(codeOf(() => arena.server.encode('event', { type: 'miss', by: 1 } as never))).toBe(
      'encode_invalid',
    );
  });

  it('refuses on encode what a peer with the same limits would refuse', () => {
    const small = defineProtocol(
      { client: { say: p.string(), many: p.list(p.uint8()) }, server: {} },
      {
        limits: { maxStringBytes: 4, maxListLength: 3 },
      },
    );
    expect(codeOf(() => small.client.encode('say', 'abcd'))).toBe('ok');
    expect(codeOf(() => small.client.encode('say', 'abcde'))).toBe('encode_invalid');
    expect(codeOf(() => small.client.encode('many', [1, 2, 3, 4]))).toBe('encode_invalid');
    expect(small.limits.maxStringBytes).toBe(4);
  });
});

describe('encodeTransient', () => {
  const proto = defineProtocol(
    { client: {}, server: { blob: p.object({ items: p.list(p.uint32()), name: p.string() }) } },
    { limits: { maxListLength: 100_000, maxElements: 100_000, maxPayloadBytes: 300_000 } },
  );

  it('gives the same bytes as encode, growing its scratch buffer for large payloads', () => {
    for (const count of [0, 10, 2_000, 50_000]) {
      const value = { items: Array.from({ length: count }, (_, i) => i * 7), name: `n${count}` };
      const kept = proto.server.encode('blob', value);
      const transient = proto.server.encodeTransient('blob', value);
      expect(transient.op).toBe(kept.op);
      expect(transient.payload).toEqual(kept.payload);
      expect(proto.server.decode(transient.op, transient.payload).value).toEqual(value);
    }
  });

  it('refuses invalid values and payloads over the limit with encode_invalid', () => {
    expect(codeOf(() => proto.server.encodeTransient('blob', { items: [-1], name: '' }))).toBe(
      'encode_invalid',
    );
    const tooBig = { items: Array.from({ length: 80_000 }, () => 0xffffffff), name: '' };
    expect(codeOf(() => proto.server.encodeTransient('blob', tooBig))).toBe('encode_invalid');
  });
});
