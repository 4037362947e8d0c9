// Matchmaker grouping on a ManualClock: compatibility, player counts, parties, widening, order and scale.
import { describe, expect, it } from 'vitest';
import { harness, outcome, roomOf, ticket, user } from './harness.js';

describe('grouping', () => {
  it('puts two compatible tickets in one new room, each with its own seat, on the next pass', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket(), { identity: user('ann') });
    const b = await h.mm.submit(ticket(), { identity: user('bob') });
    await h.advance(99);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
    expect(h.rooms).toEqual([]);
    await h.advance(1);
    const sa = await h.mm.status(a.ticketId);
    const sb = await h.mm.status(b.ticketId);
    expect(roomOf(sa)).toBe('room1');
    expect(roomOf(sb)).toBe('room1');
    expect(h.rooms).toEqual([{ id: 'room1', type: 'duel', options: undefined }]);
    expect(h.seats.map((s) => s.identity?.userId).sort()).toEqual(['ann', 'bob']);
    if (sa.status !== 'matched' || sb.status !== 'matched') throw new Error('unreachable');
    expect(Object.keys(sa.seats)).toEqual(['self']);
    expect(sa.self).toBe('self');
    expect(sa.seats.self.seat).not.toBe(sb.seats.self.seat);
    expect(h.mm.stats()).toEqual({ pending: 0, matching: 0, matches: 1 });
  });

  it('waits while fewer players than minPlayers are queued', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket({ minPlayers: 3, maxPlayers: 3 }));
    await h.mm.submit(ticket({ minPlayers: 3, maxPlayers: 3 }));
    await h.advance(1_000);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
    await h.mm.submit(ticket({ minPlayers: 3, maxPlayers: 3 }));
    await h.mm.step();
    expect(roomOf(await h.mm.status(a.ticketId))).toBe('room1');
    expect(h.seats).toHaveLength(3);
  });

  it('never mixes room types', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket({ roomType: 'duel' }));
    await h.mm.submit(ticket({ roomType: 'arena' }));
    await h.mm.step();
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
    expect(h.rooms).toEqual([]);
  });

  it('takes the oldest tickets first and fills a match up to maxPlayers', async () => {
    const h = harness();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 4 }))).ticketId);
      h.clock.advance(1);
    }
    await h.mm.step();
    const rooms = await Promise.all(ids.map(async (id) => outcome(await h.mm.status(id))));
    expect(rooms).toEqual(['matched', 'matched', 'matched', 'matched', 'pending']);
    expect(h.seats).toHaveLength(4);
  });

  it('keeps the player count within every ticket`s own [minPlayers, maxPlayers]', async () => {
    const h = harness();
    const small = await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 2 }));
    const big = await h.mm.submit(ticket({ minPlayers: 3, maxPlayers: 4 }));
    const other = await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 4 }));
    await h.mm.step();
    // `small` (oldest) caps a match with it at 2, which `big` refuses: small pairs with `other`.
    expect(roomOf(await h.mm.status(small.ticketId))).toBe(roomOf(await h.mm.status(other.ticketId)));
    expect(outcome(await h.mm.status(big.ticketId))).toBe('pending');
  });

  it('only forms matches whose player count is a multiple of countMultiple', async () => {
    const h = harness();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 6, countMultiple: 2 }))).ticketId);
    }
    await h.mm.step();
    expect(h.seats).toHaveLength(2); // 3 would not split in two teams
    const outcomes = await Promise.all(ids.map(async (id) => outcome(await h.mm.status(id))));
    expect(outcomes).toEqual(['matched', 'matched', 'pending']);
  });

  it('applies a countMultiple given by any one member to the whole match', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 4 }));
    const b = await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 4 }));
    const c = await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 4, countMultiple: 2 }));
    await h.mm.step();
    expect(h.seats).toHaveLength(2); // a+b+c = 3 is not a multiple of c's 2, so a+b alone
    expect(outcome(await h.mm.status(a.ticketId))).toBe('matched');
    expect(outcome(await h.mm.status(b.ticketId))).toBe('matched');
    expect(outcome(await h.mm.status(c.ticketId))).toBe('pending');
  });

  it('never seats one user twice in a match', async () => {
    const h = harness();
    const first = await h.mm.submit(ticket(), { identity: user('ann') });
    await h.mm.submit(ticket(), { identity: user('ann') });
    await h.mm.step();
    expect(outcome(await h.mm.status(first.ticketId))).toBe('pending');
    await h.mm.submit(ticket(), { identity: user('bob') });
    await h.mm.step();
    expect(roomOf(await h.mm.status(first.ticketId))).toBe('room1');
  });

  it('hands the created room the options `roomOptions` builds from the match', async () => {
    const h = harness({
      roomOptions: (match) => ({ players: match.players, tickets: match.tickets.length }),
    });
    await h.mm.submit(ticket({ party: ['ann', 'bob'], minPlayers: 3, maxPlayers: 3 }), {
      identity: user('ann'),
    });
    await h.mm.submit(ticket({ minPlayers: 3, maxPlayers: 3 }), { identity: user('cat') });
    await h.mm.step();
    expect(h.rooms[0].options).toEqual({ players: 3, tickets: 2 });
  });

  it('waits up to fillWaitMs for a fuller match before settling for fewer players', async () => {
    const h = harness({ fillWaitMs: 1_000 });
    const a = await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 4 }));
    await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 4 }));
    await h.advance(500);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
    await h.advance(500);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('matched');
    expect(h.seats).toHaveLength(2);
    // A full match does not wait.
    for (let i = 0; i < 4; i++) await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 4 }));
    await h.mm.step();
    expect(h.seats).toHaveLength(6);
  });
});

