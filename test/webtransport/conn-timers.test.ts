// ConnTimers: held acknowledgements share one queue; a hold fires once, unless a flush released it first.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACK_DELAY_MS, ConnTimers } from '../../src/server/transports/webtransport/conn-timers.js';

function timers(): { t: ConnTimers; due: number[] } {
  const due: number[] = [];
  const t = new ConnTimers(
    () => null,
    () => {},
    () => due.push(Date.now()),
  );
  return { t, due };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ConnTimers acknowledgement holds', () => {
  it('fires each hold once after ACK_DELAY_MS, skips released ones, and times a re-hold from its own start', () => {
    vi.useFakeTimers({ now: 1_000 });
    const a = timers();
    const b = timers();
    const c = timers();
    a.t.holdAck();
    a.t.holdAck(); // already held: no second entry
    b.t.holdAck();
    c.t.holdAck();
    vi.advanceTimersByTime(10);
    b.t.ackSent(); // a flush sent b's acknowledgement
    c.t.ackSent();
    c.t.holdAck(); // held again 10 ms later: due then, not at the first hold's time
    vi.advanceTimersByTime(ACK_DELAY_MS - 10);
    expect(a.due).toEqual([1_000 + ACK_DELAY_MS]);
    expect(b.due).toEqual([]);
    expect(c.due).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(c.due).toEqual([1_010 + ACK_DELAY_MS]);
    vi.advanceTimersByTime(10 * ACK_DELAY_MS);
    expect([a.due.length, b.due.length, c.due.length]).toEqual([1, 0, 1]);
    a.t.holdAck(); // the queue keeps working once drained
    a.t.clear();
    b.t.holdAck();
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect([a.due.length, b.due.length]).toEqual([1, 1]);
  });
});
