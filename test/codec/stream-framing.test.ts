// Length-prefix framing for byte streams: frames survive any chunking; oversize lengths are refused before buffering.

import { describe, expect, it } from 'vitest';
import { encodeLengthPrefixed, LengthPrefixedDecoder } from '../../src/codec/index.js';
import { codeOf } from '../helpers/codes.js';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Cheap byte equality (vitest's deep equality is slow on large typed arrays inside big loops). */
function sameFrames(a: Uint8Array[], b: Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].length !== b[i].length) return false;
    for (let j = 0; j < a[i].length; j++) if (a[i][j] !== b[i][j]) return false;
  }
  return true;
}

const frame = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
// Lengths around the 1-, 2- and 3-byte prefix boundaries, and an empty frame.
const FRAMES = [
  frame(0, 1),
  frame(1, 2),
  frame(127, 3),
  frame(128, 4),
  frame(300, 5),
  frame(16384, 6),
  frame(5, 7),
];
const STREAM = concat(FRAMES.map(encodeLengthPrefixed));

describe('length-prefixed stream framing', () => {
  it('prefixes a frame with its varuint length', () => {
    expect(Array.from(encodeLengthPrefixed(Uint8Array.from([7, 8])))).toEqual([2, 7, 8]);
    expect(Array.from(encodeLengthPrefixed(new Uint8Array(300)).subarray(0, 2))).toEqual([0xac, 0x02]);
  });

  it('decodes the whole stream pushed at once', () => {
    const d = new LengthPrefixedDecoder();
    expect(sameFrames(d.push(STREAM), FRAMES)).toBe(true);
    expect(d.idle).toBe(true);
  });

  it('decodes the stream split in two at every position', () => {
    // Every position except deep inside the 16 KiB frame's body, where every 61st is enough.
    const big = 600;
    for (let cut = 0; cut <= STREAM.length; cut += cut > big && cut < STREAM.length - big ? 61 : 1) {
      const d = new LengthPrefixedDecoder();
      const out = [...d.push(STREAM.subarray(0, cut)), ...d.push(STREAM.subarray(cut))];
      expect(sameFrames(out, FRAMES), `cut at ${cut}`).toBe(true);
      expect(d.idle).toBe(true);
    }
  });

  it('decodes the stream pushed one byte at a time, and in uneven chunks', () => {
    const d = new LengthPrefixedDecoder();
    const out: Uint8Array[] = [];
    for (let i = 0; i < STREAM.length; i++) out.push(...d.push(STREAM.subarray(i, i + 1)));
    expect(sameFrames(out, FRAMES)).toBe(true);
    const d2 = new LengthPrefixedDecoder();
    const out2: Uint8Array[] = [];
    let i = 0;
    for (let step = 1; i < STREAM.length; step = ((step * 7 + 3) % 97) + 1) {
      out2.push(...d2.push(STREAM.subarray(i, i + step)));
      i += step;
    }
    expect(sameFrames(out2, FRAMES)).toBe(true);
  });

  it('reports a partial frame as buffered and not idle', () => {
    const d = new LengthPrefixedDecoder();
    expect(d.push(Uint8Array.from([0x80]))).toEqual([]);
    expect(d.idle).toBe(false);
    expect(d.push(Uint8Array.from([0x01, 1, 2]))).toEqual([]);
    expect(d.bufferedBytes).toBe(2);
  });

  it('refuses an announced length over maxFrameBytes before buffering it, then stays failed', () => {
    const d = new LengthPrefixedDecoder({ maxFrameBytes: 1000 });
    expect(codeOf(() => d.push(encodeLengthPrefixed(new Uint8Array(1001)).subarray(0, 2)))).toBe(
      'frame_too_large',
    );
    expect(codeOf(() => d.push(Uint8Array.from([1, 0])))).toBe('frame_too_large');
    // 0xffffffff announced in a 5-byte prefix: refused as soon as the prefix passes the limit.
    const d2 = new LengthPrefixedDecoder();
    expect(codeOf(() => d2.push(Uint8Array.from([0xff, 0xff, 0xff])))).toBe('frame_too_large');
    expect(d2.bufferedBytes).toBe(0);
    const d3 = new LengthPrefixedDecoder();
    expect(d3.push(encodeLengthPrefixed(new Uint8Array(1000)).subarray(0, 2))).toEqual([]);
  });

  it('refuses a prefix longer than 8 bytes', () => {
    const d = new LengthPrefixedDecoder({ maxFrameBytes: Number.MAX_SAFE_INTEGER });
    expect(codeOf(() => d.push(new Uint8Array(9).fill(0x80)))).toBe('frame_malformed');
  });
});