describe('properties and queries', () => {
  it('matches string equality both ways', async () => {
    const h = harness();
    const eu = await h.mm.submit(ticket({ properties: { region: 'eu' }, query: { region: 'eu' } }));
    const us = await h.mm.submit(ticket({ properties: { region: 'us' }, query: { region: 'us' } }));
    await h.mm.step();
    expect(outcome(await h.mm.status(eu.ticketId))).toBe('pending');
    const eu2 = await h.mm.submit(ticket({ properties: { region: 'eu' }, query: { region: 'eu' } }));
    await h.mm.step();
    expect(roomOf(await h.mm.status(eu.ticketId))).toBe(roomOf(await h.mm.status(eu2.ticketId)));
    expect(outcome(await h.mm.status(us.ticketId))).toBe('pending');
  });

  it('requires each ticket`s query to hold for the other`s properties (not only one direction)', async () => {
    const h = harness();
    // a wants region eu and b is in eu; but b wants mode ranked and a has no mode.
    const a = await h.mm.submit(ticket({ properties: { region: 'eu' }, query: { region: 'eu' } }));
    await h.mm.submit(ticket({ properties: { region: 'eu' }, query: { mode: 'ranked' } }));
    await h.mm.step();
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
    const c = await h.mm.submit(ticket({ properties: { region: 'eu', mode: 'ranked' } }));
    await h.mm.step();
    expect(roomOf(await h.mm.status(a.ticketId))).toBe(roomOf(await h.mm.status(c.ticketId)));
  });

  it('matches numeric ranges, and a missing or string property fails a range', async () => {
    const h = harness();
    const query = { skill: { min: 1000, max: 1200 } };
    const a = await h.mm.submit(ticket({ properties: { skill: 1100 }, query }));
    const low = await h.mm.submit(ticket({ properties: { skill: 900 } }));
    const text = await h.mm.submit(ticket({ properties: { skill: '1100' } }));
    const none = await h.mm.submit(ticket({}));
    await h.mm.step();
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
    const fit = await h.mm.submit(ticket({ properties: { skill: 1200 } })); // bounds are inclusive
    await h.mm.step();
    expect(roomOf(await h.mm.status(a.ticketId))).toBe(roomOf(await h.mm.status(fit.ticketId)));
    // The three leftovers have no queries, so they match each other.
    const left = await Promise.all(
      [low, text, none].map(async (t) => outcome(await h.mm.status(t.ticketId))),
    );
    expect(left.filter((o) => o === 'matched')).toHaveLength(2);
  });

  it('accepts open-ended ranges', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket({ properties: { level: 50 }, query: { level: { min: 10 } } }));
    await h.mm.submit(ticket({ properties: { level: 5 }, query: { level: { max: 100 } } }));
    await h.mm.step();
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending'); // 5 < 10
    const b = await h.mm.submit(ticket({ properties: { level: 1e9 }, query: { level: {} } }));
    await h.mm.step();
    expect(roomOf(await h.mm.status(a.ticketId))).toBe(roomOf(await h.mm.status(b.ticketId)));
  });

  it('finds a compatible ticket through the value index even past maxScan incompatible ones', async () => {
    const h = harness({ maxScan: 2 });
    const a = await h.mm.submit(ticket({ properties: { region: 'eu' }, query: { region: 'eu' } }));
    for (let i = 0; i < 20; i++) {
      await h.mm.submit(ticket({ properties: { region: 'us' }, query: { region: 'us', n: String(i) } }));
    }
    const b = await h.mm.submit(ticket({ properties: { region: 'eu' } }));
    await h.mm.step();
    expect(roomOf(await h.mm.status(a.ticketId))).toBe(roomOf(await h.mm.status(b.ticketId)));
  });

  it('looks at no more than maxScan candidates per ticket when it has no equality query', async () => {
    const h = harness({ maxScan: 2 });
    const a = await h.mm.submit(ticket({ properties: { skill: 10 }, query: { skill: { max: 20 } } }));
    for (let i = 0; i < 3; i++)
      await h.mm.submit(ticket({ properties: { skill: 100 + i, pro: 'y' }, query: { pro: 'y' } }));
    const b = await h.mm.submit(ticket({ properties: { skill: 15 } }));
    await h.mm.step();
    // b is 4 places behind a: out of a's reach this pass, and b looks only at younger tickets.
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
    expect(outcome(await h.mm.status(b.ticketId))).toBe('pending');
    // Two of the pros paired up; with them gone, b is within reach on the next pass.
    await h.mm.step();
    expect(roomOf(await h.mm.status(a.ticketId))).toBe(roomOf(await h.mm.status(b.ticketId)));
  });
});

