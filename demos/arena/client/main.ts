// The arena demo's browser client: a lobby (quick play or matchmade duel), then steering, drawing, transport and RTT.
import { Client, NetloomError, type TransportName } from '../../../src/client/index.js';
import { MAX_NAME, protocol, TICK_RATE, validName } from '../protocol.js';
import type { DemoDebug } from './debug.js';
import { listenKeys } from './keys.js';
import { draw, hueOf, type Ring, type Sprite } from './render.js';

const ADJECTIVES = ['brave', 'quick', 'quiet', 'lucky', 'sly', 'bold', 'calm', 'wild', 'tiny', 'odd'];
const ANIMALS = ['otter', 'lynx', 'heron', 'badger', 'gecko', 'panda', 'crane', 'moth', 'yak', 'wren'];

function pickName(): string {
  const asked = validName(new URLSearchParams(location.search).get('name'));
  if (asked !== null) return asked;
  const pick = (list: string[]): string => list[Math.floor(Math.random() * list.length)]!;
  return `${pick(ADJECTIVES)}-${pick(ANIMALS)}`.slice(0, MAX_NAME);
}

const canvas = document.getElementById('arena') as HTMLCanvasElement;
const hud = document.getElementById('hud') as HTMLElement;
const sprites = new Map<number, Sprite>();
const rings: Ring[] = [];
let steer: { dx: number; dy: number; until: number } | null = null;

const demo: DemoDebug = {
  name: pickName(),
  mode: 'quick',
  status: 'joining',
  error: null,
  roomId: null,
  clientId: null,
  playerId: 0,
  transport: null,
  transports: [],
  timings: { started: null, joined: null, firstState: null, upgraded: null },
  rtt: null,
  stateCount: 0,
  lastTick: 0,
  ack: 0,
  inputsSent: 0,
  positions: {},
  roster: [],
  marksSent: 0,
  marksReceived: {},
  events: [],
  reconnects: 0,
  left: null,
  sendMarks: () => 0,
  move(dx, dy, ms) {
    steer = { dx, dy, until: performance.now() + ms };
  },
  leave: async () => {},
  join: () => {},
};
window.__demo = demo;

/** `?transports=webrtc,websocket` overrides the client's preference list (default: the best available). */
function preferredTransports(): TransportName[] | undefined {
  const asked = new URLSearchParams(location.search).get('transports');
  if (!asked) return undefined;
  const known: TransportName[] = ['webtransport', 'webrtc', 'websocket'];
  return asked.split(',').filter((t): t is TransportName => (known as string[]).includes(t));
}

const transports = preferredTransports();
const client = new Client(location.origin, transports ? { transports } : {});
const keys = listenKeys(window, () => demo.sendMarks(1));

/** `?play=duel` asks the matchmaker for a private two-player arena; anything else is quick play. */
const mode: DemoDebug['mode'] =
  new URLSearchParams(location.search).get('play') === 'duel' ? 'duel' : 'quick';
demo.mode = mode;

/** The lobby: quick play joins the oldest public arena with room; a duel waits for a matchmade opponent. */
async function enterRoom() {
  if (mode === 'quick') return client.joinOrCreate('arena', { name: demo.name }, { protocol });
  demo.status = 'matchmaking';
  const match = await client.matchmake({
    roomType: 'arena',
    properties: { mode: 'duel' },
    query: { mode: 'duel' },
    minPlayers: 2,
    maxPlayers: 2,
    joinData: { name: demo.name },
  });
  return client.join(match.seat, { protocol });
}

