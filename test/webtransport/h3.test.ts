// HTTP/3 + WebTransport over an in-memory QUIC pair: CONNECT checks, sessions, streams, datagrams, capsules, hostile input.
import { describe, expect, it } from 'vitest';
import { encodeCloseCapsule } from '../../src/server/transports/webtransport/capsule.js';
import { H3Connection } from '../../src/server/transports/webtransport/h3-connection.js';
import { encodeFrame, H3FrameParser } from '../../src/server/transports/webtransport/h3-frames.js';
import { huffmanEncode } from '../../src/server/transports/webtransport/huffman.js';
import {
  decodeFieldSection,
  encodeFieldSection,
  type HeaderField,
} from '../../src/server/transports/webtransport/qpack.js';
import { encodeOurSettings } from '../../src/server/transports/webtransport/settings.js';
import { encodeVarints } from '../../src/server/transports/webtransport/varint.js';
import type { WtSession, WtStream } from '../../src/server/transports/webtransport/wt-session.js';
import { type FakeQuic, fakeQuicPair } from './fake-quic.js';

const ORIGIN = 'https://game.example';

function connectFields(path = '/wt', origin: string | null = ORIGIN, method = 'CONNECT'): HeaderField[] {
  const fields: HeaderField[] = [
    { name: ':method', value: method },
    { name: ':protocol', value: 'webtransport' },
    { name: ':scheme', value: 'https' },
    { name: ':authority', value: '127.0.0.1:4433' },
    { name: ':path', value: path },
  ];
  if (origin !== null) fields.push({ name: 'origin', value: origin });
  return fields;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A server H3Connection driven by raw bytes: what a hostile or hand-written client would send. */
function rawServer(options: ConstructorParameters<typeof H3Connection>[1] = {}) {
  const [client, server] = fakeQuicPair();
  const h3 = new H3Connection(server, { path: '/wt', allowedOrigins: [ORIGIN], ...options });
  const received = new Map<number, { bytes: Uint8Array; fin: boolean }>();
  const resets: Array<{ id: number; code: number }> = [];
  const closes: Array<{ code: number; reason: string }> = [];
  const sessions: WtSession[] = [];
  h3.onsession = (s) => sessions.push(s);
  client.onstreamdata = (id, data, fin) => {
    const prev = received.get(id);
    received.set(id, {
      bytes: concat(prev?.bytes ?? new Uint8Array(0), data),
      fin: fin || (prev?.fin ?? false),
    });
  };
  client.onstreamreset = (id, code) => resets.push({ id, code });
  client.onclose = (info) => closes.push(info);
  /** Lets the in-memory pair deliver everything in flight (it delivers one hop per macrotask). */
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  /** Sends a control stream with SETTINGS (client uni stream 2). */
  const control = (settings = encodeOurSettings(1, 16_384)) =>
    server.inject(2, concat(encodeVarints(0), encodeFrame(0x04, settings)));
  /** The response HEADERS on a request stream, decoded. */
  const response = (id: number): HeaderField[] | null => {
    const r = received.get(id);
    if (!r) return null;
    let fields: HeaderField[] | null = null;
    new H3FrameParser({
      frame: (type, payload) => {
        if (type === 0x01 && !fields) fields = decodeFieldSection(payload);
      },
      data: () => {},
    }).push(r.bytes);
    return fields;
  };
  const status = (id: number) => response(id)?.find((f) => f.name === ':status')?.value;
  return { client, server, h3, received, resets, closes, sessions, settle, control, response, status };
}

/** Server and client H3Connections with an open session on both sides. */
async function sessionPair() {
  const [clientQuic, serverQuic] = fakeQuicPair();
  const server = new H3Connection(serverQuic, { path: '/wt' });
  const serverSession = new Promise<WtSession>((resolve) => {
    server.onsession = resolve;
  });
  const client = new H3Connection(clientQuic);
  const clientSession = await client.connect('127.0.0.1:4433', '/wt', ORIGIN);
  return { server, client, serverSession: await serverSession, clientSession, clientQuic, serverQuic };
}

function collect(stream: WtStream): { bytes: () => Uint8Array; fin: () => boolean } {
  let bytes: Uint8Array = new Uint8Array(0);
  let fin = false;
  stream.ondata = (data, end) => {
    bytes = concat(bytes, data);
    fin ||= end;
  };
  return { bytes: () => bytes, fin: () => fin };
}

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('extended CONNECT at the server', () => {
  it('accepts a CONNECT with Huffman-coded strings and answers :status 200', async () => {
    const t = rawServer();
    t.control();
    // Chromium's header block: literal names and values Huffman-coded, static references where it can.
    const block: number[] = [0x00, 0x00, 0xc0 | 15, 0xc0 | 23]; // :method CONNECT, :scheme https
    const literal = (nameIndex: number, value: string) => {
      const coded = [...huffmanEncode(new TextEncoder().encode(value))];
      // Name index with a 4-bit prefix (15 and above continue in the next byte).
      block.push(
        ...(nameIndex < 15 ? [0x50 | nameIndex] : [0x5f, nameIndex - 15]),
        0x80 | coded.length,
        ...coded,
      );
    };
    literal(0, '127.0.0.1:4433');
    literal(1, '/wt?room=1');
    const protocol = [...huffmanEncode(new TextEncoder().encode(':protocol'))];
    const wt = [...huffmanEncode(new TextEncoder().encode('webtransport'))];
    // 7 bytes fill the 3-bit length prefix, so the length continues in a second byte.
    expect(protocol.length).toBe(7);
    block.push(0x28 | 7, 0x00, ...protocol, 0x80 | wt.length, ...wt);
    literal(90, ORIGIN);
    t.server.inject(0, encodeFrame(0x01, Uint8Array.from(block)));
    await t.settle();
    expect(t.status(0)).toBe('200');
    expect(t.sessions).toHaveLength(1);
    expect(t.sessions[0].request).toMatchObject({
      path: '/wt?room=1',
      origin: ORIGIN,
      authority: '127.0.0.1:4433',
    });
    expect(t.h3.stats.sessionsOpened).toBe(1);
  });

  it('answers 404 for a wrong path, 403 for a refused or missing origin, 405 for another method, 400 for a bad request', async () => {
    const t = rawServer();
    t.control();
    const requests: Array<[number, HeaderField[], string]> = [
      [0, connectFields('/nope'), '404'],
      [4, connectFields('/wt', 'https://evil.example'), '403'],
      [8, connectFields('/wt', null), '403'],
      [12, connectFields('/wt', ORIGIN, 'GET'), '405'],
      [16, [...connectFields(), { name: ':path', value: '/wt' }], '400'],
      [20, connectFields().filter((f) => f.name !== ':protocol'), '400'],
    ];
    for (const [id, fields] of requests) t.server.inject(id, encodeFrame(0x01, encodeFieldSection(fields)));
    await t.settle();
    for (const [id, , status] of requests) {
      expect(`${id}: ${t.status(id)}`).toBe(`${id}: ${status}`);
      expect(t.received.get(id)?.fin).toBe(true);
    }
    expect(t.sessions).toHaveLength(0);
    expect(t.h3.stats.requestsRefused).toBe(requests.length);
    expect(t.h3.closed).toBe(false);
  });

  it('answers 431 to an oversized header list and stays up', async () => {
    const t = rawServer({ maxHeaderListBytes: 2_000 });
    t.control();
    t.server.inject(
      0,
      encodeFrame(
        0x01,
        encodeFieldSection([...connectFields(), { name: 'x-big', value: 'a'.repeat(1_900) }]),
      ),
    );
    await t.settle();
    expect(t.status(0)).toBe('431');
    t.server.inject(4, encodeFrame(0x01, encodeFieldSection(connectFields())));
    await t.settle();
    expect(t.status(4)).toBe('200');
  });

  it('closes the connection with qpack_error on dynamic table references, bad Huffman and overlong integers', async () => {
    const blocks = [
      Uint8Array.from([0x01, 0x00, 0xc0 | 15]), // Required Insert Count 1
      Uint8Array.from([0x00, 0x00, 0x80 | 3]), // dynamic indexed field line
      Uint8Array.from([0x00, 0x00, 0x10]), // post-base index
      Uint8Array.from([0x00, 0x00, 0x50, 0x82, 0x00, 0x00]), // Huffman value whose padding is zeros
      Uint8Array.from([0x00, 0x00, 0x50, 0x84, 0xff, 0xff, 0xff, 0xff]), // Huffman EOS
      Uint8Array.from([0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), // overlong integer
      Uint8Array.from([0x00, 0x00, 0xc0 | 63, 0x40]), // static index 102: out of range
      Uint8Array.from([0x00, 0x00, 0x50, 0x0a, 0x61]), // truncated string
    ];
    for (const block of blocks) {
      const t = rawServer();
      t.control();
      t.server.inject(0, encodeFrame(0x01, block));
      await t.settle();
      expect(t.h3.error?.code).toBe('qpack_error');
      expect(t.closes[0]?.code).toBe(0x200);
      expect(t.sessions).toHaveLength(0);
    }
  });

  it('skips unknown frames, grease settings, unknown stream types and unknown capsules', async () => {
    const t = rawServer();
    const settings = concat(encodeOurSettings(1, 16_384), encodeVarints(0x1f * 7 + 0x21, 12345, 0x4242, 1));
    t.server.inject(
      2,
      concat(encodeVarints(0), encodeFrame(0x04, settings), encodeFrame(0x1f * 3 + 0x21, new Uint8Array(50))),
    );
    t.server.inject(6, concat(encodeVarints(0x1f * 9 + 0x21), new Uint8Array(100).fill(0xee))); // grease stream type
    t.server.inject(10, encodeVarints(0x02)); // QPACK encoder stream
    t.server.inject(14, encodeVarints(0x03)); // QPACK decoder stream
    const greaseFrame = encodeFrame(0x1f * 5 + 0x21, new Uint8Array(30).fill(1));
    t.server.inject(
      0,
      concat(greaseFrame, encodeFrame(0x01, encodeFieldSection(connectFields())), greaseFrame),
    );
    await t.settle();
    expect(t.status(0)).toBe('200');
    const session = t.sessions[0];
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      session.onclose = resolve;
    });
    const unknownCapsule = concat(encodeVarints(0x1234, 5), new Uint8Array(5));
    const capsules = concat(unknownCapsule, encodeCloseCapsule(42, 'done here'));
    // A random DATA frame before the capsules, split across chunks at odd places.
    const bytes = concat(encodeFrame(0x00, concat(unknownCapsule)), encodeFrame(0x00, capsules));
    for (let i = 0; i < bytes.length; i += 3) t.server.inject(0, bytes.subarray(i, i + 3));
    expect(await closed).toMatchObject({ code: 42, reason: 'done here', local: false });
    expect(t.h3.error).toBeNull();
    expect(t.h3.peerSettings?.enableWebTransport).toBe(true);
  });

  it('refuses hostile control streams: no SETTINGS first, a second control stream, DATA on control, a closed control stream', async () => {
    const cases: Array<[string, (t: ReturnType<typeof rawServer>) => void, string]> = [
      [
        'HEADERS first',
        (t) => t.server.inject(2, concat(encodeVarints(0), encodeFrame(0x01, new Uint8Array(3)))),
        'h3_settings_error',
      ],
      [
        'two control streams',
        (t) => {
          t.control();
          t.server.inject(6, concat(encodeVarints(0), encodeFrame(0x04, new Uint8Array(0))));
        },
        'h3_stream_error',
      ],
      [
        'DATA on control',
        (t) => {
          t.control();
          t.server.inject(2, encodeFrame(0x00, new Uint8Array(4)));
        },
        'h3_frame_unexpected',
      ],
      [
        'control closed',
        (t) => t.server.inject(2, concat(encodeVarints(0), encodeFrame(0x04, new Uint8Array(0))), true),
        'h3_stream_error',
      ],
      [
        'duplicate setting',
        (t) =>
          t.server.inject(2, concat(encodeVarints(0), encodeFrame(0x04, encodeVarints(0x33, 1, 0x33, 1)))),
        'h3_settings_error',
      ],
      [
        'HTTP/2 setting',
        (t) => t.server.inject(2, concat(encodeVarints(0), encodeFrame(0x04, encodeVarints(0x04, 100)))),
        'h3_settings_error',
      ],
      [
        'HTTP/2 frame type',
        (t) => {
          t.control();
          t.server.inject(0, encodeFrame(0x06, new Uint8Array(8)));
        },
        'h3_frame_unexpected',
      ],
      [
        'truncated request frame',
        (t) => {
          t.control();
          t.server.inject(0, Uint8Array.from([0x01, 0x10, 0x00]), true);
        },
        'h3_frame_error',
      ],
      [
        'oversized SETTINGS',
        (t) => t.server.inject(2, concat(encodeVarints(0, 0x04, 1_000_000))),
        'h3_frame_error',
      ],
      [
        'HEADERS frame over the limit (refused before buffering)',
        (t) => {
          t.control();
          t.server.inject(0, encodeVarints(0x01, 50_000_000));
        },
        'h3_headers_too_large',
      ],
      [
        'push stream',
        (t) => {
          t.control();
          t.server.inject(6, encodeVarints(0x01, 0));
        },
        'h3_stream_error',
      ],
    ];
    for (const [name, run, code] of cases) {
      const t = rawServer();
      run(t);
      await t.settle();
      expect(`${name}: ${t.h3.error?.code}`).toBe(`${name}: ${code}`);
      expect(t.closes).toHaveLength(1);
      expect(t.h3.sessions.size).toBe(0);
    }
  });

  it('survives random bytes on control, request and unknown streams (each ends in a NetloomError or is skipped)', async () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    let errors = 0;
    for (let run = 0; run < 300; run++) {
      const t = rawServer();
      const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 200) }, () =>
        Math.floor(random() * 256),
      );
      const target = [0, 2, 4, 6][run % 4];
      if (run % 3 === 0) t.control();
      t.server.inject(target, bytes, random() < 0.3);
      t.server.injectDatagram(bytes);
      await new Promise((resolve) => setImmediate(resolve));
      if (t.h3.error) {
        errors++;
        expect(t.h3.error.name).toBe('NetloomError');
      }
      t.h3.close();
    }
    expect(errors).toBeGreaterThan(0);
  });
});

