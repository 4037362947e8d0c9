// The Driver conformance suite: what every control-plane driver (memory now, Redis later) must do.
import { afterEach, describe, expect, it } from 'vitest';
import type { Driver, NewRoom } from '../../src/server/drivers/driver.js';

/**
 * The contract checked here, beyond driver.ts:
 * - Capacity: clients + live reservations never exceed maxClients, even under concurrent calls.
 * - Seats redeem once ('used' after), lapse at their expiry ('expired', seat freed), and lapsed
 *   reservations never count.
 * - Lists: oldest first, private rooms never, locked rooms with `locked: true`; tags filter by
 *   equality on every key given.
 * - reserveSeatInAny skips private, locked, full, other-node and non-matching rooms.
 * - The rooms-per-type limit is checked in the same step as the insert.
 * Time is passed in (`now`), so nothing here waits.
 */
export function describeDriverConformance(name: string, makeDriver: () => Driver | Promise<Driver>): void {
  describe(`Driver conformance: ${name}`, () => {
    let driver: Driver | null = null;
    const open = async () => {
      driver = await makeDriver();
      return driver;
    };
    afterEach(async () => {
      await driver?.close();
      driver = null;
    });

    const T0 = 1_000_000;
    let seq = 0;
    const room = (over: Partial<NewRoom> = {}): NewRoom => ({
      id: `room-${++seq}`,
      type: 'arena',
      nodeId: 'n1',
      maxClients: 4,
      createdAt: T0 + seq,
      ...over,
    });

    it('registers a room and reports it with zero counts, its tags and data', async () => {
      const d = await open();
      const r = room({ tags: { mode: 'duel' }, data: { map: 'dust', n: [1, 2] } });
      expect(await d.createRoom(r)).toBe('ok');
      expect(await d.getRoom(r.id, T0)).toEqual({
        id: r.id,
        type: 'arena',
        nodeId: 'n1',
        maxClients: 4,
        clients: 0,
        reserved: 0,
        locked: false,
        private: false,
        tags: { mode: 'duel' },
        data: { map: 'dust', n: [1, 2] },
        createdAt: r.createdAt,
      });
      expect(await d.createRoom(r)).toBe('exists');
      expect(await d.getRoom('nope', T0)).toBeNull();
    });

    it('returns copies: mutating a record does not change the driver', async () => {
      const d = await open();
      const r = room({ tags: { a: '1' }, data: { x: 1 } });
      await d.createRoom(r);
      const got = await d.getRoom(r.id, T0);
      if (!got) throw new Error('missing');
      got.tags.a = 'changed';
      (got.data as { x: number }).x = 2;
      expect((await d.getRoom(r.id, T0))?.tags).toEqual({ a: '1' });
      expect((await d.getRoom(r.id, T0))?.data).toEqual({ x: 1 });
    });

    it('never reserves past maxClients, counting seated and reserved', async () => {
      const d = await open();
      const r = room({ maxClients: 3 });
      await d.createRoom(r);
      expect(await d.reserveSeat(r.id, 's1', T0 + 100, T0)).toBe('ok');
      expect(await d.reserveSeat(r.id, 's2', T0 + 100, T0)).toBe('ok');
      expect(await d.redeemSeat(r.id, 's1', T0 + 1)).toBe('ok');
      expect(await d.reserveSeat(r.id, 's3', T0 + 100, T0)).toBe('ok');
      expect(await d.reserveSeat(r.id, 's4', T0 + 100, T0)).toBe('full');
      expect(await d.getRoom(r.id, T0 + 2)).toMatchObject({ clients: 1, reserved: 2 });
      await d.releaseSeat(r.id, 's1');
      expect(await d.reserveSeat(r.id, 's4', T0 + 100, T0)).toBe('ok');
      expect(await d.reserveSeat('nope', 's5', T0 + 100, T0)).toBe('not_found');
    });

    it('redeems a seat once: a replay is used, an unknown seat is expired', async () => {
      const d = await open();
      const r = room();
      await d.createRoom(r);
      await d.reserveSeat(r.id, 's1', T0 + 100, T0);
      expect(await d.redeemSeat(r.id, 's1', T0 + 1)).toBe('ok');
      expect(await d.redeemSeat(r.id, 's1', T0 + 2)).toBe('used');
      await d.releaseSeat(r.id, 's1');
      expect(await d.redeemSeat(r.id, 's1', T0 + 3)).toBe('used'); // still single-use after leaving
      expect(await d.redeemSeat(r.id, 'never-reserved', T0 + 3)).toBe('expired');
      expect(await d.redeemSeat('nope', 's1', T0 + 3)).toBe('not_found');
    });

    it('lets an unredeemed reservation lapse at its expiry and frees its seat', async () => {
      const d = await open();
      const r = room({ maxClients: 1 });
      await d.createRoom(r);
      expect(await d.reserveSeat(r.id, 's1', T0 + 100, T0)).toBe('ok');
      expect(await d.reserveSeat(r.id, 's2', T0 + 200, T0 + 99)).toBe('full');
      expect(await d.getRoom(r.id, T0 + 99)).toMatchObject({ reserved: 1 });
      expect(await d.getRoom(r.id, T0 + 100)).toMatchObject({ reserved: 0, clients: 0 });
      expect(await d.reserveSeat(r.id, 's2', T0 + 200, T0 + 100)).toBe('ok');
      expect(await d.redeemSeat(r.id, 's1', T0 + 101)).toBe('expired');
      expect(await d.redeemSeat(r.id, 's2', T0 + 150)).toBe('ok');
      expect(await d.getRoom(r.id, T0 + 150)).toMatchObject({ reserved: 0, clients: 1 });
    });

    it('lists oldest first, filters by type and by every tag, hides private rooms, shows locked ones', async () => {
      const d = await open();
      const a = room({ tags: { mode: 'duel', region: 'eu' } });
      const b = room({ tags: { mode: 'duel', region: 'us' } });
      const c = room({ tags: { mode: 'ffa' }, locked: true });
      const hidden = room({ tags: { mode: 'duel', region: 'eu' }, private: true });
      const other = room({ type: 'lobby' });
      for (const r of [a, b, c, hidden, other]) expect(await d.createRoom(r)).toBe('ok');
      const ids = async (filter: Parameters<Driver['listRooms']>[0]) =>
        (await d.listRooms(filter, T0)).map((r) => r.id);
      expect(await ids({})).toEqual([a.id, b.id, c.id, other.id]);
      expect(await ids({ type: 'arena' })).toEqual([a.id, b.id, c.id]);
      expect(await ids({ type: 'arena', tags: { mode: 'duel' } })).toEqual([a.id, b.id]);
      expect(await ids({ tags: { mode: 'duel', region: 'eu' } })).toEqual([a.id]);
      expect(await ids({ tags: { mode: 'duel', region: 'asia' } })).toEqual([]);
      expect(await ids({ tags: { missing: '' } })).toEqual([]);
      expect((await d.listRooms({ tags: { mode: 'ffa' } }, T0))[0].locked).toBe(true);
      expect(await d.getRoom(hidden.id, T0)).toMatchObject({ private: true });
    });

    it('setLocked and setPrivate change what lists and reservations see', async () => {
      const d = await open();
      const r = room();
      await d.createRoom(r);
      expect(await d.setLocked(r.id, true)).toBe(true);
      expect(await d.reserveSeat(r.id, 's1', T0 + 100, T0)).toBe('locked');
      expect((await d.listRooms({}, T0)).map((x) => x.locked)).toEqual([true]);
      expect(await d.setLocked(r.id, false)).toBe(true);
      expect(await d.reserveSeat(r.id, 's1', T0 + 100, T0)).toBe('ok');
      expect(await d.setPrivate(r.id, true)).toBe(true);
      expect(await d.listRooms({}, T0)).toEqual([]);
      expect(await d.reserveSeat(r.id, 's2', T0 + 100, T0)).toBe('ok'); // join by id still works
      expect(await d.setPrivate(r.id, false)).toBe(true);
      expect((await d.listRooms({}, T0)).map((x) => x.id)).toEqual([r.id]);
      expect(await d.setLocked('nope', true)).toBe(false);
      expect(await d.setPrivate('nope', true)).toBe(false);
    });

    it('reserveSeatInAny picks the oldest matching public unlocked room with space on the node', async () => {
      const d = await open();
      const full = room({ maxClients: 1, tags: { mode: 'duel' } });
      const locked = room({ tags: { mode: 'duel' }, locked: true });
      const priv = room({ tags: { mode: 'duel' }, private: true });
      const elsewhere = room({ tags: { mode: 'duel' }, nodeId: 'n2' });
      const ffa = room({ tags: { mode: 'ffa' } });
      const duel = room({ tags: { mode: 'duel', region: 'eu' } });
      for (const r of [full, locked, priv, elsewhere, ffa, duel]) await d.createRoom(r);
      await d.reserveSeat(full.id, 'taken', T0 + 100, T0);
      const filter = { type: 'arena', tags: { mode: 'duel' } };
      expect(await d.reserveSeatInAny(filter, 'n1', 's1', T0 + 500, T0)).toBe(duel.id);
      expect(await d.reserveSeatInAny({ type: 'arena' }, 'n1', 's2', T0 + 100, T0)).toBe(ffa.id);
      expect(
        await d.reserveSeatInAny({ type: 'arena', tags: { mode: 'ctf' } }, 'n1', 's3', T0 + 100, T0),
      ).toBeNull();
      expect(await d.reserveSeatInAny({ type: 'lobby' }, 'n1', 's4', T0 + 100, T0)).toBeNull();
      // Once the full room's reservation lapses, it is the oldest with space again.
      expect(await d.reserveSeatInAny(filter, 'n1', 's5', T0 + 300, T0 + 100)).toBe(full.id);
      expect(await d.getRoom(duel.id, T0 + 100)).toMatchObject({ reserved: 1 });
    });

    it('enforces the rooms-per-type limit and frees a slot on removeRoom', async () => {
      const d = await open();
      const a = room();
      const b = room();
      expect(await d.createRoom(a, 2)).toBe('ok');
      expect(await d.createRoom(b, 2)).toBe('ok');
      expect(await d.createRoom(room(), 2)).toBe('limit');
      expect(await d.createRoom(room({ type: 'lobby' }), 2)).toBe('ok');
      expect(await d.countRooms('arena')).toBe(2);
      await d.removeRoom(a.id);
      await d.removeRoom(a.id); // idempotent
      expect(await d.countRooms('arena')).toBe(1);
      expect(await d.createRoom(room(), 2)).toBe('ok');
      expect(await d.getRoom(a.id, T0)).toBeNull();
    });

    it('counts private and locked rooms against the limit', async () => {
      const d = await open();
      expect(await d.createRoom(room({ private: true }), 2)).toBe('ok');
      expect(await d.createRoom(room({ locked: true }), 2)).toBe('ok');
      expect(await d.createRoom(room(), 2)).toBe('limit');
    });

    it('50 concurrent reserveSeat calls on 16 seats: exactly 16 succeed', async () => {
      const d = await open();
      const r = room({ maxClients: 16 });
      await d.createRoom(r);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => d.reserveSeat(r.id, `s${i}`, T0 + 1_000, T0)),
      );
      expect(results.filter((x) => x === 'ok')).toHaveLength(16);
      expect(results.filter((x) => x === 'full')).toHaveLength(34);
      expect(await d.getRoom(r.id, T0)).toMatchObject({ reserved: 16 });
    });

    it('concurrent reserveSeatInAny never overfills: 40 seats in 5 rooms of 8, then none', async () => {
      const d = await open();
      const rooms = Array.from({ length: 5 }, () => room({ maxClients: 8 }));
      for (const r of rooms) await d.createRoom(r);
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          d.reserveSeatInAny({ type: 'arena' }, 'n1', `s${i}`, T0 + 1_000, T0),
        ),
      );
      const perRoom = new Map<string | null, number>();
      for (const id of results) perRoom.set(id, (perRoom.get(id) ?? 0) + 1);
      for (const r of rooms) expect(perRoom.get(r.id)).toBe(8);
      expect(perRoom.get(null)).toBe(20);
    });

    it('concurrent redeems of one seat: exactly one ok', async () => {
      const d = await open();
      const r = room();
      await d.createRoom(r);
      await d.reserveSeat(r.id, 's1', T0 + 100, T0);
      const results = await Promise.all(Array.from({ length: 10 }, () => d.redeemSeat(r.id, 's1', T0 + 1)));
      expect(results.filter((x) => x === 'ok')).toHaveLength(1);
      expect(results.filter((x) => x === 'used')).toHaveLength(9);
    });

    it('concurrent creates against the limit: exactly the limit succeeds', async () => {
      const d = await open();
      const results = await Promise.all(Array.from({ length: 20 }, () => d.createRoom(room(), 7)));
      expect(results.filter((x) => x === 'ok')).toHaveLength(7);
      expect(await d.countRooms('arena')).toBe(7);
    });

    it('removeRoom drops reservations; operations on a removed room report not_found', async () => {
      const d = await open();
      const r = room();
      await d.createRoom(r);
      await d.reserveSeat(r.id, 's1', T0 + 100, T0);
      await d.removeRoom(r.id);
      expect(await d.redeemSeat(r.id, 's1', T0 + 1)).toBe('not_found');
      expect(await d.reserveSeat(r.id, 's2', T0 + 100, T0)).toBe('not_found');
      await d.releaseSeat(r.id, 's1'); // no throw
      expect(await d.listRooms({}, T0)).toEqual([]);
    });
  });
}
