// Helpers for quiche's error strings and bounded close reasons.
import { describe, expect, it } from 'vitest';
import {
  encodeReason,
  MAX_REASON_BYTES,
  streamErrorCode,
} from '../../src/server/transports/webtransport/quiche-util.js';

describe('quiche helpers', () => {
  it('extracts stream reset/stopped codes and nothing from other errors', () => {
    expect(streamErrorCode(new Error('StreamReset(42)'), 'StreamReset')).toBe(42);
    expect(streamErrorCode(new Error('StreamStopped(7)'), 'StreamStopped')).toBe(7);
    expect(streamErrorCode(new Error('StreamStopped(7)'), 'StreamReset')).toBeNull();
    expect(streamErrorCode(new Error('Done'), 'StreamReset')).toBeNull();
    expect(streamErrorCode('weird', 'StreamReset')).toBeNull();
  });

  it('bounds close reasons without cutting a character', () => {
    expect(new TextDecoder().decode(encodeReason('bye'))).toBe('bye');
    const long = encodeReason('é'.repeat(500) + '😀'.repeat(100));
    expect(long.length).toBeLessThanOrEqual(MAX_REASON_BYTES);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(long);
    expect(text).toBe('é'.repeat(long.length / 2));
    const emoji = encodeReason('a' + '😀'.repeat(100));
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(emoji)).not.toThrow();
    expect(emoji.length).toBe(253);
  });
});
