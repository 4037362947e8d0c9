// Loss-free switching between two links of one session (SessionLinks + SessionCore over in-memory links): forced switches, fallbacks, interleaving.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FRAME_LIMITS,
  decodeFrame,
  encodeFrame,
  FrameKind,
  MessageKind,
} from '../../src/codec/frames.js';
import type { Link, LinkCloseInfo, TransportName } from '../../src/link/link.js';
import { SessionCore } from '../../src/session/core.js';
import { SessionLinks } from '../../src/session/links.js';
import { systemClock } from '../../src/shared/clock.js';
import { createMemoryLinkPair } from '../link/memory-pair.js';
import { type TaggedLink, taggedPair } from './fake-rtc.js';

const payload = new Uint8Array([7, 7]);
const tick = () => new Promise((r) => setTimeout(r, 0));

interface Side {
  core: SessionCore;
  links: SessionLinks;
  got: number[];
  transports: TransportName[];
  lost: LinkCloseInfo[];
  invalid: string[];
}

function side(): Side {
  const core = new SessionCore({ pingIntervalMs: 0, ackDelayMs: 1, ackEveryFrames: 32 });
  const got: number[] = [];
  const transports: TransportName[] = [];
  const lost: LinkCloseInfo[] = [];
  const invalid: string[] = [];
  core.onmessage = (m, reliable) => {
    if (reliable && m.kind === MessageKind.Room) got.push(m.op);
  };
  const links: SessionLinks = new SessionLinks(core, systemClock, {
    frame: (bytes, link) => {
      const frame = decodeFrame(bytes, DEFAULT_FRAME_LIMITS);
      if (frame.kind === FrameKind.Switch || frame.kind === FrameKind.SwitchAck)
        links.switchFrame(frame, link);
      else core.receive(frame, bytes.length);
    },
    baseLost: (info) => lost.push(info),
    primary: (link) => transports.push(link.transport),
    invalid: (message) => invalid.push(message),
  });
  return { core, links, got, transports, lost, invalid };
}

/** A client and a server side joined by a base (memory, "websocket") link. */
function session() {
  const client = side();
  const server = side();
  const base = createMemoryLinkPair();
  client.links.setBase(base.client);
  server.links.setBase(base.server);
  client.core.attach(base.client, 0);
  server.core.attach(base.server, 0);
  return { client, server, base };
}

