// Matchmaker ticket lifecycle on a ManualClock: cancel, time out, limits, long-poll waits, failures, bad tickets.
import { describe, expect, it } from 'vitest';
import { NetloomError } from '../../src/codec/errors.js';
import type { MatchTicketRequest } from '../../src/shared/matchmaking.js';
import { CAPACITY, harness, outcome, rejection, roomOf, ticket, user } from './harness.js';

describe('cancellation', () => {
  it('cancels a pending ticket: its result is ticket_cancelled and it never matches', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket(), { identity: user('ann') });
    const waiting = h.mm.wait(a.ticketId);
    expect(await h.mm.cancel(a.ticketId, { owner: 'ann' })).toBe(true);
    expect(outcome(await waiting)).toBe('ticket_cancelled');
    await h.mm.submit(ticket(), { identity: user('bob') });
    await h.advance(500);
    expect(h.rooms).toEqual([]);
    expect(h.metrics.get('matchmaker_tickets{ticket_cancelled}')).toBe(1);
    // Cancelling again changes nothing.
    expect(await h.mm.cancel(a.ticketId)).toBe(false);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('ticket_cancelled');
  });

  it('cancels a ticket whose room is being made; its partners still get their seats', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket());
    const b = await h.mm.submit(ticket());
    const held = h.holdNextRoom();
    const pass = h.mm.step();
    expect(h.mm.stats()).toEqual({ pending: 0, matching: 2, matches: 1 });
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending'); // still pending for its owner
    expect(await h.mm.cancel(a.ticketId)).toBe(true);
    held.release();
    await pass;
    expect(outcome(await h.mm.status(a.ticketId))).toBe('ticket_cancelled');
    expect(roomOf(await h.mm.status(b.ticketId))).toBe('room1');
  });

  it('does not let a matched ticket be cancelled', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket());
    await h.mm.submit(ticket());
    await h.mm.step();
    expect(await h.mm.cancel(a.ticketId)).toBe(false);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('matched');
  });

  it('refuses other owners and unknown ids with ticket_not_found', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket(), { identity: user('ann') });
    expect(await rejection(h.mm.cancel(a.ticketId, { owner: 'bob' }))).toBe('ticket_not_found');
    expect(await rejection(h.mm.status(a.ticketId, { owner: 'bob' }))).toBe('ticket_not_found');
    expect(await rejection(h.mm.wait(a.ticketId, { owner: 'bob' }))).toBe('ticket_not_found');
    expect(await rejection(h.mm.status('nope'))).toBe('ticket_not_found');
    expect(await rejection(h.mm.status(42 as unknown as string))).toBe('ticket_not_found');
    expect(outcome(await h.mm.status(a.ticketId, { owner: 'ann' }))).toBe('pending');
  });
});

describe('timeouts and retention', () => {
  it('times a ticket out after 60 s by default', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket());
    const waiting = h.mm.wait(a.ticketId, { waitMs: 20_000 });
    await h.advance(59_900);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('pending');
    expect(outcome(await waiting)).toBe('pending'); // the long-poll ended at 20 s
    await h.advance(100);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('ticket_timeout');
    expect(h.mm.stats().pending).toBe(0);
  });

  it('honours ticketTimeoutMs and times out only the old tickets', async () => {
    const h = harness({ ticketTimeoutMs: 1_000 });
    const old = await h.mm.submit(ticket({ roomType: 'arena' }));
    await h.advance(500);
    const young = await h.mm.submit(ticket({ roomType: 'duel' }));
    const waiting = h.mm.wait(old.ticketId);
    await h.advance(500);
    expect(outcome(await waiting)).toBe('ticket_timeout');
    expect(outcome(await h.mm.status(young.ticketId))).toBe('pending');
    await h.advance(500);
    expect(outcome(await h.mm.status(young.ticketId))).toBe('ticket_timeout');
  });

  it('forgets a finished ticket after retainMs', async () => {
    const h = harness({ retainMs: 1_000 });
    const a = await h.mm.submit(ticket());
    await h.mm.submit(ticket());
    await h.advance(100);
    expect(outcome(await h.mm.status(a.ticketId))).toBe('matched');
    await h.advance(1_000);
    expect(await rejection(h.mm.status(a.ticketId))).toBe('ticket_not_found');
    expect(h.mm.stats()).toEqual({ pending: 0, matching: 0, matches: 1 });
  });
});

