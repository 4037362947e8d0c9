// The cluster matchmaker on a real redis-server: tickets filed, awaited and cancelled on any node; each matched once.
import { describe, expect, it } from 'vitest';
import { ClusterMatchmaker, createMatchmaker } from '../../src/server/matchmaker/index.js';
import { Metrics, silentLogger } from '../../src/server/metrics.js';
import type { NetloomOptions } from '../../src/server/options.js';
import { systemClock } from '../../src/shared/clock.js';
import type { MatchTicketRequest } from '../../src/shared/matchmaking.js';
import { until } from '../helpers/netloom.js';
import {
  backend,
  cluster,
  duel,
  freshPrefix,
  type Node,
  nodesClaimed,
  outcome,
  redisUrl,
  rejection,
  roomOf,
  useRedis,
  user,
} from './cluster-harness.js';

useRedis();

describe('tickets across nodes', () => {
  it('matches tickets filed on different nodes, and any node reads the result', async () => {
    const [a, b, c] = cluster(3);
    const ann = await a.mm.submit(duel(), { identity: user('ann') });
    const bob = await b.mm.submit(duel(), { identity: user('bob') });
    const seen = await c.mm.wait(ann.ticketId);
    expect(outcome(seen)).toBe('matched');
    expect(roomOf(await a.mm.status(bob.ticketId))).toBe(roomOf(seen));
    const rooms = [a, b, c].flatMap((n) => n.rooms);
    expect(rooms).toHaveLength(1);
    expect(rooms[0].match.tickets.map((t) => t.owner).sort()).toEqual(['ann', 'bob']);
    const seats = [a, b, c].flatMap((n) => n.seats);
    expect(seats.map((s) => s.identity?.userId).sort()).toEqual(['ann', 'bob']);
    expect(seen.status === 'matched' && seen.self).toBe('self');
  });

  it('works on the cluster backend of the Redis driver', async () => {
    const [a, b] = cluster(2, { driverBackend: true });
    const ann = await a.mm.submit(duel());
    const waiting = b.mm.wait(ann.ticketId);
    const bob = await b.mm.submit(duel());
    expect(roomOf(await waiting)).toBe(roomOf(await a.mm.wait(bob.ticketId)));
  });

  it('resolves a long-poll on one node when another node matches the ticket', async () => {
    const [a, b, c] = cluster(3);
    const ann = await a.mm.submit(duel());
    expect(outcome(await c.mm.wait(ann.ticketId, { waitMs: 30 }))).toBe('pending');
    const waiting = c.mm.wait(ann.ticketId);
    await b.mm.submit(duel());
    expect(outcome(await waiting)).toBe('matched');
  });

  it('seats a party filed on one node with solo players from others', async () => {
    const [a, b] = cluster(2, { options: { trustPartyIds: true } });
    const party = await a.mm.submit(
      { roomType: 'arena', minPlayers: 4, maxPlayers: 4, party: ['ann', 'amy'] },
      { identity: user('ann') },
    );
    await b.mm.submit({ roomType: 'arena', minPlayers: 4, maxPlayers: 4 }, { identity: user('bob') });
    const cat = await b.mm.submit(
      { roomType: 'arena', minPlayers: 4, maxPlayers: 4 },
      { identity: user('cat') },
    );
    const status = await a.mm.wait(party.ticketId);
    if (status.status !== 'matched') throw new Error(`not matched: ${JSON.stringify(status)}`);
    expect(Object.keys(status.seats).sort()).toEqual(['amy', 'ann']);
    expect(status.self).toBe('ann');
    expect(roomOf(await a.mm.wait(cat.ticketId))).toBe(status.roomId);
  });

  it('cancels from another node: the long-poll elsewhere ends cancelled and the ticket never matches', async () => {
    const [a, b, c] = cluster(3);
    const ann = await a.mm.submit(duel(), { identity: user('ann') });
    const waiting = b.mm.wait(ann.ticketId);
    expect(await rejection(c.mm.cancel(ann.ticketId, { owner: 'bob' }))).toBe('ticket_not_found');
    expect(await c.mm.cancel(ann.ticketId, { owner: 'ann' })).toBe(true);
    expect(outcome(await waiting)).toBe('ticket_cancelled');
    expect(await a.mm.cancel(ann.ticketId)).toBe(false);
    const bob = await b.mm.submit(duel(), { identity: user('bob') });
    await a.mm.step();
    expect(outcome(await c.mm.status(bob.ticketId))).toBe('pending');
    expect(c.metrics.get('matchmaker_tickets{ticket_cancelled}')).toBe(1);
  });

  it('keeps a cancel made while the match is being seated; the partner still gets its seat', async () => {
    const [a, b] = cluster(2, { options: { intervalMs: 60_000 } });
    const release = a.holdRooms();
    const ann = await a.mm.submit(duel());
    const bob = await b.mm.submit(duel());
    const pass = a.mm.step();
    await until(() => nodesClaimed(a), 5_000, 'the claim');
    expect(outcome(await b.mm.status(ann.ticketId))).toBe('pending');
    expect(await b.mm.cancel(ann.ticketId)).toBe(true);
    release();
    await pass;
    expect(outcome(await b.mm.status(ann.ticketId))).toBe('ticket_cancelled');
    expect(outcome(await b.mm.status(bob.ticketId))).toBe('matched');
  });

  it('times tickets out cluster-wide and forgets results after retainMs', async () => {
    const [a, b] = cluster(2, { options: { ticketTimeoutMs: 100, retainMs: 100 } });
    const ann = await a.mm.submit({ roomType: 'duel', minPlayers: 2, maxPlayers: 2, query: { mode: 'x' } });
    expect(outcome(await b.mm.wait(ann.ticketId))).toBe('ticket_timeout');
    let gone = false;
    while (!gone) gone = (await rejection(a.mm.status(ann.ticketId))) === 'ticket_not_found';
    expect(gone).toBe(true);
  });
});