/** Adds an upgraded pair to both sides and has the client switch to it. */
function upgrade(s: ReturnType<typeof session>): { client: TaggedLink; server: TaggedLink } {
  const pair = taggedPair();
  expect(s.server.links.addUpgraded(pair.server)).toBe(true);
  expect(s.client.links.addUpgraded(pair.client)).toBe(true);
  expect(s.client.links.switchToUpgraded()).toBe(true);
  return pair;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('switching between links', () => {
  it('drops what it already delivered when two ordered links interleave overlapping runs', () => {
    const core = new SessionCore({ pingIntervalMs: 0 });
    const got: number[] = [];
    core.onmessage = (m) => {
      if (m.kind === MessageKind.Room) got.push(m.op);
    };
    const frame = (seq: number) =>
      decodeFrame(
        encodeFrame({
          kind: FrameKind.Reliable,
          seq,
          message: { kind: MessageKind.Room, handle: 1, op: seq, payload },
        }),
      );
    // Link A carries 1..6; link B (after a switch that resent from 3) carries 3..9. Interleaved arbitrarily:
    const a = [1, 2, 3, 4, 5, 6];
    const b = [3, 4, 5, 6, 7, 8, 9];
    const order = ['a', 'a', 'b', 'b', 'a', 'b', 'b', 'b', 'a', 'a', 'a', 'b', 'b'];
    for (const from of order) core.receive(frame((from === 'a' ? a : b).shift() as number), 8);
    expect(got).toEqual(range(9));
    expect(core.lastReceived).toBe(9);
  });

  it('carries 10,000 reliable messages each way in order across forced switches and fallbacks', async () => {
    const s = session();
    const total = 10_000;
    let up: { client: TaggedLink; server: TaggedLink } | null = null;
    for (let n = 1; n <= total; n++) {
      s.client.core.sendRoom(true, 1, n, payload);
      s.server.core.sendRoom(true, 1, n, payload);
      s.client.core.sendRoom(false, 1, n, payload); // unreliable traffic rides along and never disturbs
      if (n % 1_000 === 0) {
        const step = (n / 1_000) % 4;
        if (step === 1)
          up = upgrade(s); // client switches up with frames in flight on the base link
        else if (step === 2 && up)
          up.client.close('normal', 'client falls back'); // client notices first
        else if (step === 3) up = upgrade(s);
        else if (step === 0 && up) up.server.close('link_closed', 'server notices first'); // server falls back
      }
      if (n % 97 === 0) await tick(); // let part of the traffic through, keep the rest in flight
    }
    for (let i = 0; i < 50 && (s.client.got.length < total || s.server.got.length < total); i++) await tick();
    expect(s.server.got).toEqual(range(total));
    expect(s.client.got).toEqual(range(total));
    expect(s.client.invalid).toEqual([]);
    expect(s.server.invalid).toEqual([]);
    expect(s.client.lost).toEqual([]);
    // Five switches up (the client) and fallbacks both ways: both sides followed every one.
    expect(s.client.transports.filter((t) => t === 'webrtc').length).toBe(5);
    expect(s.server.transports.filter((t) => t === 'webrtc').length).toBe(5);
    expect(s.server.links.primary?.transport).toBe('websocket'); // the last step (n = 10,000) fell back
  });

  it('falls back to the base link when the upgraded link dies with frames in flight, losing nothing', async () => {
    const s = session();
    const up = upgrade(s);
    await tick();
    expect(s.server.links.primary).toBe(up.server);
    for (let n = 1; n <= 3_000; n++) {
      s.client.core.sendRoom(true, 1, n, payload);
      s.server.core.sendRoom(true, 1, n, payload);
      if (n === 1_500) {
        // The receiving ends die: whatever was in flight on the upgraded link is lost.
        up.server.close('link_closed', 'ice failed');
        up.client.close('link_closed', 'ice failed');
      }
    }
    for (let i = 0; i < 50 && (s.client.got.length < 3_000 || s.server.got.length < 3_000); i++) await tick();
    expect(s.server.got).toEqual(range(3_000));
    expect(s.client.got).toEqual(range(3_000));
    expect(s.client.links.primary?.transport).toBe('websocket');
    expect(s.server.links.primary?.transport).toBe('websocket');
    expect(s.client.links.upgradedLink).toBeNull();
    expect(s.server.links.upgradedLink).toBeNull();
    expect(s.client.core.stats().resent).toBeGreaterThan(0);
  });

  it('closes the upgraded link when the peer switches back on the base link, and everything when the base dies', async () => {
    const s = session();
    const up = upgrade(s);
    let closed: LinkCloseInfo | null = null;
    // Replace the server's upgraded link hooks with observed ones.
    const pair = taggedPair();
    s.server.links.addUpgraded(pair.server, { closed: (info) => (closed = info) });
    expect(up.server.isOpen).toBe(false); // the previous upgraded link was replaced
    // The client says SWITCH on the base link: the server closes its upgraded link.
    const baseClient = s.client.links.base as Link;
    baseClient.send('reliable', encodeFrame({ kind: FrameKind.Switch, lastReceived: 0 }));
    await tick();
    expect(closed).not.toBeNull();
    expect(s.server.links.upgradedLink).toBeNull();
    // The base link dies: the side hears baseLost once, and any upgraded link goes with it.
    const again = taggedPair();
    s.server.links.addUpgraded(again.server);
    baseClient.close('link_closed', 'gone');
    await tick();
    expect(s.server.lost.length).toBe(1);
    expect(again.server.isOpen).toBe(false);
    expect(s.server.links.primary).toBeNull();
  });

  it('refuses SWITCH claiming frames never sent, and idles out a silent upgraded link', async () => {
    const s = session();
    const baseClient = s.client.links.base as Link;
    baseClient.send('reliable', encodeFrame({ kind: FrameKind.Switch, lastReceived: 5 }));
    await tick();
    expect(s.server.invalid.length).toBe(1);
    const up = upgrade(s);
    await tick();
    expect(s.server.links.primary).toBe(up.server);
    // Nothing arrives on the primary for longer than the idle bound: fall back, keep the session.
    expect(s.server.links.checkIdle(Date.now() + 10_000, 5_000)).toBe(false);
    expect(up.server.isOpen).toBe(false);
    expect(s.server.links.primary?.transport).toBe('websocket');
    expect(s.server.links.checkIdle(Date.now() + 20_000, 5_000)).toBe(true); // the base link idles: caller drops
  });
});
