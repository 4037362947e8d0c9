// The checker walks every packcat schema type exactly as unpack does and refuses hostile bytes first.

import { describe, expect, it } from 'vitest';
import { build, compileChecker, p, type Schema } from '../../src/codec/index.js';
import { codeOf } from '../helpers/codes.js';
import { mulberry32, randomValue } from './fuzz-corpus.js';

const union = p.union('kind', [
  p.object({ kind: p.literal('a'), n: p.uint8() }),
  p.object({ kind: p.literal('b'), s: p.string(), on: p.boolean() }),
  p.object({ kind: p.literal('c') }),
]);

/** One case per packcat schema type (and the layouts that differ: fixed/variable lists, bitpacked booleans). */
const CASES: [string, Schema][] = [
  ['boolean', p.boolean()],
  ['string', p.string()],
  ['number', p.number()],
  ['varint', p.varint()],
  ['varuint', p.varuint()],
  ['int8', p.int8()],
  ['uint8', p.uint8()],
  ['int16', p.int16()],
  ['uint16', p.uint16()],
  ['int32', p.int32()],
  ['uint32', p.uint32()],
  ['int64', p.int64()],
  ['uint64', p.uint64()],
  ['float16', p.float16()],
  ['float32', p.float32()],
  ['float64', p.float64()],
  ['quantized 1 byte', p.quantized(0, 1, { bytes: 1 })],
  ['quantized 2 bytes', p.quantized(-100, 100, { step: 0.01 })],
  ['quantized 4 bytes', p.quantized(0, 1000, { step: 0.000001 })],
  ['quat', p.quat()],
  ['quat 1-byte components', p.quat({ step: 0.01 })],
  ['quat 4-byte components', p.quat({ step: 0.00001 })],
  ['uv2', p.uv2()],
  ['uv2 1 byte', p.uv2({ bytes: 1 })],
  ['uv3', p.uv3()],
  ['uv3 2 bytes', p.uv3({ bytes: 2 })],
  ['list', p.list(p.varuint())],
  ['list fixed', p.list(p.string(), 3)],
  ['list of fixed-size', p.list(p.float32())],
  ['list of booleans', p.list(p.boolean())],
  ['list of booleans fixed', p.list(p.boolean(), 11)],
  ['list of lists', p.list(p.list(p.int8()))],
  ['tuple', p.tuple([p.boolean(), p.string(), p.boolean(), p.uint16()])],
  ['object', p.object({ z: p.boolean(), a: p.varint(), m: p.boolean(), s: p.string(), f: p.float64() })],
  ['record', p.record(p.varuint())],
  ['record of booleans', p.record(p.boolean())],
  ['uint8Array', p.uint8Array()],
  ['uint8Array fixed', p.uint8Array(4)],
  ['int8Array', p.int8Array()],
  ['uint8ClampedArray', p.uint8ClampedArray()],
  ['int16Array', p.int16Array()],
  ['uint16Array fixed', p.uint16Array(3)],
  ['int32Array', p.int32Array()],
  ['uint32Array', p.uint32Array()],
  ['float32Array', p.float32Array()],
  ['float64Array', p.float64Array()],
  ['bigInt64Array', p.bigInt64Array()],
  ['bigUint64Array', p.bigUint64Array(2)],
  ['literal in object', p.object({ v: p.literal(3), x: p.uint8() })],
  ['enumeration', p.enumeration(['red', 'green', 'blue'])],
  ['nullable', p.nullable(p.string())],
  ['optional', p.optional(p.varint())],
  ['nullish', p.nullish(p.uint16())],
  ['optional boolean in object', p.object({ a: p.optional(p.boolean()), b: p.boolean() })],
  ['union', union],
];