describe('long-poll waits', () => {
  it('resolves a wait when the ticket is matched', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket());
    const waiting = h.mm.wait(a.ticketId);
    await h.mm.submit(ticket());
    await h.advance(100);
    expect(roomOf(await waiting)).toBe('room1');
  });

  it('caps a wait at longPollMs and answers pending', async () => {
    const h = harness({ longPollMs: 1_000 });
    const a = await h.mm.submit(ticket());
    let settled = false;
    const waiting = h.mm.wait(a.ticketId, { waitMs: 1_000_000 }).then((s) => {
      settled = true;
      return s;
    });
    h.clock.advance(999);
    await Promise.resolve();
    expect(settled).toBe(false);
    h.clock.advance(1);
    expect(outcome(await waiting)).toBe('pending');
  });

  it('ends a wait when its signal aborts, and answers at once for a finished ticket', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket());
    const abort = new AbortController();
    const waiting = h.mm.wait(a.ticketId, { signal: abort.signal });
    abort.abort();
    expect(outcome(await waiting)).toBe('pending');
    await h.mm.cancel(a.ticketId);
    expect(outcome(await h.mm.wait(a.ticketId, { waitMs: 5_000 }))).toBe('ticket_cancelled');
  });
});

describe('limits', () => {
  it('allows 3 pending tickets per user by default; the 4th is ticket_limit until one ends', async () => {
    const h = harness();
    const ann = user('ann');
    const first = await h.mm.submit(ticket({ roomType: 'arena' }), { identity: ann });
    await h.mm.submit(ticket({ roomType: 'arena' }), { identity: ann });
    await h.mm.submit(ticket({ roomType: 'arena' }), { identity: ann });
    expect(await rejection(h.mm.submit(ticket(), { identity: ann }))).toBe('ticket_limit');
    expect(await rejection(h.mm.submit(ticket(), { identity: user('bob') }))).toBe('ok');
    await h.mm.cancel(first.ticketId);
    expect(await rejection(h.mm.submit(ticket(), { identity: ann }))).toBe('ok');
  });

  it('counts anonymous tickets by owner id, and caps all pending tickets', async () => {
    const h = harness({ ticketsPerUser: 1, maxPendingTickets: 3 });
    const { owner } = await h.mm.submit(ticket({ roomType: 'arena' }));
    expect(owner).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(await rejection(h.mm.submit(ticket(), { owner }))).toBe('ticket_limit');
    await h.mm.submit(ticket({ roomType: 'arena' }));
    await h.mm.submit(ticket({ roomType: 'tiny', properties: { x: 1 }, query: { x: 'two' } }));
    expect(await rejection(h.mm.submit(ticket()))).toBe('ticket_limit');
    expect(await rejection(h.mm.submit(ticket(), { owner: 'bad owner!' }))).toBe('ticket_invalid');
  });

  it('frees a user`s slots when their tickets match or time out', async () => {
    const h = harness({ ticketsPerUser: 1, ticketTimeoutMs: 1_000 });
    await h.mm.submit(ticket(), { identity: user('ann') });
    await h.mm.submit(ticket(), { identity: user('bob') });
    await h.mm.step();
    expect(await rejection(h.mm.submit(ticket({ roomType: 'arena' }), { identity: user('ann') }))).toBe('ok');
    await h.advance(1_000);
    expect(await rejection(h.mm.submit(ticket({ roomType: 'arena' }), { identity: user('ann') }))).toBe('ok');
  });
});

describe('failures', () => {
  it('fails a match`s tickets with the room`s error code when the room cannot be made', async () => {
    const h = harness();
    h.failRooms(new NetloomError('room_limit', 'too many rooms'));
    const a = await h.mm.submit(ticket());
    const b = await h.mm.submit(ticket());
    await h.mm.step();
    expect(outcome(await h.mm.status(a.ticketId))).toBe('room_limit');
    expect(outcome(await h.mm.status(b.ticketId))).toBe('room_limit');
    h.failRooms(new Error('boom'));
    const c = await h.mm.submit(ticket());
    await h.mm.submit(ticket());
    await h.mm.step();
    expect(outcome(await h.mm.status(c.ticketId))).toBe('internal_error');
    expect(h.mm.stats()).toEqual({ pending: 0, matching: 0, matches: 2 });
  });

  it('ends every pending ticket with server_shutdown on close and refuses new ones', async () => {
    const h = harness();
    const a = await h.mm.submit(ticket());
    const waiting = h.mm.wait(a.ticketId);
    h.mm.close();
    expect(outcome(await waiting)).toBe('server_shutdown');
    expect(await rejection(h.mm.submit(ticket()))).toBe('server_shutdown');
  });
});

