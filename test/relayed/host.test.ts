// Host migration in relayed matches over real WebSockets: first host, leave, drop past the window, late joiners, bad input.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Client,
  type ConditionedLink,
  conditionLink,
  type Match,
  type MatchData,
  type MatchHost,
} from '../../src/client/index.js';
import { encodeFrame, FrameKind, MessageKind, WIRE_VERSION } from '../../src/codec/frames.js';
import {
  type CreateServerOptions,
  createServer,
  ManualClock,
  RELAYED_HOST_KEY,
  type RelayedRoomOptions,
  relayedProtocol,
  relayedRoom,
} from '../../src/server/index.js';
import { nodeClient, until } from '../helpers/netloom.js';
import { rawPeer } from '../helpers/raw-ws.js';

let app: Awaited<ReturnType<typeof createServer>> | null = null;
let url = '';
let port = 0;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await app?.close();
  app = null;
});

/** Starts a server whose `match` type is a relayed room; `drops` records the members whose link dropped. */
async function start(options: RelayedRoomOptions = {}, extra: Partial<CreateServerOptions> = {}) {
  const drops: string[] = [];
  const base = relayedRoom(options);
  const window = options.reconnectionMs ?? 20_000;
  app = await createServer({
    rooms: {
      match: {
        ...base,
        onDrop(room, client) {
          drops.push(client.id);
          room.allowReconnection(client, window);
        },
      },
    },
    session: { limits: { messagesPerSecond: 0 } },
    ...extra,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  return { app, drops };
}

function client(options: Parameters<typeof nodeClient>[1] = {}): Client {
  const c = nodeClient(url, options);
  clients.push(c);
  return c;
}

/** A client whose link the test can kill, and which waits a minute before trying to reconnect. */
function killableClient(links: ConditionedLink[]): Client {
  return client({
    wrapLink: (link) => {
      const conditioned = conditionLink(link, {});
      links.push(conditioned);
      return conditioned;
    },
    reconnect: { baseDelayMs: 120_000, maxDelayMs: 120_000 },
  });
}

interface Player {
  match: Match;
  hosts: MatchHost[];
  data: MatchData[];
}

/** Records a match's host events and relayed data, from the first event on (listeners added before the held flush). */
function watch(match: Match): Player {
  const player: Player = { match, hosts: [], data: [] };
  match.on('host', (h) => player.hosts.push(h));
  match.on('data', (d) => player.data.push(d));
  return player;
}

const bytes = (...n: number[]) => new Uint8Array(n);
const hostOf = (p: Player, epoch: number): MatchHost => ({
  clientId: p.match.clientId,
  userId: undefined,
  epoch,
});

/**
 * Every player sends one reliable message to all others and waits until each has them all. A host
 * change made before the sends reaches everyone before these messages (room state is flushed before
 * any later room message), so afterwards the recorded host events are complete.
 */
async function roundTrip(players: Player[]): Promise<void> {
  const before = players.map((p) => p.data.length);
  for (const p of players) p.match.send(99, bytes(1));
  await until(
    () => players.every((p, i) => p.data.length === before[i] + players.length - 1),
    5_000,
    'round trip',
  );
}

describe('relayed match host', () => {
  it('makes the first joiner host; every member agrees, late joiners included', async () => {
    await start();
    const a = watch(await client().createMatch());
    // Known as soon as the join resolves.
    expect(a.match.host).toEqual(hostOf(a, 1));
    expect(a.match.isHost).toBe(true);
    const b = watch(await client().joinMatch(a.match.id));
    expect(b.match.host).toEqual(hostOf(a, 1));
    expect(b.match.isHost).toBe(false);
    const c = watch(await client().joinMatch(a.match.id));
    await roundTrip([a, b, c]);
    for (const p of [a, b, c]) expect(p.hosts).toEqual([hostOf(a, 1)]);
    expect(c.match.isHost).toBe(false);
    // The host is also readable from the backend, through the room state.
    const state = await app?.netloom.rooms.state(a.match.id);
    expect(state?.[RELAYED_HOST_KEY]).toEqual({ clientId: a.match.clientId, epoch: 1 });
  });

  it('hands the host to the next earliest member when the host leaves; everyone gets the same event', async () => {
    await start();
    const a = watch(await client().createMatch());
    const b = watch(await client().joinMatch(a.match.id));
    const c = watch(await client().joinMatch(a.match.id));
    await roundTrip([a, b, c]);
    await a.match.leave();
    await until(() => b.hosts.length === 2 && c.hosts.length === 2, 5_000, 'new host');
    expect(b.hosts).toEqual([hostOf(a, 1), hostOf(b, 2)]);
    expect(c.hosts).toEqual(b.hosts);
    expect(b.match.isHost).toBe(true);
    expect(c.match.host).toEqual(hostOf(b, 2));
    expect(a.hosts).toEqual([hostOf(a, 1)]); // the leaver hears nothing after its leave

    // A late joiner learns the current host on join, and only that one.
    const d = watch(await client().joinMatch(a.match.id));
    expect(d.match.host).toEqual(hostOf(b, 2));
    await roundTrip([b, c, d]);
    expect(d.hosts).toEqual([hostOf(b, 2)]);
    expect(b.hosts.length).toBe(2); // a join does not change the host

    // A member other than the host leaving changes nothing either.
    await c.match.leave();
    await roundTrip([b, d]);
    expect(b.hosts).toEqual([hostOf(a, 1), hostOf(b, 2)]);
    expect(d.hosts).toEqual([hostOf(b, 2)]);
  });

  it('keeps a dropped host while its window runs, then elects the next earliest member', async () => {
    const clock = new ManualClock();
    const { drops } = await start({ reconnectionMs: 1_000 }, { clock });
    const links: ConditionedLink[] = [];
    const a = watch(await killableClient(links).createMatch());
    const b = watch(await client().joinMatch(a.match.id));
    const c = watch(await client().joinMatch(a.match.id));
    await roundTrip([a, b, c]);

    links[0].kill('test kills the host link');
    await until(() => drops.length === 1, 5_000, 'server sees the drop');
    expect(drops).toEqual([a.match.clientId]);
    clock.advance(999); // inside the window: a is still host
    await roundTrip([b, c]);
    expect(b.hosts).toEqual([hostOf(a, 1)]);
    expect(c.hosts).toEqual([hostOf(a, 1)]);

    clock.advance(1); // the window expires
    await until(() => b.hosts.length === 2 && c.hosts.length === 2, 5_000, 'new host');
    expect(b.hosts).toEqual([hostOf(a, 1), hostOf(b, 2)]);
    expect(c.hosts).toEqual(b.hosts);
    expect(b.match.isHost).toBe(true);
  });

  it('keeps the host through a drop and resume within the window: no host event', async () => {
    const { drops } = await start({ reconnectionMs: 10_000 });
    const links: ConditionedLink[] = [];
    const a = watch(
      await client({
        wrapLink: (link) => {
          const conditioned = conditionLink(link, {});
          links.push(conditioned);
          return conditioned;
        },
        reconnect: { baseDelayMs: 10, maxDelayMs: 50 },
      }).createMatch(),
    );
    const b = watch(await client().joinMatch(a.match.id));
    await roundTrip([a, b]);
    let resumed = false;
    a.match.on('reconnected', () => {
      resumed = true;
    });
    links[0].kill('test kills the host link');
    await until(() => resumed, 5_000, 'resume');
    expect(drops).toEqual([a.match.clientId]);
    await roundTrip([a, b]);
    expect(a.hosts).toEqual([hostOf(a, 1)]);
    expect(b.hosts).toEqual([hostOf(a, 1)]);
    expect(a.match.isHost).toBe(true);
  });

  it("in 'rtt' mode with no RTT measured, falls back to join order", async () => {
    // Pings off: no member has a measurement, so the election is the deterministic join order.
    await start(
      { host: 'rtt' },
      { session: { limits: { messagesPerSecond: 0 }, pingIntervalMs: 0, rttProbeMs: 0 } },
    );
    const a = watch(await client().createMatch());
    const b = watch(await client().joinMatch(a.match.id));
    const c = watch(await client().joinMatch(a.match.id));
    await roundTrip([a, b, c]);
    await a.match.leave();
    await until(() => b.hosts.length === 2 && c.hosts.length === 2, 5_000, 'new host');
    expect(b.hosts).toEqual([hostOf(a, 1), hostOf(b, 2)]);
    expect(c.hosts).toEqual(b.hosts);
  });

  it("in 'rtt' mode elects the member with the lowest measured round-trip time", async () => {
    let handle: { clients: ReadonlyMap<string, unknown>; rttOf(c: never): number | undefined } | null = null;
    const base = relayedRoom({ host: 'rtt' });
    app = await createServer({
      rooms: {
        match: {
          ...base,
          onCreate(room, options) {
            handle = room as unknown as typeof handle;
            return base.onCreate?.(room as never, options);
          },
        },
      },
      session: { limits: { messagesPerSecond: 0 }, rttProbeMs: 50 },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const a = watch(await client().createMatch());
    // b joined before c but its link is 40 ms slower each way.
    const slow = client({ wrapLink: (link) => conditionLink(link, { latencyMs: 40 }) });
    const b = watch(await slow.joinMatch(a.match.id));
    const c = watch(await client().joinMatch(a.match.id));
    const measured = () => {
      const room = handle;
      if (!room) return false;
      return [...room.clients.values()].every((m) => (room.rttOf(m as never) ?? 0) > 0);
    };
    await until(measured, 10_000, 'every member measured');
    await a.match.leave();
    await until(() => b.hosts.length === 2 && c.hosts.length === 2, 5_000, 'new host');
    expect(c.hosts).toEqual([hostOf(a, 1), hostOf(c, 2)]);
    expect(b.hosts).toEqual(c.hosts);
  });

  it('refuses a bad host mode', () => {
    expect(() => relayedRoom({ host: 'loudest' as 'rtt' })).toThrow(
      expect.objectContaining({ code: 'request_invalid' }),
    );
  });
});

describe('relayed match host under bad input', () => {
  it('ignores a client claiming host or sending malformed relayed frames; the host stays', async () => {
    const { app: server } = await start();
    const a = watch(await client().createMatch());
    const b = watch(await client().joinMatch(a.match.id));
    await roundTrip([a, b]);
    const valid = relayedProtocol.client.encode('data', { op: 5, data: bytes(1, 2, 3), to: [] });
    const cases: Array<{ body: number[]; code: RegExp }> = [
      // A room message with an op the relayed protocol's client side does not have ("I am host").
      { body: [2, 1], code: /^unknown_op$/ },
      // A `data` cut short.
      { body: [valid.op, ...valid.payload.subarray(0, valid.payload.length - 2)], code: /^frame_truncated$/ },
      // A `data` with trailing bytes after a valid payload.
      { body: [valid.op, ...valid.payload, 7, 7], code: /^frame_trailing_bytes$/ },
    ];
    for (const { body, code } of cases) {
      const ticket = await server.netloom.seats.reserve(a.match.id);
      const peer = await rawPeer(port);
      peer.send(
        encodeFrame({
          kind: FrameKind.Hello,
          version: WIRE_VERSION,
          mode: 'new',
          handle: 1,
          seat: ticket.seat,
        }),
      );
      // It joined and got the host in the state snapshot, like any member.
      await until(
        () =>
          peer.frames.some(
            (f) =>
              f.kind === FrameKind.Reliable &&
              f.message.kind === MessageKind.RoomState &&
              f.message.changes.some((ch) => ch.key === RELAYED_HOST_KEY),
          ),
        5_000,
        'host in the snapshot',
      );
      peer.send(new Uint8Array([FrameKind.Reliable, 1, MessageKind.Room, 1, ...body]));
      expect((await peer.closed).closeFrameCode).toMatch(code);
    }
    await roundTrip([a, b]);
    expect(a.hosts).toEqual([hostOf(a, 1)]);
    expect(b.hosts).toEqual([hostOf(a, 1)]);
    expect(a.match.isHost).toBe(true);
    // A well-formed relay naming the host changes nothing either.
    const had = a.data.length;
    b.match.send(1, bytes(1), { to: [a.match.clientId] });
    await until(() => a.data.length === had + 1, 5_000, 'relay to host');
    await roundTrip([a, b]);
    expect(b.hosts).toEqual([hostOf(a, 1)]);
  });
});