describe('widening', () => {
  const skill = (value: number) =>
    ticket({ properties: { skill: value }, query: { skill: { min: value - 50, max: value + 50 } } });

  it('widens numeric ranges with the ticket`s age until the tickets fit', async () => {
    const h = harness({ widening: { skill: { perSecond: 50 } } });
    const a = await h.mm.submit(skill(1000));
    const b = await h.mm.submit(skill(1200));
    await h.advance(2_900); // ranges ±(50 + 145): 1000 reaches 1195, not 1200
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
    await h.advance(100); // ±200 at 3 s: 1000..1200 both ways
    expect(h.clock.now()).toBe(3_000);
    expect(roomOf(await h.mm.status(a.ticketId))).toBe(roomOf(await h.mm.status(b.ticketId)));
  });

  it('widens by each ticket`s own age, so a newcomer must also reach the old ticket', async () => {
    const h = harness({ widening: { skill: { perSecond: 100 } } });
    const old = await h.mm.submit(skill(1000));
    await h.advance(5_000); // old's range: 450..1550
    const young = await h.mm.submit(skill(1300)); // young's range 1250..1350 misses 1000
    await h.mm.step();
    expect(outcome(await h.mm.status(old.ticketId))).toBe('pending');
    await h.advance(2_000); // young: ±(50 + 200) → 1050..1550 still misses 1000; at 2.5 s it reaches it
    expect(outcome(await h.mm.status(young.ticketId))).toBe('pending');
    await h.advance(500);
    expect(roomOf(await h.mm.status(old.ticketId))).toBe(roomOf(await h.mm.status(young.ticketId)));
  });

  it('stops widening at max, and the wildcard rule covers other properties', async () => {
    const h = harness({ widening: { '*': { perSecond: 1_000, max: 100 } }, ticketTimeoutMs: 10_000 });
    const a = await h.mm.submit(skill(1000));
    await h.mm.submit(skill(1300)); // gap 300 > 50 + 100 + 50 + 100
    await h.advance(9_900);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
  });

  it('leaves ranges alone without a rule', async () => {
    const h = harness();
    const a = await h.mm.submit(skill(1000));
    await h.mm.submit(skill(1101));
    await h.advance(30_000);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
  });

  it('refuses bad widening options at start-up', () => {
    expect(() => harness({ widening: { skill: { perSecond: -1 } } })).toThrow(/widening/);
    expect(() => harness({ widening: { skill: { perSecond: 1, max: Number.NaN } } })).toThrow(/widening/);
    expect(() => harness({ intervalMs: Number.POSITIVE_INFINITY })).toThrow(/intervalMs/);
  });
});

