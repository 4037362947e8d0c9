// electHost: the deterministic choice of a relayed match's next host, by join order or by measured RTT.
import { describe, expect, it } from 'vitest';
import { electHost, type HostCandidate, rttSourceOf } from '../../src/server/rooms/host-election.js';

const m = (clientId: string, rtt?: number, connected = true): HostCandidate => ({ clientId, rtt, connected });

describe('electHost', () => {
  it("'earliest' takes the first connected member in join order", () => {
    expect(electHost([m('a'), m('b'), m('c')], 'earliest')).toBe('a');
    expect(electHost([m('a', 5, false), m('b'), m('c')], 'earliest')).toBe('b');
  });

  it("'rtt' takes the lowest measured RTT, ties broken by join order", () => {
    expect(electHost([m('a', 40), m('b', 12), m('c', 30)], 'rtt')).toBe('b');
    expect(electHost([m('a', 40), m('b', 12), m('c', 12)], 'rtt')).toBe('b');
    expect(electHost([m('a', 12), m('b', 40), m('c', 12)], 'rtt')).toBe('a');
  });

  it("'rtt' ranks members with no measurement (undefined, 0, NaN) last, then by join order", () => {
    expect(electHost([m('a'), m('b', 0), m('c', 90)], 'rtt')).toBe('c');
    expect(electHost([m('a', Number.NaN), m('b')], 'rtt')).toBe('a');
    expect(electHost([m('a'), m('b'), m('c')], 'rtt')).toBe('a');
  });

  it('prefers connected members; picks a dropped one only when nobody else is left', () => {
    expect(electHost([m('a', 1, false), m('b', 50)], 'rtt')).toBe('b');
    expect(electHost([m('a', 9, false), m('b', 3, false)], 'rtt')).toBe('b');
    expect(electHost([m('a', 9, false), m('b', 3, false)], 'earliest')).toBe('a');
    expect(electHost([], 'earliest')).toBeNull();
    expect(electHost([], 'rtt')).toBeNull();
  });

  it('gives the same answer for the same input, whatever the call order', () => {
    const members = [m('x', 20), m('y', 10, false), m('z', 20)];
    const first = electHost(members, 'rtt');
    for (let i = 0; i < 5; i++) expect(electHost(members, 'rtt')).toBe(first);
    expect(first).toBe('x');
  });
});

describe('rttSourceOf', () => {
  it('finds a room rttOf method, and nothing on a room without one', () => {
    const room = {
      base: 7,
      rttOf(client: { id: string }) {
        return client.id === 'a' ? this.base : undefined;
      },
    };
    const source = rttSourceOf(room);
    expect(source?.rttOf({ id: 'a' } as never)).toBe(7);
    expect(rttSourceOf({})).toBeNull();
  });
});