describe('compileChecker: every packcat schema type', () => {
  for (const [name, schema] of CASES) {
    it(`${name}: valid values pass and unpack unchanged; every truncation and a trailing byte are refused`, () => {
      const { pack, unpack } = build(schema);
      const check = compileChecker(schema);
      const rnd = mulberry32(name.length * 7919);
      for (let round = 0; round < 25; round++) {
        const bytes = pack(randomValue(schema, rnd) as never);
        check(bytes, 0, bytes.length);
        const expected = unpack(bytes);
        // The payload inside a larger buffer: the checker takes a range, unpack a subarray view.
        const host = new Uint8Array(bytes.length + 7).fill(0xee);
        host.set(bytes, 3);
        check(host, 3, 3 + bytes.length);
        expect(unpack(host.subarray(3, 3 + bytes.length))).toEqual(expected);
        for (let cut = 0; cut < bytes.length; cut++) {
          expect(codeOf(() => check(bytes, 0, cut))).toBe('frame_truncated');
        }
        const longer = new Uint8Array(bytes.length + 1);
        longer.set(bytes);
        expect(codeOf(() => check(longer, 0, longer.length))).toBe('frame_trailing_bytes');
      }
    });
  }
});

const HUGE = [0xff, 0xff, 0xff, 0xff, 0x0f]; // varuint 0xffffffff