describe('streams that overtake their session', () => {
  it('holds a WebTransport stream that arrives before its CONNECT, then hands it over with its bytes', async () => {
    const t = rawServer();
    t.control();
    t.server.inject(4, Uint8Array.from([...encodeVarints(0x41, 0), 1, 2, 3]));
    t.server.inject(4, Uint8Array.from([4]), true);
    await t.settle();
    expect(t.sessions).toHaveLength(0);
    t.server.inject(0, encodeFrame(0x01, encodeFieldSection(connectFields())));
    await t.settle();
    expect(t.sessions).toHaveLength(1);
    const streams: WtStream[] = [];
    t.sessions[0].onstream = (s) => streams.push(s);
    expect(streams).toHaveLength(1);
    const got = collect(streams[0]);
    expect([...got.bytes()]).toEqual([1, 2, 3, 4]);
    expect(got.fin()).toBe(true);
  });

  it('refuses held streams when their session is refused, over the stream limit, or over the byte limit', async () => {
    const t = rawServer({ maxPendingStreams: 2, maxPendingBytes: 1_000 });
    t.control();
    t.server.inject(4, Uint8Array.from([...encodeVarints(0x41, 0), 1])); // held for session 0
    t.server.inject(8, Uint8Array.from([...encodeVarints(0x41, 0), 2])); // held for session 0
    t.server.inject(12, Uint8Array.from([...encodeVarints(0x41, 0), 3])); // over the stream limit
    t.server.inject(16, Uint8Array.from([...encodeVarints(0x41, 2), 3])); // session id 2 is not a request stream
    await t.settle();
    expect(t.resets.map((r) => r.id).sort((a, b) => a - b)).toEqual([12, 16]);
    t.server.inject(8, new Uint8Array(2_000)); // over the byte limit
    await t.settle();
    expect(t.resets.map((r) => r.id).sort((a, b) => a - b)).toEqual([8, 12, 16]);
    t.server.inject(0, encodeFrame(0x01, encodeFieldSection(connectFields('/elsewhere'))));
    await t.settle();
    expect(t.status(0)).toBe('404');
    expect(t.resets.map((r) => r.id).sort((a, b) => a - b)).toEqual([4, 8, 12, 16]);
    expect(t.h3.stats.streamsRefused).toBe(4);
    expect(t.h3.error).toBeNull();
  });
});

