// SessionCore: reliable frames arrive once and in order across link changes; acks trim; bounds hold.
import { describe, expect, it } from 'vitest';
import type { NetloomError } from '../../src/codec/errors.js';
import { decodeFrame, FrameKind, type Message, MessageKind } from '../../src/codec/frames.js';
import type { Link } from '../../src/link/link.js';
import { SessionCore } from '../../src/session/core.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createMemoryLinkPair } from '../link/memory-pair.js';

/** Wires a core to a link the way the server and client owners do. */
function wire(core: SessionCore, link: Link): void {
  link.onframe = (bytes) => core.receive(decodeFrame(bytes), bytes.length);
}

function roomNumbers(received: Array<{ message: Message; reliable: boolean }>, reliable = true): number[] {
  return received
    .filter((r) => r.reliable === reliable && r.message.kind === MessageKind.Room)
    .map((r) => (r.message.kind === MessageKind.Room ? r.message.op : -1));
}

function collect(core: SessionCore) {
  const received: Array<{ message: Message; reliable: boolean }> = [];
  core.onmessage = (message, reliable) => received.push({ message, reliable });
  return received;
}

/** A link that records each frame sent (`sent`) and a line per send and uncork (`log`), corked or not. */
function recordingLink(transport: Link['transport'] = 'websocket') {
  const sent: Uint8Array[] = [];
  const log: string[] = [];
  let corked = 0;
  const link: Link = {
    transport,
    isOpen: true,
    bufferedBytes: 0,
    send: (channel, f) => {
      sent.push(f.slice());
      log.push(`${corked > 0 ? 'corked ' : ''}${channel} ${decodeFrame(f).kind}`);
      return true;
    },
    cork: () => {
      corked++;
    },
    uncork: () => {
      corked--;
      log.push('uncork');
    },
    close() {},
    onframe: null,
    onclose: null,
    stats: () => {
      throw new Error('unused');
    },
  };
  return { link, sent, log };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const payload = new Uint8Array([1, 2, 3]);

describe('SessionCore', () => {
  it('delivers reliable messages in order and trims the sender buffer on ack', async () => {
    const a = new SessionCore({ pingIntervalMs: 0, ackDelayMs: 1 });
    const b = new SessionCore({ pingIntervalMs: 0, ackDelayMs: 1 });
    const got = collect(b);
    const { client, server } = createMemoryLinkPair();
    wire(a, client);
    wire(b, server);
    a.attach(client, 0);
    b.attach(server, 0);
    for (let op = 1; op <= 200; op++) a.sendRoom(true, 1, op, payload);
    expect(a.stats().bufferedBytes).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 30));
    expect(roomNumbers(got)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(b.lastReceived).toBe(200);
    expect(a.stats().bufferedBytes).toBe(0);
    a.dispose();
    b.dispose();
  });

  it('resends exactly what the peer missed when resumed on a new link', async () => {
    const a = new SessionCore({ pingIntervalMs: 0, ackEveryFrames: 1_000_000, ackDelayMs: 1_000_000 });
    const b = new SessionCore({ pingIntervalMs: 0, ackEveryFrames: 1_000_000, ackDelayMs: 1_000_000 });
    const got = collect(b);
    const first = createMemoryLinkPair();
    wire(a, first.client);
    wire(b, first.server);
    a.attach(first.client, 0);
    b.attach(first.server, 0);
    for (let op = 1; op <= 50; op++) a.sendRoom(true, 1, op, payload);
    await tick();
    // The link dies; 30 more are sent while detached (buffered), nothing was acked.
    a.detach();
    b.detach();
    first.client.close();
    for (let op = 51; op <= 80; op++) a.sendRoom(true, 1, op, payload);
    expect(a.sendRoom(false, 1, 999, payload)).toBe(false); // unreliable is never buffered
    const second = createMemoryLinkPair();
    wire(a, second.client);
    wire(b, second.server);
    b.attach(second.server, 0);
    a.attach(second.client, b.lastReceived);
    await tick();
    expect(roomNumbers(got)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(a.stats().resent).toBe(30);
    a.dispose();
    b.dispose();
  });

  it('drops a duplicate reliable frame and fails on a gap', () => {
    const b = new SessionCore({ pingIntervalMs: 0 });
    const got = collect(b);
    const errors: NetloomError[] = [];
    b.onfatal = (e) => errors.push(e);
    const message: Message = { kind: MessageKind.Room, handle: 1, op: 7, payload };
    b.receive({ kind: FrameKind.Reliable, seq: 1, message }, 8);
    b.receive({ kind: FrameKind.Reliable, seq: 1, message }, 8);
    expect(got).toHaveLength(1);
    b.receive({ kind: FrameKind.Reliable, seq: 3, message }, 8);
    expect(errors.map((e) => e.code)).toEqual(['sequence_invalid']);
  });

  it('refuses a resume that claims frames never sent', () => {
    const a = new SessionCore({ pingIntervalMs: 0 });
    a.sendRoom(true, 1, 1, payload);
    const { client } = createMemoryLinkPair();
    expect(() => a.attach(client, 5)).toThrowError(expect.objectContaining({ code: 'sequence_invalid' }));
  });

  it('fails with buffer_overflow when unacknowledged frames exceed the bound', () => {
    const a = new SessionCore({ pingIntervalMs: 0, maxBufferBytes: 1000 });
    const errors: string[] = [];
    a.onfatal = (e) => errors.push(e.code);
    const big = new Uint8Array(300);
    for (let i = 0; i < 3; i++) expect(a.sendRoom(true, 1, 1, big)).toBe(true);
    expect(a.sendRoom(true, 1, 1, big)).toBe(false);
    expect(errors).toEqual(['buffer_overflow']);
    expect(a.sendRoom(true, 1, 1, big)).toBe(false);
  });

  it('drops stale unreliable frames across the u16 wrap and estimates loss', () => {
    const b = new SessionCore({ pingIntervalMs: 0 });
    const got = collect(b);
    const message: Message = { kind: MessageKind.Room, handle: 1, op: 1, payload };
    for (const seq of [65534, 65535, 0, 1, 65535, 1, 3])
      b.receive({ kind: FrameKind.Unreliable, seq, message }, 8);
    expect(got).toHaveLength(5); // 65535 (again) and 1 (again) are stale
    expect(b.stats().staleDropped).toBe(2);
    expect(b.stats().loss).toBeGreaterThan(0); // seq 2 never came
  });

  it('measures RTT from ping/pong on the injected clock', () => {
    const clock = new ManualClock();
    const a = new SessionCore({ pingIntervalMs: 1000, clock });
    const { link: fake, sent } = recordingLink();
    a.attach(fake, 0);
    clock.advance(100);
    expect(sent).toHaveLength(0); // the timed PING waits up to pingHoldMs for a data frame to ride with
    clock.advance(50);
    const ping = decodeFrame(sent[sent.length - 1]);
    expect(ping.kind).toBe(FrameKind.Ping);
    clock.advance(40);
    if (ping.kind !== FrameKind.Ping) throw new Error('expected ping');
    a.receive({ kind: FrameKind.Pong, id: ping.id }, 2);
    expect(a.stats().rtt).toBe(40);
    a.dispose();
  });

  it('sends a waiting PING and ACK just before the next data frame, inside one cork', () => {
    const clock = new ManualClock();
    const a = new SessionCore({ pingIntervalMs: 1000, ackDelayMs: 20, clock });
    const { link: fake, sent, log } = recordingLink('webtransport');
    a.attach(fake, 0);
    const message: Message = { kind: MessageKind.Room, handle: 1, op: 1, payload };
    a.receive({ kind: FrameKind.Reliable, seq: 1, message }, 6);
    a.receive({ kind: FrameKind.Reliable, seq: 2, message }, 6);
    clock.advance(120); // the ping timer fired at 100 ms; the ACK of 2 would be due at 20 ms…
    expect(log).toEqual([`reliable ${FrameKind.Ack}`]); // …and went alone: nothing was sent meanwhile
    a.receive({ kind: FrameKind.Reliable, seq: 3, message }, 6);
    clock.advance(5);
    log.length = 0;
    a.sendRoom(false, 1, 2, payload);
    expect(log).toEqual([
      `corked reliable ${FrameKind.Ack}`,
      `corked reliable ${FrameKind.Ping}`,
      `corked unreliable ${FrameKind.Unreliable}`,
      'uncork',
    ]);
    const ack = decodeFrame(sent[sent.length - 3]);
    expect(ack).toEqual({ kind: FrameKind.Ack, lastReceived: 3 });
    const ping = decodeFrame(sent[sent.length - 2]);
    if (ping.kind !== FrameKind.Ping) throw new Error('expected ping');
    // Neither goes out again on its timer, and RTT counts from the real send.
    log.length = 0;
    clock.advance(60);
    expect(log).toEqual([]);
    a.receive({ kind: FrameKind.Pong, id: ping.id }, 2);
    expect(a.stats().rtt).toBe(60);
    // Nothing waiting: a data frame goes out alone, without a cork.
    a.sendRoom(true, 1, 3, payload);
    expect(log).toEqual([`reliable ${FrameKind.Reliable}`]);
    a.dispose();
  });

  it('holds a PONG for the next data frame and reports the hold, which the pinging side takes off its RTT', () => {
    const clock = new ManualClock();
    // The answering side: no pings of its own.
    const b = new SessionCore({ pingIntervalMs: 0, pingHoldMs: 50, clock });
    const { link: fake, sent, log } = recordingLink();
    b.attach(fake, 0);
    b.receive({ kind: FrameKind.Ping, id: 7 }, 2);
    clock.advance(12.5);
    expect(log).toEqual([]);
    b.sendRoom(false, 1, 2, payload);
    expect(log).toEqual([
      `corked reliable ${FrameKind.Pong}`,
      `corked unreliable ${FrameKind.Unreliable}`,
      'uncork',
    ]);
    expect(decodeFrame(sent[0])).toEqual({ kind: FrameKind.Pong, id: 7, heldUs: 12_500 });
    // Without a data frame it goes alone after the hold; a second PING sends a held PONG at once.
    log.length = 0;
    b.receive({ kind: FrameKind.Ping, id: 8 }, 2);
    b.receive({ kind: FrameKind.Ping, id: 9 }, 2);
    expect(decodeFrame(sent[sent.length - 1])).toEqual({ kind: FrameKind.Pong, id: 8 });
    clock.advance(50);
    expect(decodeFrame(sent[sent.length - 1])).toEqual({ kind: FrameKind.Pong, id: 9, heldUs: 50_000 });
    clock.advance(500);
    expect(sent).toHaveLength(4);
    // A PING that arrives while detached is not answered later on another link.
    b.detach();
    b.receive({ kind: FrameKind.Ping, id: 10 }, 2);
    b.attach(fake, 0);
    b.sendRoom(false, 1, 3, payload);
    expect(sent.map((f) => decodeFrame(f).kind).slice(4)).toEqual([FrameKind.Unreliable]);
    b.dispose();

    // The pinging side: 30 ms from PING to PONG, 12.5 of them held, is an RTT of 17.5 ms; a hold larger
    // than the time elapsed (a confused or lying peer) counts as an RTT of 0, not a negative one.
    const a = new SessionCore({ pingIntervalMs: 1000, pingHoldMs: 0, clock });
    const pings: Uint8Array[] = [];
    a.attach({ ...fake, send: (_c, f) => pings.push(f.slice()) > 0 }, 0);
    clock.advance(100);
    const first = decodeFrame(pings[0]);
    if (first.kind !== FrameKind.Ping) throw new Error('expected ping');
    clock.advance(30);
    a.receive({ kind: FrameKind.Pong, id: first.id, heldUs: 12_500 }, 4);
    expect(a.stats().rtt).toBe(17.5);
    a.ping();
    const second = decodeFrame(pings[1]);
    if (second.kind !== FrameKind.Ping) throw new Error('expected ping');
    clock.advance(5);
    a.receive({ kind: FrameKind.Pong, id: second.id, heldUs: 9_000_000 }, 6);
    expect(a.stats().rtt).toBe(17.5 / 2);
    a.dispose();
  });
});