describe('compileChecker: hostile bytes', () => {
  it('refuses a 5-byte list announcing 0xffffffff elements at once, for every list layout', () => {
    for (const schema of [
      p.list(p.varuint()),
      p.list(p.boolean()),
      p.list(p.literal('x')),
      p.list(p.float32()),
    ]) {
      const check = compileChecker(schema);
      const started = performance.now();
      expect(codeOf(() => check(Uint8Array.from(HUGE), 0, 5))).toBe('list_too_long');
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect(codeOf(() => compileChecker(p.record(p.uint8()))(Uint8Array.from(HUGE), 0, 5))).toBe(
      'list_too_long',
    );
  });

  it('bounds typed arrays by the bytes present and strings by maxStringBytes', () => {
    expect(codeOf(() => compileChecker(p.float64Array())(Uint8Array.from(HUGE), 0, 5))).toBe(
      'frame_truncated',
    );
    expect(codeOf(() => compileChecker(p.string())(Uint8Array.from(HUGE), 0, 5))).toBe('string_too_long');
    const check = compileChecker(p.string(), { maxStringBytes: 3 });
    expect(codeOf(() => check(Uint8Array.from([3, 97, 98, 99]), 0, 4))).toBe('ok');
    expect(codeOf(() => check(Uint8Array.from([4, 97, 98, 99, 100]), 0, 5))).toBe('string_too_long');
  });

  it('applies maxListLength and the payload-wide maxElements budget', () => {
    const check = compileChecker(p.list(p.list(p.literal(1))), { maxListLength: 10, maxElements: 30 });
    expect(codeOf(() => check(Uint8Array.from([11]), 0, 1))).toBe('list_too_long');
    expect(codeOf(() => check(Uint8Array.from([2, 10, 10]), 0, 3))).toBe('ok');
    expect(codeOf(() => check(Uint8Array.from([3, 10, 10, 10]), 0, 4))).toBe('list_too_long');
    // A list whose count cannot fit in the bytes left is refused before walking it.
    expect(codeOf(() => compileChecker(p.list(p.float64()))(Uint8Array.from([100, 1, 2]), 0, 3))).toBe(
      'frame_truncated',
    );
  });

  it('refuses payloads over maxPayloadBytes', () => {
    const check = compileChecker(p.uint8Array(), { maxPayloadBytes: 8 });
    expect(codeOf(() => check(Uint8Array.from([7, 1, 2, 3, 4, 5, 6, 7]), 0, 8))).toBe('ok');
    expect(codeOf(() => check(new Uint8Array(9), 0, 9))).toBe('frame_too_large');
  });

  it('refuses nesting deeper than maxDepth, and only when the bytes go that deep', () => {
    let deep: Schema = p.uint8();
    for (let i = 0; i < 40; i++) deep = p.list(deep);
    const check = compileChecker(deep);
    expect(codeOf(() => check(Uint8Array.from([0]), 0, 1))).toBe('ok');
    expect(codeOf(() => check(new Uint8Array(40).fill(1), 0, 40))).toBe('payload_too_deep');
    let objects: Schema = p.object({ v: p.uint8() });
    for (let i = 0; i < 5; i++) objects = p.object({ inner: p.optional(objects) });
    const shallow = compileChecker(objects, { maxDepth: 3 });
    expect(codeOf(() => shallow(Uint8Array.from([0]), 0, 1))).toBe('ok');
    expect(codeOf(() => shallow(Uint8Array.from([1, 1, 1, 0]), 0, 4))).toBe('payload_too_deep');
  });

  it('refuses unknown union tags and enumeration indexes out of range', () => {
    expect(codeOf(() => compileChecker(union)(Uint8Array.from([3]), 0, 1))).toBe('payload_invalid');
    expect(codeOf(() => compileChecker(union)(Uint8Array.from([0x80, 0x01]), 0, 2))).toBe('payload_invalid');
    const colour = compileChecker(p.enumeration(['r', 'g']));
    expect(codeOf(() => colour(Uint8Array.from([1]), 0, 1))).toBe('ok');
    expect(codeOf(() => colour(Uint8Array.from([2]), 0, 1))).toBe('payload_invalid');
  });

  it('refuses flag and boolean bytes packcat never writes, and set padding bits', () => {
    const cases: [Schema, number[]][] = [
      [p.boolean(), [2]],
      [p.nullable(p.uint8()), [2, 0]],
      [p.optional(p.uint8()), [7, 0]],
      [p.nullish(p.uint8()), [3, 0]],
      [p.object({ a: p.boolean(), b: p.boolean() }), [0b100]],
      [p.list(p.boolean()), [3, 0b1000]],
      [p.list(p.boolean(), 2), [0b100]],
      [p.record(p.boolean()), [1, 1, 97, 0b10]],
      [p.quat(), [8, 0, 0, 0, 0, 0, 0]],
    ];
    for (const [schema, bytes] of cases) {
      expect(codeOf(() => compileChecker(schema)(Uint8Array.from(bytes), 0, bytes.length))).toBe(
        'payload_invalid',
      );
    }
  });

  it('refuses varuints over 5 bytes or 32 bits, and accepts the largest one', () => {
    const check = compileChecker(p.varuint());
    expect(codeOf(() => check(Uint8Array.from(HUGE), 0, 5))).toBe('ok');
    expect(codeOf(() => check(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x10]), 0, 5))).toBe(
      'payload_invalid',
    );
    expect(codeOf(() => check(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0, 6))).toBe(
      'payload_invalid',
    );
    expect(build(p.varuint()).unpack(Uint8Array.from(HUGE))).toBe(0xffffffff);
  });

  it('refuses invalid UTF-8 and a record key "__proto__"', () => {
    const check = compileChecker(p.string());
    for (const bad of [
      [0xff],
      [0xc0, 0x80],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xc3],
    ]) {
      expect(codeOf(() => check(Uint8Array.from([bad.length, ...bad]), 0, bad.length + 1))).toBe(
        'payload_invalid',
      );
    }
    const good = new TextEncoder().encode('aé日😀');
    expect(codeOf(() => check(Uint8Array.from([good.length, ...good]), 0, good.length + 1))).toBe('ok');
    const proto = new TextEncoder().encode('__proto__');
    const bytes = Uint8Array.from([1, proto.length, ...proto, 5]);
    expect(codeOf(() => compileChecker(p.record(p.uint8()))(bytes, 0, bytes.length))).toBe('payload_invalid');
  });

  it('refuses at compile time schemas packcat cannot round-trip, with protocol_invalid', () => {
    const bad: Schema[] = [
      p.quantized(0, 1000, { step: 0.0001 }), // 24 bits: packed in 3 bytes, read as 4
      p.quantized(0, 1, { bytes: 3 }),
      p.quantized(0, 1e12, { step: 0.001 }), // more than 32 bits
      p.uv2({ step: 0.000001 }),
      p.uv3({ step: 0.00001 }),
      { type: 'nope' } as unknown as Schema,
      p.union('t', [p.object({ t: p.literal(1) }), p.object({ t: p.literal(1) })]),
    ];
    for (const schema of bad) expect(codeOf(() => compileChecker(schema))).toBe('protocol_invalid');
    const cyclic = { type: 'list', of: null } as unknown as { type: 'list'; of: Schema };
    cyclic.of = cyclic;
    expect(codeOf(() => compileChecker(cyclic))).toBe('protocol_invalid');
  });
});