describe('WebTransport sessions', () => {
  it('opens a session from the client role and exchanges datagrams with the quarter stream id prefix', async () => {
    const { server, client, serverSession, clientSession, serverQuic } = await sessionPair();
    expect(serverSession.id).toBe(0);
    expect(client.peerSettings?.h3Datagram).toBe(true);
    const got: Uint8Array[] = [];
    serverSession.ondatagram = (d) => got.push(d.slice());
    const back: Uint8Array[] = [];
    clientSession.ondatagram = (d) => back.push(d.slice());
    expect(clientSession.sendDatagram(Uint8Array.from([1, 2, 3]))).toBe(true);
    expect(clientSession.sendDatagram(new Uint8Array(clientSession.maxDatagramSize + 1))).toBe(false);
    await until(() => got.length === 1, 'datagram at server');
    expect([...got[0]]).toEqual([1, 2, 3]);
    expect(serverSession.sendDatagram(Uint8Array.from([9]))).toBe(true);
    await until(() => back.length === 1, 'datagram at client');
    // A datagram for an unknown session is dropped and counted.
    serverQuic.injectDatagram(Uint8Array.from([0x05, 1, 2]));
    serverQuic.injectDatagram(new Uint8Array(0));
    await until(() => server.stats.datagramsDropped === 2, 'dropped datagrams');
    client.close();
    server.close();
  });

  it('carries client and server bidirectional and unidirectional streams with FIN and resets', async () => {
    const { server, client, serverSession, clientSession } = await sessionPair();
    const atServer: WtStream[] = [];
    serverSession.onstream = (s) => atServer.push(s);
    const atClient: WtStream[] = [];
    clientSession.onstream = (s) => atClient.push(s);

    const bidi = clientSession.openStream(true);
    const bidiBack = collect(bidi);
    bidi.write(new TextEncoder().encode('hello'));
    bidi.end();
    await until(() => atServer.length === 1, 'server sees the bidi stream');
    const echo = collect(atServer[0]);
    await until(() => echo.fin(), 'FIN at server');
    expect(new TextDecoder().decode(echo.bytes())).toBe('hello');
    atServer[0].write(new TextEncoder().encode('world'));
    atServer[0].end();
    await until(() => bidiBack.fin(), 'FIN at client');
    expect(new TextDecoder().decode(bidiBack.bytes())).toBe('world');

    const uni = serverSession.openStream(false);
    uni.write(Uint8Array.from([7, 7]));
    await until(() => atClient.length === 1, 'client sees the uni stream');
    expect(atClient[0].bidirectional).toBe(false);
    const uniIn = collect(atClient[0]);
    const resets: number[] = [];
    atClient[0].onreset = (code) => resets.push(code);
    uni.reset(77);
    await until(() => resets.length === 1, 'reset at client');
    expect(resets).toEqual([77]);
    expect([...uniIn.bytes()]).toEqual([7, 7]);

    const serverBidi = serverSession.openStream(true);
    serverBidi.write(Uint8Array.from([5]));
    await until(() => atClient.length === 2, 'client sees the server bidi stream');
    expect(atClient[1].bidirectional).toBe(true);
    client.close();
    server.close();
  });

  it('resets incoming streams over the per-session limit', async () => {
    const [clientQuic, serverQuic] = fakeQuicPair();
    const server = new H3Connection(serverQuic, { session: { maxStreams: 3 } });
    const serverSession = new Promise<WtSession>((resolve) => {
      server.onsession = resolve;
    });
    const client = new H3Connection(clientQuic);
    const session = await client.connect('x', '/');
    const accepted: WtStream[] = [];
    (await serverSession).onstream = (s) => accepted.push(s);
    const resets: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = session.openStream(true);
      s.onreset = () => resets.push(i);
      s.write(Uint8Array.from([i]));
    }
    await until(() => resets.length === 2, 'two refused streams');
    expect(accepted).toHaveLength(3);
    expect(server.stats.streamsRefused).toBe(2);
    client.close();
    server.close();
  });

  it('closes with the close capsule in both directions, resetting open streams', async () => {
    const { server, client, serverSession, clientSession } = await sessionPair();
    const s = clientSession.openStream(true);
    const resets: number[] = [];
    s.onreset = (code) => resets.push(code);
    s.write(Uint8Array.from([1]));
    const closed = new Promise<unknown>((resolve) => {
      clientSession.onclose = resolve;
    });
    serverSession.close(3, 'bye ✓');
    expect(await closed).toEqual({ code: 3, reason: 'bye ✓', local: false, abrupt: false });
    expect(server.sessions.size).toBe(0);
    await until(() => client.sessions.size === 0, 'client forgets the session');
    client.close();
    server.close();
  });

  it('refuses new sessions after GOAWAY and reports the refusal to the client', async () => {
    const { server, client } = await sessionPair();
    server.goaway();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(client.connect('x', '/wt')).rejects.toMatchObject({ code: 'wt_session_refused' });
    client.close();
    server.close();
  });

  it('rejects connect when the server does not offer WebTransport, and when the server answers 404', async () => {
    const [clientQuic, serverQuic] = fakeQuicPair();
    const server = new H3Connection(serverQuic, { path: '/wt' });
    const client = new H3Connection(clientQuic);
    await expect(client.connect('x', '/other')).rejects.toMatchObject({
      code: 'wt_session_refused',
      message: 'server answered 404',
    });
    client.close();
    server.close();
    const [c2, s2] = fakeQuicPair();
    s2.onstreamdata = () => {};
    const bare = s2 as FakeQuic;
    bare.writeStream(
      bare.openStream(false),
      concat(encodeVarints(0), encodeFrame(0x04, encodeVarints(0x01, 0))),
    );
    const client2 = new H3Connection(c2);
    await expect(client2.connect('x', '/')).rejects.toMatchObject({ code: 'wt_session_refused' });
    client2.close();
  });
});
