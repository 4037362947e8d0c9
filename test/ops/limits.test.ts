// MessageRateLimit (warn, then kick) and clientLimits validation, on explicit timestamps.
import { describe, expect, it } from 'vitest';
import {
  clientLimits,
  DEFAULT_CLIENT_LIMITS,
  MessageRateLimit,
  RateVerdict,
} from '../../src/server/session/limits.js';

const limits = { ...DEFAULT_CLIENT_LIMITS, messagesPerSecond: 10, messageBurst: 5, rateGraceMs: 1_000 };

describe('MessageRateLimit', () => {
  it('allows the burst, warns on the first message over, drops the next, kicks after the grace period', () => {
    const rate = MessageRateLimit.create(limits, 0)!;
    for (let i = 0; i < 5; i++) expect(rate.check(0)).toBe(RateVerdict.Ok);
    expect(rate.check(0)).toBe(RateVerdict.Warn);
    expect(rate.check(10)).toBe(RateVerdict.Drop);
    expect(rate.check(999)).not.toBe(RateVerdict.Kick);
    // still flooding after the grace period
    for (let i = 0; i < 20; i++) rate.check(1_000);
    expect(rate.check(1_000)).toBe(RateVerdict.Kick);
  });

  it('lets a client that slows down go on, and forgets the warning after a quiet stretch', () => {
    const rate = MessageRateLimit.create(limits, 0)!;
    for (let i = 0; i < 5; i++) rate.check(0);
    expect(rate.check(0)).toBe(RateVerdict.Warn);
    // 10/s sustained is within the rate: no kick however long it goes on
    let t = 0;
    for (let i = 0; i < 100; i++) {
      t += 100;
      expect(rate.check(t)).toBe(RateVerdict.Ok);
    }
    // over again after more than rateQuietMs without a violation: a fresh warning, not a kick
    t += 1_000; // the bucket refills to its burst
    for (let i = 0; i < 5; i++) expect(rate.check(t)).toBe(RateVerdict.Ok);
    expect(rate.check(t)).toBe(RateVerdict.Warn);
  });

  it('is off when the rate is 0 or not finite', () => {
    expect(MessageRateLimit.create({ ...limits, messagesPerSecond: 0 }, 0)).toBeNull();
    expect(MessageRateLimit.create({ ...limits, messagesPerSecond: Number.POSITIVE_INFINITY }, 0)).toBeNull();
  });
});

describe('clientLimits', () => {
  it('fills defaults and refuses bad values at start-up', () => {
    expect(clientLimits(undefined)).toEqual(DEFAULT_CLIENT_LIMITS);
    expect(clientLimits({ messagesPerSecond: 5 }).messagesPerSecond).toBe(5);
    expect(() => clientLimits({ messageBurst: -1 })).toThrow(TypeError);
    expect(() => clientLimits({ maxMessageBytes: 0 })).toThrow(TypeError);
    expect(() => clientLimits({ rateGraceMs: Number.NaN })).toThrow(TypeError);
    expect(() => clientLimits({ messagesPerSecond: 'many' as unknown as number })).toThrow(TypeError);
  });
});
