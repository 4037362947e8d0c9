// Seats: distinct codes for forged, expired, replayed and wrong-room tokens; lapsed reservations; identity binding.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { defineRoom } from '../../src/server/rooms/define.js';
import { SeatSigner } from '../../src/server/seats.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer } from '../helpers/netloom.js';
import { testPlane, testPort } from './plane.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    if (err instanceof NetloomError) return err.code;
    throw err;
  }
}

function tamper(token: string): string {
  const [body, mac] = token.split('.');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  claims.r = 'another-room';
  return `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
}

describe('seat tokens at the control plane', () => {
  it('refuses forged, expired, replayed and wrong-room tokens with distinct codes', async () => {
    const { control, time } = testPlane();
    const room = await control.create('echo');
    const other = await control.create('echo');

    const forged = await control.reserve(room.id);
    expect(await codeOf(control.redeem(tamper(forged.seat), 's1', testPort()))).toBe('seat_forged');
    const stranger = new SeatSigner('another secret, not this node').sign({
      r: room.id,
      t: 'echo',
      s: 'x',
      n: 'node-a',
      e: time.now + 10_000,
    });
    expect(await codeOf(control.redeem(stranger, 's1', testPort()))).toBe('seat_forged');

    const wrongRoom = await control.reserve(other.id);
    expect(await codeOf(control.redeem(wrongRoom.seat, 's1', testPort(), { expectedRoomId: room.id }))).toBe(
      'seat_wrong_room',
    );
    // The wrong-room attempt did not spend the seat: it still redeems for its own room.
    expect(await codeOf(control.redeem(wrongRoom.seat, 's1', testPort(), { expectedRoomId: other.id }))).toBe(
      'ok',
    );

    const replayed = await control.reserve(room.id);
    expect(await codeOf(control.redeem(replayed.seat, 's1', testPort()))).toBe('ok');
    expect(await codeOf(control.redeem(replayed.seat, 's2', testPort()))).toBe('seat_used');

    const expired = await control.reserve(room.id, { ttlMs: 1_000 });
    time.now += 1_000;
    expect(await codeOf(control.redeem(expired.seat, 's1', testPort()))).toBe('seat_expired');

    expect(await codeOf(control.redeem('garbage', 's1', testPort()))).toBe('seat_invalid');
    expect(await codeOf(control.redeem('a.b.c', 's1', testPort()))).toBe('seat_invalid');
    expect(await codeOf(control.redeem('x'.repeat(10_000), 's1', testPort()))).toBe('seat_invalid');
  });

  it('refuses a seat signed for another node with seat_wrong_node', async () => {
    const a = testPlane({ nodeId: 'node-a' });
    const b = testPlane({ nodeId: 'node-b' });
    const room = await a.control.create('echo');
    const ticket = await a.control.reserve(room.id);
    expect(await codeOf(b.control.redeem(ticket.seat, 's1', testPort()))).toBe('seat_wrong_node');
  });

  it('frees a seat that is not redeemed in time (injected wall clock)', async () => {
    const { control, time } = testPlane({ maxClients: 1, seatTtlMs: 5_000 });
    const room = await control.create('echo');
    const first = await control.reserve(room.id);
    expect(await codeOf(control.reserve(room.id))).toBe('room_full');
    expect(await control.get(room.id)).toMatchObject({ reserved: 1, clients: 0 });
    time.now += 4_999;
    expect(await codeOf(control.reserve(room.id))).toBe('room_full');
    time.now += 1;
    expect(await control.get(room.id)).toMatchObject({ reserved: 0, clients: 0 });
    const second = await control.reserve(room.id);
    expect(await codeOf(control.redeem(first.seat, 's1', testPort()))).toBe('seat_expired');
    expect(await codeOf(control.redeem(second.seat, 's2', testPort()))).toBe('ok');
    expect(await control.get(room.id)).toMatchObject({ reserved: 0, clients: 1 });
  });

  it('lapses a seat on the injected wall clock, not the system one', async () => {
    const { control, clock, time } = testPlane({ seatTtlMs: 5_000 });
    // The plane's wall clock is an hour ahead of the system's: the seat lapses 5 s after its own clock.
    time.now = Date.now() + 3_600_000;
    const room = await control.create('echo');
    await control.reserve(room.id);
    clock.advance(4_999);
    expect(control.host(room.id)?.disposed).toBe(false);
    time.now += 5_001;
    clock.advance(2);
    // The lapsed seat was the room's last: it disposed itself.
    const host = control.host(room.id);
    expect(host === undefined || host.disposed).toBe(true);
  });

  it('gives out no seat when the room was disposed while its onAuth ran', async () => {
    let letAuthFinish: () => void = () => {};
    const authStarted: (() => void)[] = [];
    const slow = defineRoom({
      protocol: echoProtocol,
      maxClients: 2,
      autoDispose: false,
      async onAuth() {
        for (const started of authStarted.splice(0)) started();
        await new Promise<void>((resolve) => {
          letAuthFinish = resolve;
        });
        return { ok: true, data: undefined };
      },
    });
    const { control } = testPlane({ rooms: { slow } });
    const room = await control.create('slow');
    const started = new Promise<void>((resolve) => authStarted.push(resolve));
    const reservation = codeOf(control.reserve(room.id));
    await started;
    expect(await control.get(room.id)).toMatchObject({ reserved: 1 });
    control.host(room.id)?.dispose();
    letAuthFinish();
    expect(await reservation).toBe('room_disposed');
    // A disposing or gone room takes no new reservation either.
    expect(await codeOf(control.reserve(room.id))).toBe('room_not_found');
  });

  it('a redeemed seat hands back the client object; messages reach the room through it until the client leaves', async () => {
    const { control, log } = testPlane();
    const room = await control.create('echo');
    const seat = await control.reserve(room.id, { joinData: { name: 'ann' } });
    const joined = await control.redeem(seat.seat, 's1', testPort());
    expect(joined.client.id).toBe(joined.clientId);
    // The room's member record rides on the client under a symbol that is not enumerable: a copy of the
    // client (room code may spread it) does not carry it along.
    expect(Object.getOwnPropertySymbols(joined.client)).toHaveLength(1);
    expect(Object.getOwnPropertySymbols({ ...joined.client })).toEqual([]);
    const host = joined.room;
    const say = (n: number) => echoProtocol.client.encode('say', { n, text: 'hi' });
    const one = say(1);
    host.receiveFrom?.(joined.client, one.op, one.payload, true);
    host.receive(joined.clientId, say(2).op, say(2).payload, true);
    expect(log.received.get(joined.clientId)).toEqual([1, 2]);
    const kick = echoProtocol.client.encode('kickme', {});
    host.receiveFrom?.(joined.client, kick.op, kick.payload, true);
    expect(log.leaves).toEqual([{ id: joined.clientId, reason: 'kicked' }]);
    // Gone: neither form reaches the room any more.
    host.receiveFrom?.(joined.client, say(3).op, say(3).payload, true);
    host.receive(joined.clientId, say(4).op, say(4).payload, true);
    expect(log.received.get(joined.clientId)).toEqual([1, 2]);
  });

  it('bounds seat lifetimes: ttlMs must be a whole number of ms in range', async () => {
    const { control } = testPlane();
    const room = await control.create('echo');
    for (const ttlMs of [0, -5, 1.5, Number.NaN, 10_000_000]) {
      expect(await codeOf(control.reserve(room.id, { ttlMs }))).toBe('request_invalid');
    }
    expect(await control.get(room.id)).toMatchObject({ reserved: 0 });
  });
});

describe('identity in seats', () => {
  const ann = { userId: 'ann', data: { name: 'Ann', roles: ['player'] } };
  const bob = { userId: 'bob', data: {} };

  it('carries the identity to onAuth, the room client and the holder (first one sticks)', async () => {
    const { control } = testPlane();
    const room = await control.create('echo');
    const holder = { identity: undefined as typeof ann | undefined };
    const anonymous = await control.reserve(room.id);
    expect((await control.redeem(anonymous.seat, 's1', testPort(), { holder })).identity).toBeUndefined();
    expect(holder.identity).toBeUndefined();

    const forAnn = await control.reserve(room.id, { identity: ann });
    const joined = await control.redeem(forAnn.seat, 's1', testPort(), { holder });
    expect(joined.identity).toEqual(ann);
    expect(holder.identity).toEqual(ann);
    const host = control.host(room.id) as unknown as {
      clients: Map<string, { userId?: string; auth?: unknown }>;
    };
    expect(host.clients.get(joined.clientId)).toMatchObject({ userId: 'ann', auth: ann });

    const again = await control.reserve(room.id, { identity: ann });
    expect(await codeOf(control.redeem(again.seat, 's1', testPort(), { holder }))).toBe('ok');
  });

  it('refuses a seat for another user on the same session with forbidden, without spending it', async () => {
    const { control } = testPlane();
    const room = await control.create('echo');
    const holder = { identity: undefined as typeof ann | undefined };
    await control.redeem((await control.reserve(room.id, { identity: ann })).seat, 's1', testPort(), {
      holder,
    });
    const forBob = await control.reserve(room.id, { identity: bob });
    expect(await codeOf(control.redeem(forBob.seat, 's1', testPort(), { holder }))).toBe('forbidden');
    expect(holder.identity?.userId).toBe('ann');
    // Bob's own session can still use it.
    expect(
      await codeOf(control.redeem(forBob.seat, 's2', testPort(), { holder: { identity: undefined } })),
    ).toBe('ok');
  });

  it('binds one user when two seats for different users race on one session', async () => {
    const { control } = testPlane();
    const room = await control.create('echo');
    const holder = { identity: undefined as typeof ann | undefined };
    const a = await control.reserve(room.id, { identity: ann });
    const b = await control.reserve(room.id, { identity: bob });
    const codes = await Promise.all([
      codeOf(control.redeem(a.seat, 's1', testPort(), { holder })),
      codeOf(control.redeem(b.seat, 's1', testPort(), { holder })),
    ]);
    expect(codes).toEqual(['ok', 'forbidden']);
    expect(holder.identity?.userId).toBe('ann');
  });

  it('refuses identities over 2 KiB or malformed with auth_invalid, and takes no seat', async () => {
    const { control } = testPlane();
    const room = await control.create('echo');
    const big = { userId: 'u', data: { blob: 'x'.repeat(2_048) } };
    expect(await codeOf(control.reserve(room.id, { identity: big }))).toBe('auth_invalid');
    expect(await codeOf(control.joinOrCreate('echo', { identity: big }))).toBe('auth_invalid');
    const malformed = [{ userId: '', data: {} }, { userId: 7, data: {} }, { userId: 'u', data: [] }, null];
    for (const identity of malformed) {
      expect(await codeOf(control.reserve(room.id, { identity: identity as never }))).toBe('auth_invalid');
    }
    expect(await control.get(room.id)).toMatchObject({ reserved: 0 });
    // Just under the bound fits, and its token still decodes in a HELLO (4 KiB string limit).
    const fits = { userId: 'u', data: { blob: 'x'.repeat(2_000) } };
    const ticket = await control.reserve(room.id, { identity: fits });
    expect((await control.redeem(ticket.seat, 's1', testPort())).identity).toEqual(fits);
  });
});

describe('seat tokens over a real WebSocket', () => {
  let server: TestServer | null = null;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = null;
  });
  const client = () => {
    if (!server) throw new Error('no server');
    const c = nodeClient(server.url);
    clients.push(c);
    return c;
  };

  it('refuses forged, expired and replayed seats with their codes', async () => {
    const time = { now: Date.now() };
    server = await startEchoServer({ now: () => time.now });
    const room = await server.app.netloom.rooms.create('echo');
    const reserve = () => server?.app.netloom.seats.reserve(room.id, { ttlMs: 10_000 });

    const good = await reserve();
    if (!good) throw new Error('no ticket');
    await client().join(good, { protocol: echoProtocol });
    expect(await codeOf(client().join(good, { protocol: echoProtocol }))).toBe('seat_used');

    const forged = await reserve();
    if (!forged) throw new Error('no ticket');
    expect(
      await codeOf(client().join({ ...forged, seat: tamper(forged.seat) }, { protocol: echoProtocol })),
    ).toBe('seat_forged');

    const late = await reserve();
    if (!late) throw new Error('no ticket');
    time.now += 10_000;
    expect(await codeOf(client().join(late, { protocol: echoProtocol }))).toBe('seat_expired');
    expect(await server.app.netloom.rooms.get(room.id)).toMatchObject({ clients: 1, reserved: 0 });
  });

  it('a second seat for another user on the same client session is refused with forbidden', async () => {
    server = await startEchoServer();
    const api = server.app.netloom;
    const room = await api.rooms.create('echo');
    const c = client();
    const first = await c.join(await api.seats.reserve(room.id, { identity: { userId: 'ann', data: {} } }), {
      protocol: echoProtocol,
    });
    expect(first.id).toBe(room.id);
    const forBob = await api.seats.reserve(room.id, { identity: { userId: 'bob', data: {} } });
    expect(await codeOf(c.join(forBob, { protocol: echoProtocol }))).toBe('forbidden');
    const forAnn = await api.seats.reserve(room.id, { identity: { userId: 'ann', data: {} } });
    expect((await c.join(forAnn, { protocol: echoProtocol })).id).toBe(room.id);
    expect(api.sessions.count()).toBe(1);
  });
});
