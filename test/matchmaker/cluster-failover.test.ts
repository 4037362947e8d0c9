// The cluster matchmaker when things go wrong: a leader dies, Redis is unreachable or holds junk, input is malformed, a node closes.
import { describe, expect, it } from 'vitest';
import type { MatchTicketRequest } from '../../src/shared/matchmaking.js';
import { until } from '../helpers/netloom.js';
import { freePort } from '../helpers/ports.js';
import { cluster, duel, nodesClaimed, outcome, rejection, roomOf, useRedis } from './cluster-harness.js';

useRedis();

describe('leader failure', () => {
  it('hands the lease on when the leader dies mid-delivery; its claimed and new tickets still match', async () => {
    const all = cluster(3, { config: { leaseMs: 300, claimTimeoutMs: 500 } });
    await until(() => all.some((n) => n.mm.leader), 5_000, 'a leader');
    const leader = all.find((n) => n.mm.leader)!;
    const [other, third] = all.filter((n) => n !== leader);
    const release = leader.holdRooms(); // the leader dies while its room is being made
    const ann = await other.mm.submit(duel());
    const bob = await third.mm.submit(duel());
    await until(() => nodesClaimed(leader), 5_000, 'the leader to claim the match');
    leader.kill();
    const cat = await other.mm.submit(duel());
    const dan = await third.mm.submit(duel());
    const results = await Promise.all([ann, bob, cat, dan].map((t) => other.mm.wait(t.ticketId)));
    expect(results.map(outcome)).toEqual(['matched', 'matched', 'matched', 'matched']);
    expect(roomOf(results[0])).toBe(roomOf(results[1]));
    expect(leader.rooms).toEqual([]);
    expect(other.mm.leader || third.mm.leader).toBe(true);
    release(); // the dead leader's late delivery can no longer write anything
  });
});

describe('bad input and bad backends', () => {
  it('refuses malformed tickets and ids without touching shared state', async () => {
    const [a] = cluster(1);
    expect(await rejection(a.mm.submit(null as unknown as MatchTicketRequest))).toBe('ticket_invalid');
    expect(await rejection(a.mm.submit({ ...duel(), roomType: 'nope' }))).toBe('ticket_invalid');
    expect(await rejection(a.mm.submit({ ...duel(), minPlayers: 3 }))).toBe('ticket_invalid');
    expect(await rejection(a.mm.submit(duel(), { owner: 'x' }))).toBe('ticket_invalid');
    expect(await rejection(a.mm.status(42 as unknown as string))).toBe('ticket_not_found');
    expect(await rejection(a.mm.wait('x'.repeat(5_000)))).toBe('ticket_not_found');
    expect(await rejection(a.mm.cancel('nope'))).toBe('ticket_not_found');
    expect(a.metrics.get('matchmaker_tickets_submitted')).toBe(0);
  });

  it('skips a ticket Redis holds in a shape it does not know, and matches the rest', async () => {
    const [a, b] = cluster(2, { options: { intervalMs: 60_000 } });
    const raw = a.redis;
    const prefix = `${a.prefix}mm:`;
    await raw.hset(`${prefix}t:junk`, { o: 'junk', d: '{not json', i: '', c: '0', s: '0', st: 'p' });
    await raw.zadd(`${prefix}pending`, 0, 'junk');
    const ann = await a.mm.submit(duel());
    const bob = await b.mm.submit(duel());
    await a.mm.step();
    expect(roomOf(await b.mm.status(ann.ticketId))).toBe(roomOf(await b.mm.status(bob.ticketId)));
  });

  it('fails with driver_unavailable, not a hang, when Redis cannot be reached', async () => {
    const port = await freePort();
    const [a] = cluster(1, {
      url: `redis://127.0.0.1:${port}`,
      config: { commandTimeoutMs: 200 },
      redisOptions: { maxRetriesPerRequest: null },
    });
    expect(await rejection(a.mm.submit(duel()))).toBe('driver_unavailable');
    expect(await rejection(a.mm.status('abcdefgh'))).toBe('driver_unavailable');
    expect(await rejection(a.mm.wait('abcdefgh'))).toBe('driver_unavailable');
    expect(await rejection(a.mm.cancel('abcdefgh'))).toBe('driver_unavailable');
    expect(await rejection(a.mm.step())).toBe('driver_unavailable');
    expect(a.mm.leader).toBe(false);
  });
});

describe('close', () => {
  it('gives up the lease, unsubscribes and ends local long-polls pending, leaving tickets to the others', async () => {
    const [a, b] = cluster(2);
    await until(() => a.mm.leader || b.mm.leader, 5_000, 'a leader');
    const leader = a.mm.leader ? a : b;
    const other = leader === a ? b : a;
    const ann = await leader.mm.submit(duel({ query: { mode: 'later' }, properties: { mode: 'later' } }));
    const waiting = leader.mm.wait(ann.ticketId);
    await leader.mm.close();
    expect(outcome(await waiting)).toBe('pending');
    expect(await rejection(leader.mm.submit(duel()))).toBe('server_shutdown');
    const raw = other.redis;
    const prefix = `${other.prefix}mm:`;
    expect(await raw.get(`${prefix}leader`)).not.toBe(leader.name);
    const subscribers = (await raw.pubsub('NUMSUB', `${prefix}done`)) as [string, number];
    expect(subscribers[1]).toBe(1);
    await other.mm.submit(duel({ query: { mode: 'later' }, properties: { mode: 'later' } }));
    expect(outcome(await other.mm.wait(ann.ticketId))).toBe('matched');
  });
});