describe('bad tickets', () => {
  const cases: Array<[string, unknown]> = [
    ['not an object', 'hello'],
    ['null', null],
    ['an array', [ticket()]],
    ['unknown field', { ...ticket(), extra: 1 }],
    ['unknown room type', ticket({ roomType: 'chess' })],
    ['inherited room type name', ticket({ roomType: 'toString' })],
    ['empty room type', ticket({ roomType: '' })],
    ['room type not a string', { ...ticket(), roomType: 7 }],
    ['minPlayers > maxPlayers', ticket({ minPlayers: 3, maxPlayers: 2 })],
    ['minPlayers 0', ticket({ minPlayers: 0 })],
    ['fractional maxPlayers', ticket({ maxPlayers: 2.5 })],
    ['maxPlayers as string', { ...ticket(), maxPlayers: '2' }],
    ['maxPlayers over the room`s seats', ticket({ maxPlayers: CAPACITY.duel + 1 })],
    ['missing maxPlayers', { roomType: 'duel', minPlayers: 2 }],
    ['countMultiple 0', ticket({ countMultiple: 0 })],
    ['no count fits countMultiple', ticket({ minPlayers: 3, maxPlayers: 5, countMultiple: 6 })],
    ['properties not an object', { ...ticket(), properties: [1, 2] }],
    ['joinData over 4 KiB', ticket({ joinData: { name: 'x'.repeat(4_100) } })],
    ['joinData not JSON (bigint)', { ...ticket(), joinData: 1n }],
    [
      'too many properties',
      ticket({ properties: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) }),
    ],
    ['long property key', ticket({ properties: { ['k'.repeat(65)]: 1 } })],
    ['empty property key', ticket({ properties: { '': 1 } })],
    ['long property string', ticket({ properties: { name: 'x'.repeat(257) } })],
    ['property NaN', ticket({ properties: { skill: Number.NaN } })],
    ['property Infinity', ticket({ properties: { skill: Number.POSITIVE_INFINITY } })],
    ['property boolean', { ...ticket(), properties: { ok: true } }],
    ['property object', { ...ticket(), properties: { o: { a: 1 } } }],
    [
      'too many query entries',
      ticket({ query: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }),
    ],
    ['range min > max', ticket({ query: { skill: { min: 10, max: 5 } } })],
    ['range bound not a number', { ...ticket(), query: { skill: { min: '1' } } }],
    ['range unknown bound', { ...ticket(), query: { skill: { min: 1, step: 2 } } }],
    ['query array', { ...ticket(), query: { skill: [1, 2] } }],
    ['query number', { ...ticket(), query: { skill: 5 } }],
    ['long query string', ticket({ query: { name: 'x'.repeat(257) } })],
    ['party not an array', { ...ticket(), party: 'ann' }],
    ['empty party', ticket({ party: [] })],
    ['party larger than maxPlayers', ticket({ party: ['a', 'b', 'c'], maxPlayers: 2 })],
    ['party duplicate', ticket({ party: ['a', 'a'] })],
    ['party member not a string', { ...ticket(), party: ['a', 2] }],
    ['party member too long', ticket({ party: ['a', 'x'.repeat(129)] })],
  ];
  for (const [name, input] of cases) {
    it(`refuses ${name} with ticket_invalid`, async () => {
      const h = harness();
      expect(await rejection(h.mm.submit(input as MatchTicketRequest))).toBe('ticket_invalid');
      expect(h.mm.stats().pending).toBe(0);
    });
  }

  it('requires the authenticated submitter to be in their party', async () => {
    const h = harness();
    const request = ticket({ party: ['bob', 'cat'] });
    expect(await rejection(h.mm.submit(request, { identity: user('ann') }))).toBe('ticket_invalid');
    expect(await rejection(h.mm.submit(request))).toBe('ok');
  });

  it('accepts a hostile property name such as __proto__ as plain data', async () => {
    const h = harness();
    const body = JSON.parse(
      '{"roomType":"duel","minPlayers":2,"maxPlayers":2,"properties":{"__proto__":"x"},"query":{"__proto__":"x"}}',
    );
    const a = await h.mm.submit(body);
    const b = await h.mm.submit(body);
    await h.mm.step();
    expect(roomOf(await h.mm.status(a.ticketId))).toBe(roomOf(await h.mm.status(b.ticketId)));
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
