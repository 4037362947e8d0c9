// TickLoop: fixed-rate ticks on the injected clock; loops of one rate share one schedule; stop ends ticking.
import { describe, expect, it } from 'vitest';
import { TickLoop } from '../../src/server/rooms/tick.js';
import { ManualClock } from '../../src/shared/clock.js';

describe('TickLoop', () => {
  it('ticks at its rate with a fixed dt, and rooms of one rate tick together', () => {
    const clock = new ManualClock();
    const ticks: string[] = [];
    const a = new TickLoop(
      10,
      clock,
      (dt) => ticks.push(`a@${clock.now()}:${dt}`),
      () => {},
    );
    const b = new TickLoop(
      10,
      clock,
      (dt) => ticks.push(`b@${clock.now()}:${dt}`),
      () => {},
    );
    a.start();
    clock.advance(150);
    b.start();
    clock.advance(200);
    expect(ticks).toEqual(['a@100:100', 'a@200:100', 'b@200:100', 'a@300:100', 'b@300:100']);
    expect([a.count, b.count]).toEqual([3, 2]);
    a.stop();
    clock.advance(100);
    expect(ticks.slice(5)).toEqual(['b@400:100']);
    b.stop();
    clock.advance(1_000);
    expect(ticks).toHaveLength(6);
  });

  it('keeps separate schedules per rate and per clock', () => {
    const clock = new ManualClock();
    const other = new ManualClock();
    const seen: string[] = [];
    const fast = new TickLoop(
      20,
      clock,
      () => seen.push('fast'),
      () => {},
    );
    const slow = new TickLoop(
      10,
      clock,
      () => seen.push('slow'),
      () => {},
    );
    const elsewhere = new TickLoop(
      20,
      other,
      () => seen.push('elsewhere'),
      () => {},
    );
    fast.start();
    slow.start();
    elsewhere.start();
    clock.advance(100);
    expect(seen.sort()).toEqual(['fast', 'fast', 'slow']);
    fast.stop();
    slow.stop();
    elsewhere.stop();
  });
});