async function start(): Promise<void> {
  demo.timings.started = performance.now();
  const room = await enterRoom();
  demo.status = 'connected';
  demo.roomId = room.id;
  demo.clientId = room.clientId;
  demo.transport = room.transport;
  demo.transports.push(room.transport ?? 'none');
  demo.timings.joined = performance.now();
  demo.events.push('joined');
  room.on('transport', ({ transport }) => {
    demo.transport = transport;
    if (demo.transports[demo.transports.length - 1] !== transport) demo.transports.push(transport);
    if (transport !== 'websocket' && demo.timings.upgraded === null)
      demo.timings.upgraded = performance.now();
  });

  // After a room_lost rejoin, the timers of the lost room find another room id and stay quiet.
  const live = (): boolean =>
    (demo.status === 'connected' || demo.status === 'reconnecting') && demo.roomId === room.id;
  demo.sendMarks = (count) => {
    for (let i = 0; i < count && live(); i++) room.send('mark', { n: ++demo.marksSent });
    return demo.marksSent;
  };
  demo.leave = async () => {
    if (live()) await room.leave();
  };

  room.on('state', (msg) => {
    if (demo.stateCount === 0) demo.timings.firstState = performance.now();
    demo.stateCount++;
    demo.lastTick = msg.tick;
    demo.ack = msg.ack;
    const positions: DemoDebug['positions'] = {};
    for (const { id, x, y } of msg.players) {
      positions[id] = { x, y };
      const sprite = sprites.get(id);
      if (sprite) {
        sprite.x = x;
        sprite.y = y;
      }
    }
    demo.positions = positions;
  });
  room.on('roster', (msg) => {
    demo.playerId = msg.you;
    demo.roster = msg.players.map(({ id, name, online }) => ({ id, name, online }));
    const present = new Set<number>();
    for (const entry of msg.players) {
      present.add(entry.id);
      const sprite = sprites.get(entry.id);
      if (sprite) {
        sprite.name = entry.name;
        sprite.online = entry.online;
      } else {
        const at = demo.positions[entry.id] ?? { x: 500, y: 500 };
        sprites.set(entry.id, { ...entry, x: at.x, y: at.y, drawX: at.x, drawY: at.y });
      }
    }
    for (const id of sprites.keys()) if (!present.has(id)) sprites.delete(id);
  });
  room.on('marked', ({ id, n }) => {
    const list = demo.marksReceived[id] ?? [];
    list.push(n);
    demo.marksReceived[id] = list;
    const sprite = sprites.get(id);
    if (sprite) rings.push({ x: sprite.x, y: sprite.y, hue: hueOf(id), born: performance.now() });
  });
  room.on('reconnecting', () => {
    demo.status = 'reconnecting';
    demo.events.push('reconnecting');
  });
  room.on('reconnected', () => {
    demo.status = 'connected';
    demo.reconnects++;
    demo.transport = room.transport;
    demo.events.push('reconnected');
  });
  room.on('leave', ({ code, reason }) => {
    demo.status = 'left';
    demo.left = { code, reason };
    demo.error = reason || code;
    demo.events.push(`leave:${code}`);
    // In a cluster, the room's server node died: back to the lobby (quick play or matchmaking) in one call.
    if (code === 'room_lost') {
      sprites.clear();
      joining = false;
      setTimeout(() => demo.join(), 500);
    }
  });
  room.on('error', (err) => {
    demo.events.push(`error:${err.code}`);
    console.warn('netloom room error', err);
  });

  // Steering: one unreliable input per tick.
  let seq = 0;
  setInterval(() => {
    if (!live()) return;
    const now = performance.now();
    const { dx, dy } = steer && now < steer.until ? steer : keys.direction();
    room.send('input', { seq: ++seq, dx, dy }, { reliable: false });
    demo.inputsSent = seq;
  }, 1000 / TICK_RATE);

  setInterval(() => {
    if (demo.roomId !== room.id) return;
    const stats = room.stats();
    demo.rtt = stats.rtt;
    demo.transport = stats.transport;
  }, 250);

  // A tab closing for good says so, so the others do not wait out the reconnection window.
  window.addEventListener('pagehide', (event) => {
    if (!event.persisted) void demo.leave();
  });
}

function updateHud(): void {
  const online = demo.roster.filter((p) => p.online).length;
  const lines = [`${demo.name} · ${demo.mode} · ${demo.status}${demo.error ? ` (${demo.error})` : ''}`];
  if (demo.status === 'matchmaking') lines.push('waiting for an opponent (open another tab with ?play=duel)');
  if (demo.roomId !== null) {
    lines.push(`players ${online}/${demo.roster.length} online · marks sent ${demo.marksSent}`);
    lines.push(`transport ${demo.transport} · rtt ${demo.rtt === null ? '–' : `${demo.rtt.toFixed(1)} ms`}`);
  }
  hud.textContent = lines.join('\n');
}

function frame(now: number): void {
  draw(canvas, sprites.values(), demo.playerId, rings, now);
  requestAnimationFrame(frame);
}

let joining = false;
demo.join = () => {
  if (joining) return;
  joining = true;
  start().catch((err: unknown) => {
    demo.status = 'refused';
    demo.error = err instanceof Error ? err.message : String(err);
    demo.events.push(`error:${err instanceof NetloomError ? err.code : 'join_failed'}`);
  });
};
// `?join=manual` waits for `__demo.join()` (the setup benchmark's "click", made once the page is idle).
if (new URLSearchParams(location.search).get('join') !== 'manual') demo.join();
setInterval(updateHud, 250);
requestAnimationFrame(frame);