describe('parties', () => {
  it('seats a party together and returns a seat per member, keyed by user id', async () => {
    const h = harness();
    const party = await h.mm.submit(ticket({ party: ['ann', 'bob'], minPlayers: 4, maxPlayers: 4 }), {
      identity: user('ann'),
    });
    const c = await h.mm.submit(ticket({ minPlayers: 4, maxPlayers: 4 }), { identity: user('cat') });
    await h.mm.step();
    expect(outcome(await h.mm.status(party.ticketId))).toBe('pending'); // 3 of 4 players
    await h.mm.submit(ticket({ minPlayers: 4, maxPlayers: 4 }), { identity: user('dan') });
    await h.mm.step();
    const status = await h.mm.status(party.ticketId);
    if (status.status !== 'matched') throw new Error(`not matched: ${JSON.stringify(status)}`);
    expect(Object.keys(status.seats).sort()).toEqual(['ann', 'bob']);
    expect(status.self).toBe('ann');
    expect(status.seats.ann.roomId).toBe(roomOf(await h.mm.status(c.ticketId)));
    expect(h.seats).toHaveLength(4);
    // The submitter's seat carries the submitter's identity; bob's (named by ann) carries none.
    const byRoomSeat = h.seats.map((s) => s.identity?.userId ?? null).sort();
    expect(byRoomSeat).toEqual(['ann', 'cat', 'dan', null]);
  });

  it("hands the submitter's joinData to its own seat only (party members get none)", async () => {
    const h = harness();
    await h.mm.submit(
      ticket({ party: ['ann', 'bob'], minPlayers: 3, maxPlayers: 3, joinData: { name: 'A' } }),
      {
        identity: user('ann'),
      },
    );
    await h.mm.submit(ticket({ minPlayers: 3, maxPlayers: 3, joinData: { name: 'C' } }), {
      identity: user('cat'),
    });
    await h.mm.step();
    const byUser = h.seats.map((s) => [s.identity?.userId ?? null, s.joinData]);
    expect(byUser).toEqual(
      expect.arrayContaining([
        ['ann', { name: 'A' }],
        [null, undefined],
        ['cat', { name: 'C' }],
      ]),
    );
    expect(h.seats).toHaveLength(3);
  });

  it('gives every party seat an identity when trustPartyIds is set', async () => {
    const h = harness({ trustPartyIds: true });
    await h.mm.submit(ticket({ party: ['ann', 'bob'], minPlayers: 2, maxPlayers: 2 }), {
      identity: user('ann'),
    });
    await h.mm.step();
    expect(h.seats.map((s) => s.identity)).toEqual([user('ann'), { userId: 'bob', data: {} }]);
  });

  it('never splits a party that does not fit: the party waits for a match with room for all', async () => {
    const h = harness();
    const solo1 = await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 3 }));
    const party = await h.mm.submit(ticket({ party: ['x', 'y', 'z'], minPlayers: 2, maxPlayers: 3 }));
    const solo2 = await h.mm.submit(ticket({ minPlayers: 2, maxPlayers: 3 }));
    await h.mm.step();
    expect(roomOf(await h.mm.status(solo1.ticketId))).toBe(roomOf(await h.mm.status(solo2.ticketId)));
    // The party of 3 fills a match on its own (3 is within its own [2, 3]).
    const status = await h.mm.status(party.ticketId);
    if (status.status !== 'matched') throw new Error('party not matched');
    expect(Object.keys(status.seats)).toEqual(['x', 'y', 'z']);
    expect(status.seats.x.roomId).not.toBe(roomOf(await h.mm.status(solo1.ticketId)));
    expect(status.self).toBe('x'); // anonymous party: the first member is the submitter
  });

  it('never puts a user in a match twice through two parties', async () => {
    const h = harness();
    const p1 = await h.mm.submit(ticket({ party: ['ann', 'bob'], minPlayers: 4, maxPlayers: 4 }));
    await h.mm.submit(ticket({ party: ['bob', 'cat'], minPlayers: 4, maxPlayers: 4 }));
    await h.mm.step();
    expect(outcome(await h.mm.status(p1.ticketId))).toBe('pending');
    await h.mm.submit(ticket({ party: ['dan', 'eve'], minPlayers: 4, maxPlayers: 4 }));
    await h.mm.step();
    expect(outcome(await h.mm.status(p1.ticketId))).toBe('matched');
  });
});

describe('scale', () => {
  it('matches 4,000 tickets across regions in one pass', async () => {
    const h = harness({ ticketsPerUser: 10_000 });
    const regions = ['eu', 'us', 'asia', 'sa'];
    for (let i = 0; i < 4_000; i++) {
      const region = regions[i % regions.length];
      await h.mm.submit(
        ticket({
          properties: { region, skill: 1000 + (i % 200) },
          query: { region, skill: { min: 900, max: 1300 } },
          minPlayers: 4,
          maxPlayers: 4,
        }),
      );
    }
    await h.mm.step();
    expect(h.mm.stats()).toEqual({ pending: 0, matching: 0, matches: 1_000 });
    expect(h.seats).toHaveLength(4_000);
    const perRoom = new Map<string, number>();
    for (const s of h.seats) perRoom.set(s.roomId, (perRoom.get(s.roomId) ?? 0) + 1);
    expect(perRoom.size).toBe(1_000);
    expect([...perRoom.values()].every((n) => n === 4)).toBe(true);
  });
});
