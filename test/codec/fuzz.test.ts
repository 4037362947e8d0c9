// Fuzz: 100,000 random and mutated frames through the server's decode path never crash and never hang.
import { describe, expect, it } from 'vitest';
import { build, decodeFrame, ERROR_CODES, FrameKind, MessageKind } from '../../src/codec/index.js';
import { fuzzInput, fuzzProtocol, mulberry32, serverDecode, validFrame } from './fuzz-corpus.js';

const FRAMES = 100_000;

const unpackers = new Map(fuzzProtocol.client.messages.map((m) => [m.op, build(m.schema).unpack]));

/** A comparable rendering of a decoded value (bigints and typed arrays included). */
function render(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'bigint' ? `${v}n` : ArrayBuffer.isView(v) ? Array.from(v as Uint8Array, String) : v,
  );
}

/**
 * For a payload the checker accepted: unpack must read only inside it. Unpack it followed by two
 * different tails; if packcat read past the end the two results would differ.
 */
function readsWithinBounds(op: number, payload: Uint8Array): boolean {
  const unpack = unpackers.get(op);
  if (!unpack) return false;
  const withTail = (fill: number) => {
    const buf = new Uint8Array(payload.length + 16).fill(fill);
    buf.set(payload);
    return render(unpack(buf));
  };
  return withTail(0x00) === withTail(0xff) && withTail(0x00) === render(unpack(Uint8Array.from(payload)));
}

describe('fuzzed frames', () => {
  it(`${FRAMES.toLocaleString('en')} random and mutated frames each decode or throw a NetloomError`, () => {
    const rnd = mulberry32(0x5eed);
    const counts = new Map<string, number>();
    let slowest = 0;
    for (let i = 0; i < FRAMES; i++) {
      const input = fuzzInput(rnd);
      const started = performance.now();
      let outcome: string;
      try {
        outcome = serverDecode(input);
      } catch (err) {
        throw new Error(
          `frame ${i} [${Array.from(input).join(',')}] threw a non-NetloomError: ${String(err)}`,
        );
      }
      slowest = Math.max(slowest, performance.now() - started);
      // internal_error would mean the checker let through bytes that packcat's unpack then choked on.
      if (outcome === 'internal_error')
        throw new Error(`frame ${i} [${Array.from(input).join(',')}]: internal_error`);
      if (outcome === 'ok') {
        const frame = decodeFrame(input);
        if ('message' in frame && frame.message.kind === MessageKind.Room) {
          if (!readsWithinBounds(frame.message.op, frame.message.payload)) {
            throw new Error(
              `frame ${i} [${Array.from(input).join(',')}]: unpack read past the checked payload`,
            );
          }
        }
      }
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    }
    for (const code of counts.keys()) if (code !== 'ok') expect(ERROR_CODES).toContain(code);
    // Both accepted and rejected frames are exercised, and the checker's own codes show up.
    expect(counts.get('ok') ?? 0).toBeGreaterThan(FRAMES / 10);
    for (const code of [
      'frame_truncated',
      'frame_trailing_bytes',
      'unknown_op',
      'list_too_long',
      'payload_invalid',
    ]) {
      expect(counts.get(code) ?? 0, code).toBeGreaterThan(0);
    }
    // A generous hang detector: no single frame may take anywhere near this long.
    expect(slowest).toBeLessThan(1000);
  });

  it('valid frames always decode, and room payloads decode to what was encoded', () => {
    const rnd = mulberry32(7);
    for (let i = 0; i < 2000; i++) {
      const bytes = validFrame(rnd);
      expect(serverDecode(bytes)).toBe('ok');
      const frame = decodeFrame(bytes);
      if (
        (frame.kind === FrameKind.Reliable || frame.kind === FrameKind.Unreliable) &&
        frame.message.kind === MessageKind.Room
      ) {
        const { name, value } = fuzzProtocol.client.decode(frame.message.op, frame.message.payload);
        // Quantized rotations and unit vectors are lossy: re-encoding them may move the last step.
        if (name === 'command') continue;
        const again = fuzzProtocol.client.encode(name, value as never);
        expect(again.payload).toEqual(frame.message.payload);
      }
    }
  });
});
