// The arena demo server, driven from Node: it serves the page and a browser-safe bundle, refuses bad names,
// moves players authoritatively and echoes reliable marks to everyone.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { protocol } from '../../demos/arena/protocol.js';
import { type Demo, startDemo } from '../../demos/arena/serve.js';
import { Client, NetloomError, type Room } from '../../src/client/index.js';
import type { ServerMessages } from '../../src/codec/index.js';

type ArenaRoom = Room<typeof protocol>;
type Msg<K extends keyof ServerMessages<typeof protocol>> = ServerMessages<typeof protocol>[K];

/** Resolves once a message of `type` satisfies `test`. */
function next<K extends 'state' | 'roster' | 'marked'>(
  room: ArenaRoom,
  type: K,
  test: (msg: Msg<K>) => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    const listener = (msg: Msg<K>): void => {
      if (!test(msg)) return;
      room.off(type, listener);
      resolve();
    };
    room.on(type, listener);
  });
}

describe('arena demo server', () => {
  let demo: Demo;
  const clients: Client[] = [];
  const join = async (name: unknown): Promise<ArenaRoom> => {
    const client = new Client(demo.url, { WebSocket });
    clients.push(client);
    return client.joinOrCreate('arena', { name }, { protocol });
  };

  beforeEach(async () => {
    demo = await startDemo({ port: 0 });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await demo.close();
  });

  it('serves the page and a bundle that imports nothing', async () => {
    const page = await fetch(demo.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<script type="module" src="/bundle.js">');
    const bundle = await fetch(new URL('/bundle.js', demo.url));
    expect(bundle.status).toBe(200);
    const js = await bundle.text();
    expect(js).not.toMatch(/^\s*import\s/m);
    expect(js).not.toMatch(/from\s+['"]node:/);
    expect((await fetch(new URL('/bundle.js.map', demo.url))).status).toBe(200);
  });

  it('refuses names that are empty, too long or not printable', async () => {
    for (const name of ['', '   ', 'x'.repeat(17), 'a\u0000b', 42, undefined]) {
      const error = await join(name).then(
        () => null,
        (err: unknown) => err,
      );
      expect(error, `name ${JSON.stringify(name)}`).toBeInstanceOf(NetloomError);
      expect((error as NetloomError).code).toBe('auth_refused');
    }
  });

  it('lists players, moves them and echoes marks to everyone in order', async () => {
    const ann = await join('ann');
    let annId = 0;
    const both = next(ann, 'roster', (msg) => {
      annId = msg.you;
      return msg.players.length === 2;
    });
    const bob = await join('bob');
    await both;
    expect(ann.clientId).not.toBe(bob.clientId);

    // Ann steers right; bob sees her move right, and her own state acks her inputs.
    let seq = 0;
    const steer = setInterval(() => ann.send('input', { seq: ++seq, dx: 1, dy: 0 }, { reliable: false }), 33);
    try {
      await Promise.all([
        next(bob, 'state', (msg) => (msg.players.find((p) => p.id === annId)?.x ?? 0) > 550),
        next(ann, 'state', (msg) => msg.ack > 0),
      ]);
    } finally {
      clearInterval(steer);
    }

    const seen: number[] = [];
    bob.on('marked', ({ id, n }) => {
      if (id === annId) seen.push(n);
    });
    const done = next(bob, 'marked', (msg) => msg.id === annId && msg.n === 50);
    for (let n = 1; n <= 50; n++) ann.send('mark', { n });
    await done;
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));

    // Ann leaves for good: bob's roster loses her.
    const gone = next(bob, 'roster', (msg) => msg.players.every((p) => p.id !== annId));
    await ann.leave();
    await gone;
  });
});
