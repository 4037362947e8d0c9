// ByteReader/ByteWriter: varuint edge cases, bounds checks and strings.

import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, varuintSize, writeVaruint } from '../../src/codec/index.js';
import { codeOf } from '../helpers/codes.js';

const EDGES = [
  0,
  1,
  0x7f,
  0x80,
  0xff,
  0x3fff,
  0x4000,
  0x1fffff,
  0x200000,
  0xfffffff,
  0x10000000,
  0xffffffff,
  2 ** 32,
  2 ** 35 - 1,
  2 ** 35,
  2 ** 49 - 1,
  2 ** 49,
  Number.MAX_SAFE_INTEGER,
];

describe('varuint', () => {
  it('round-trips edge values with the size varuintSize predicts', () => {
    for (const v of EDGES) {
      const bytes = new ByteWriter(1).varuint(v).finish();
      expect(bytes.length, `size of ${v}`).toBe(varuintSize(v));
      const buf = new Uint8Array(10);
      expect(writeVaruint(buf, 1, v)).toBe(1 + bytes.length);
      expect(buf.subarray(1, 1 + bytes.length)).toEqual(bytes);
      const r = new ByteReader(bytes);
      expect(r.varuint()).toBe(v);
      r.done();
    }
  });

  it('writes unsigned LEB128, low group first', () => {
    expect(Array.from(new ByteWriter().varuint(300).finish())).toEqual([0xac, 0x02]);
    expect(Array.from(new ByteWriter().varuint(0x7f).finish())).toEqual([0x7f]);
    expect(Array.from(new ByteWriter().varuint(0x80).finish())).toEqual([0x80, 0x01]);
  });

  it('refuses to encode negative, fractional or unsafe integers', () => {
    for (const v of [-1, 1.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY]) {
      expect(codeOf(() => new ByteWriter().varuint(v))).toBe('encode_invalid');
    }
  });

  it('throws frame_truncated when the last byte still has its continuation bit', () => {
    for (const v of EDGES) {
      const bytes = new ByteWriter().varuint(v).finish();
      for (let cut = 0; cut < bytes.length; cut++) {
        expect(codeOf(() => new ByteReader(bytes, 0, cut).varuint())).toBe('frame_truncated');
      }
    }
  });

  it('refuses more than 8 bytes and values above 2^53 - 1 with frame_malformed', () => {
    const nine = Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
    expect(codeOf(() => new ByteReader(nine).varuint())).toBe('frame_malformed');
    const big = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]); // 2^56 - 1
    expect(codeOf(() => new ByteReader(big).varuint())).toBe('frame_malformed');
    // Overlong but in range: accepted (same value).
    expect(new ByteReader(Uint8Array.from([0x81, 0x80, 0x00])).varuint()).toBe(1);
  });
});

describe('ByteReader', () => {
  it('never reads past its end, including when the range is part of a larger buffer', () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5]);
    const r = new ByteReader(bytes, 1, 3);
    expect(r.u8()).toBe(2);
    expect(r.remaining).toBe(1);
    expect(codeOf(() => r.u16())).toBe('frame_truncated');
    expect(r.u8()).toBe(3);
    expect(codeOf(() => r.u8())).toBe('frame_truncated');
    r.done();
  });

  it('reads u16 little-endian and views without copying', () => {
    const bytes = Uint8Array.from([0x34, 0x12, 9, 9]);
    const r = new ByteReader(bytes);
    expect(r.u16()).toBe(0x1234);
    const view = r.bytesView(2);
    expect(view.buffer).toBe(bytes.buffer);
    expect(codeOf(() => r.done())).toBe('ok');
    const r2 = new ByteReader(bytes);
    r2.u8();
    expect(codeOf(() => r2.done())).toBe('frame_trailing_bytes');
  });

  it('reads strings within maxBytes and refuses invalid UTF-8', () => {
    const bytes = new ByteWriter().string('héllo 日本 😀').finish();
    expect(new ByteReader(bytes).string(100)).toBe('héllo 日本 😀');
    expect(codeOf(() => new ByteReader(bytes).string(3))).toBe('string_too_long');
    expect(codeOf(() => new ByteReader(Uint8Array.from([2, 0xc3, 0x28])).string(10))).toBe('frame_malformed');
    expect(codeOf(() => new ByteReader(Uint8Array.from([5, 0x61])).string(10))).toBe('frame_truncated');
  });

  it('grows the writer across its initial size', () => {
    const w = new ByteWriter(2);
    for (let i = 0; i < 100; i++) w.u16(i);
    const out = w.finish();
    expect(out.length).toBe(200);
    expect(new ByteReader(out, 198).u16()).toBe(99);
  });
});