describe('every ticket matched at most once', () => {
  it('lets three nodes run passes at once over hundreds of tickets without matching any ticket twice', async () => {
    const all = cluster(3, { options: { intervalMs: 60_000, ticketsPerUser: 1_000 } });
    const ids: string[] = [];
    const players = new Map<string, number>();
    let submitting = true;
    const submitter = async (): Promise<void> => {
      for (let i = 0; i < 360; i++) {
        const party = i % 7 === 0 ? [`p${i}a`, `p${i}b`] : undefined;
        const region = i % 4 === 0 ? 'eu' : 'us';
        const request: MatchTicketRequest =
          i % 2 === 0
            ? duel({ properties: { region }, query: { region } })
            : { roomType: 'arena', minPlayers: 3, maxPlayers: 6, ...(party ? { party } : {}) };
        const { ticketId } = await all[i % 3].mm.submit(request);
        ids.push(ticketId);
        players.set(ticketId, request.party?.length ?? 1);
      }
      submitting = false;
    };
    // Every node runs passes back to back while tickets arrive, so their views overlap and their claims race.
    const stepper = async (n: Node): Promise<void> => {
      while (submitting) await n.mm.step();
    };
    await Promise.all([submitter(), ...all.map(stepper)]);
    for (let round = 0; round < 3; round++) await Promise.all(all.map((n) => n.mm.step()));

    const rooms = all.flatMap((n) => n.rooms);
    const seen = new Map<string, string>();
    for (const room of rooms) {
      for (const t of room.match.tickets) {
        expect(seen.has(t.ticketId), `ticket ${t.ticketId} in two rooms`).toBe(false);
        seen.set(t.ticketId, room.id);
      }
    }
    let seatsExpected = 0;
    for (const id of ids) {
      const status = await all[0].mm.status(id);
      if (status.status === 'pending') continue;
      expect(status.status).toBe('matched');
      expect(roomOf(status)).toBe(seen.get(id));
      seatsExpected += players.get(id) ?? 0;
    }
    expect(seen.size).toBeGreaterThan(300);
    expect(all.flatMap((n) => n.seats)).toHaveLength(seatsExpected);
    const delivered = all.reduce((sum, n) => sum + n.metrics.get('matchmaker_tickets{matched}'), 0);
    expect(delivered).toBe(seen.size);
    // The nodes really raced: some passes formed matches another pass had already claimed.
    expect(all.reduce((sum, n) => sum + n.metrics.get('matchmaker_claims_lost'), 0)).toBeGreaterThan(0);
  });
});

describe('limits across nodes', () => {
  it('counts a user tickets on every node against one limit', async () => {
    const [a, b, c] = cluster(3, { options: { ticketsPerUser: 2, intervalMs: 60_000 } });
    const query = { mode: 'none' };
    const first = await a.mm.submit(duel({ query }), { identity: user('ann') });
    await b.mm.submit(duel({ query }), { identity: user('ann') });
    expect(await rejection(c.mm.submit(duel({ query }), { identity: user('ann') }))).toBe('ticket_limit');
    await c.mm.submit(duel({ query }), { identity: user('bob') });
    expect(await a.mm.cancel(first.ticketId)).toBe(true);
    await c.mm.submit(duel({ query }), { identity: user('ann') });
  });

  it('caps pending tickets cluster-wide', async () => {
    const [a, b] = cluster(2, { options: { maxPendingTickets: 2, intervalMs: 60_000 } });
    await a.mm.submit(duel());
    await b.mm.submit(duel({ query: { mode: 'x' } }));
    expect(await rejection(a.mm.submit(duel()))).toBe('ticket_limit');
  });
});

describe('createMatchmaker', () => {
  it('builds the cluster matchmaker when given a cluster backend, the in-memory one otherwise', async () => {
    const prefix = freshPrefix();
    const { backend: b, clients } = backend(redisUrl(), prefix);
    const parts = {
      rooms: { duel: { maxClients: 8 } } as unknown as NetloomOptions['rooms'],
      clock: systemClock,
      log: silentLogger,
      metrics: new Metrics(),
      api: () => {
        throw new Error('no server in this test');
      },
    };
    const clustered = createMatchmaker({ ...parts, cluster: { backend: b, nodeId: 'solo' } });
    const local = createMatchmaker(parts);
    try {
      expect(clustered).toBeInstanceOf(ClusterMatchmaker);
      expect(local).not.toBeInstanceOf(ClusterMatchmaker);
      const { ticketId } = await clustered.submit(duel());
      expect(await b.redis.hget(`${prefix}mm:t:${ticketId}`, 'st')).toBe('p');
    } finally {
      await clustered.close();
      await local.close();
      for (const c of clients) c.disconnect();
    }
  });
});
