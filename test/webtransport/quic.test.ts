// QUIC endpoint and Node client over real UDP on loopback: streams, datagrams, close, limits, hostile packets.
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { NetloomError } from '../../src/codec/errors.js';
import { CertificateManager } from '../../src/server/transports/webtransport/certificates.js';
import { connectQuic, type QuicClientConnection } from '../../src/server/transports/webtransport/client.js';
import { QuicEndpoint, type QuicEndpointOptions } from '../../src/server/transports/webtransport/endpoint.js';
import type { QuicConnection } from '../../src/server/transports/webtransport/quic.js';

const endpoints: QuicEndpoint[] = [];
const clients: QuicConnection[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close(0, 'test over');
  for (const s of sockets.splice(0)) s.close();
  for (const e of endpoints.splice(0)) await e.close();
});

async function server(options: QuicEndpointOptions = {}): Promise<QuicEndpoint> {
  const ep = await QuicEndpoint.listen(options);
  endpoints.push(ep);
  return ep;
}

async function client(ep: QuicEndpoint, extra: Partial<Parameters<typeof connectQuic>[0]> = {}) {
  const c = await connectQuic({ host: '127.0.0.1', port: ep.address.port, ...extra });
  clients.push(c);
  return c;
}

function nextConnection(ep: QuicEndpoint): Promise<QuicConnection> {
  return new Promise((resolve) => {
    ep.onconnection = resolve;
  });
}

/** Writes `data` on a stream honouring partial writes; resolves when all of it (and fin) was taken. */
function writeAll(
  conn: QuicConnection,
  id: number,
  data: Uint8Array,
  counts: { partial: number },
): Promise<void> {
  return new Promise((resolve) => {
    let off = 0;
    const pump = (): void => {
      while (off < data.length) {
        const chunk = data.subarray(off, Math.min(data.length, off + 64 * 1024));
        const last = off + chunk.length === data.length;
        const n = conn.writeStream(id, chunk, last);
        off += n;
        if (n < chunk.length) {
          counts.partial++;
          return;
        }
      }
      resolve();
    };
    const prev = conn.onstreamwritable;
    conn.onstreamwritable = (sid) => {
      if (sid === id) pump();
      else prev?.(sid);
    };
    pump();
  });
}

/** An echo server: streams echoed on the same bidi stream (uni streams echoed on a new uni stream), datagrams echoed. */
function echo(conn: QuicConnection): void {
  const pending = new Map<number, { chunks: Uint8Array[]; fin: boolean }>();
  const uniOut = new Map<number, number>();
  const pump = (id: number): void => {
    const p = pending.get(id);
    if (!p) return;
    while (p.chunks.length > 0) {
      const head = p.chunks[0]!;
      const last = p.chunks.length === 1 && p.fin;
      const n = conn.writeStream(id, head, last);
      if (n < head.length) {
        p.chunks[0] = head.subarray(n);
        return;
      }
      p.chunks.shift();
    }
    if (p.fin) pending.delete(id);
  };
  conn.onstreamwritable = pump;
  conn.ondatagram = (d) => conn.sendDatagram(d);
  conn.onstreamdata = (id, data, fin) => {
    let out = id;
    if ((id & 2) !== 0) {
      if (!uniOut.has(id)) uniOut.set(id, conn.openStream(false));
      out = uniOut.get(id)!;
    }
    let p = pending.get(out);
    if (!p) {
      p = { chunks: [], fin: false };
      pending.set(out, p);
    }
    if (data.length > 0) p.chunks.push(data);
    p.fin ||= fin;
    pump(out);
  };
}

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Collects every byte arriving on streams until fin, per stream. */
function collect(
  conn: QuicConnection,
): Map<number, Promise<Uint8Array>> & { wait(id: number): Promise<Uint8Array> } {
  const bufs = new Map<number, Uint8Array[]>();
  const waiters = new Map<number, (b: Uint8Array) => void>();
  const done = new Map<number, Uint8Array>();
  conn.onstreamdata = (id, data, fin) => {
    const list = bufs.get(id) ?? [];
    list.push(data);
    bufs.set(id, list);
    if (fin) {
      const all = Buffer.concat(list);
      done.set(id, all);
      waiters.get(id)?.(all);
    }
  };
  const m = new Map<number, Promise<Uint8Array>>() as Map<number, Promise<Uint8Array>> & {
    wait(id: number): Promise<Uint8Array>;
  };
  m.wait = (id) =>
    done.has(id) ? Promise.resolve(done.get(id)!) : new Promise((resolve) => waiters.set(id, resolve));
  return m;
}

describe('QUIC endpoint and client over loopback', () => {
  it('completes a handshake and reports both ends', async () => {
    const ep = await server();
    const accepted = nextConnection(ep);
    const c = await client(ep);
    const s = await accepted;
    expect(c.isClient).toBe(true);
    expect(s.isClient).toBe(false);
    expect(c.remote).toEqual({ host: '127.0.0.1', port: ep.address.port });
    expect(s.remote.host).toBe('127.0.0.1');
    expect(c.maxDatagramSize).toBeGreaterThan(1000);
    expect(s.maxDatagramSize).toBeGreaterThan(1000);
    expect(ep.stats().connections).toBe(1);
    expect(ep.stats().handshaking).toBe(0);
    expect(c.closed).toBe(false);
  });

  it('echoes 1 MB on a bidirectional stream through flow control and partial writes', async () => {
    const small = { initialMaxStreamData: 64 * 1024, initialMaxData: 256 * 1024 };
    const ep = await server(small);
    ep.onconnection = echo;
    const c = await client(ep, small);
    const inbox = collect(c);
    const data = randomBytes(1_000_000);
    const counts = { partial: 0 };
    const id = c.openStream(true);
    expect(id).toBe(0);
    await writeAll(c, id, data, counts);
    const back = await inbox.wait(id);
    expect(back.length).toBe(data.length);
    expect(sha(back)).toBe(sha(data));
    expect(counts.partial).toBeGreaterThan(0);
  });

  it('carries unidirectional streams both ways', async () => {
    const ep = await server();
    ep.onconnection = echo;
    const c = await client(ep);
    const inbox = collect(c);
    const data = randomBytes(10_000);
    const id = c.openStream(false);
    expect(id % 4).toBe(2);
    expect(c.writeStream(id, data, true)).toBe(data.length);
    const back = await inbox.wait(3); // the server's first uni stream
    expect(sha(back)).toBe(sha(data));
    const id2 = c.openStream(false);
    expect(id2).toBe(id + 4);
  });

  it('echoes 1,000 datagrams (>= 90% arrive) and refuses oversize ones', async () => {
    const ep = await server();
    ep.onconnection = echo;
    const c = await client(ep);
    const max = c.maxDatagramSize;
    expect(c.sendDatagram(new Uint8Array(max + 1))).toBe(false);
    const seen = new Set<number>();
    const rtts: number[] = [];
    const sentAt = new Map<number, number>();
    let allBack: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      allBack = resolve;
    });
    c.ondatagram = (d) => {
      const seq = new DataView(d.buffer, d.byteOffset, d.byteLength).getUint32(0);
      if (!seen.has(seq)) {
        seen.add(seq);
        rtts.push(performance.now() - sentAt.get(seq)!);
      }
      if (seen.size === 1000) allBack();
    };
    // One datagram in flight at a time measures RTT; a marker stream round trip bounds the wait for stragglers.
    for (let seq = 0; seq < 1000; seq++) {
      const d = new Uint8Array(200);
      new DataView(d.buffer).setUint32(0, seq);
      sentAt.set(seq, performance.now());
      expect(c.sendDatagram(d)).toBe(true);
      if (seq % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    const inbox = collect(c);
    const marker = c.openStream(true);
    c.writeStream(marker, new Uint8Array([1]), true);
    const twoRoundTrips = inbox.wait(marker).then(() => {
      const again = c.openStream(true);
      c.writeStream(again, new Uint8Array([2]), true);
      return inbox.wait(again);
    });
    await Promise.race([finished, twoRoundTrips]);
    expect(seen.size).toBeGreaterThanOrEqual(900);
    rtts.sort((a, b) => a - b);
    console.log(
      JSON.stringify({ datagrams: 1000, received: seen.size, rttP50Ms: rtts[rtts.length >> 1]?.toFixed(3) }),
    );
    expect(c.sendDatagram(new Uint8Array(max))).toBe(true);
  });

  it('closes with a code and reason seen on both sides, from either side', async () => {
    const ep = await server();
    let accepted = nextConnection(ep);
    const c = await client(ep);
    const s = await accepted;
    const serverSaw = new Promise<{ code: number; reason: string; local: boolean }>((r) => {
      s.onclose = r;
    });
    const clientSaw = new Promise<{ code: number; reason: string; local: boolean }>((r) => {
      c.onclose = r;
    });
    c.close(4242, 'done here');
    expect(await clientSaw).toEqual({ code: 4242, reason: 'done here', local: true });
    expect(await serverSaw).toEqual({ code: 4242, reason: 'done here', local: false });
    expect(c.closed).toBe(true);
    expect(() => c.writeStream(0, new Uint8Array(1))).toThrow(NetloomError);
    expect(c.sendDatagram(new Uint8Array(1))).toBe(false);

    accepted = nextConnection(ep);
    const c2 = await client(ep);
    const s2 = await accepted;
    const c2Saw = new Promise<{ code: number; reason: string; local: boolean }>((r) => {
      c2.onclose = r;
    });
    s2.close(7, 'kicked');
    expect(await c2Saw).toEqual({ code: 7, reason: 'kicked', local: false });
    await ep.whenEmpty();
    expect(ep.stats().connections).toBe(0);
  });

  it('reports a reset stream to the other side', async () => {
    const ep = await server();
    const accepted = nextConnection(ep);
    const c = await client(ep);
    const s = await accepted;
    const resetSeen = new Promise<[number, number]>((r) => {
      s.onstreamreset = (id, code) => r([id, code]);
    });
    s.onstreamdata = () => {};
    const id = c.openStream(true);
    c.writeStream(id, new Uint8Array(10));
    c.resetStream(id, 99);
    expect(await resetSeen).toEqual([id, 99]);
  });

  it('tells a writer when the peer aborts its stream, and later writes are discarded without throwing', async () => {
    const ep = await server();
    const accepted = nextConnection(ep);
    const c = await client(ep);
    const s = await accepted;
    const id = c.openStream(true);
    const arrived = new Promise<void>((r) => {
      s.onstreamdata = (sid) => {
        if (sid === id) r();
      };
    });
    c.writeStream(id, new Uint8Array(100));
    await arrived;
    const clientSaw = new Promise<[number, number]>((r) => {
      c.onstreamreset = (sid, code) => r([sid, code]);
    });
    s.resetStream(id, 77); // RESET_STREAM for its sending side and STOP_SENDING for ours
    expect(await clientSaw).toEqual([id, 77]);
    expect(c.writeStream(id, new Uint8Array(10))).toBe(10);
    expect(c.closed).toBe(false);
  });

  it('closes idle connections on both sides and forgets them', async () => {
    const ep = await server({ idleTimeoutMs: 300 });
    const accepted = nextConnection(ep);
    const c = await client(ep, { idleTimeoutMs: 300 });
    const s = await accepted;
    const serverSaw = new Promise<{ reason: string }>((r) => {
      s.onclose = r;
    });
    const clientSaw = new Promise<{ reason: string }>((r) => {
      c.onclose = r;
    });
    expect((await clientSaw).reason).toBe('idle timeout');
    expect((await serverSaw).reason).toBe('idle timeout');
    await ep.whenEmpty();
    expect(ep.connectionCount).toBe(0);
  });

  it('ignores and counts random UDP garbage, answers unknown versions, and still serves real clients', async () => {
    const ep = await server();
    ep.onconnection = echo;
    const raw = createSocket('udp4');
    sockets.push(raw);
    const replies: Buffer[] = [];
    raw.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', r));
    const send = (b: Uint8Array) =>
      new Promise<void>((r) => raw.send(b, ep.address.port, '127.0.0.1', () => r()));
    const N = 400;
    for (let i = 0; i < N; i++) {
      const len = i % 4 === 0 ? 1200 + (i % 200) : 1 + ((i * 37) % 1400);
      const b = randomBytes(len);
      if (i % 3 === 0) b[0] = 0xc0 | (b[0]! & 0x0f); // long header, random version
      if (i % 5 === 0) {
        b[0] = 0xc0; // Initial, QUIC v1, plausible lengths, random payload
        b.writeUInt32BE(1, 1);
        b[5] = 8;
      }
      await send(b);
    }
    // A well-formed long header with an unknown version must get a version negotiation reply.
    const vn = randomBytes(1200);
    vn[0] = 0xc0;
    vn.writeUInt32BE(0x1a2a3a4a, 1);
    vn[5] = 8;
    vn[14] = 8;
    await send(vn);
    const got = new Promise<Buffer>((resolve) => raw.once('message', resolve));
    await send(new Uint8Array(0));

    const c = await client(ep);
    const back = new Promise<Uint8Array>((r) => {
      c.ondatagram = r;
    });
    c.sendDatagram(new Uint8Array([1, 2, 3]));
    expect([...(await back)]).toEqual([1, 2, 3]);
    const reply = replies[0] ?? (await got);
    expect(reply[0]! & 0x80).toBe(0x80);
    expect(reply.readUInt32BE(1)).toBe(0); // version negotiation packet
    const st = ep.stats();
    expect(st.garbagePackets + st.unknownConnectionPackets + st.versionNegotiations).toBe(N + 2);
    expect(st.versionNegotiations).toBeGreaterThanOrEqual(1);
    expect(st.connections).toBe(1);
  });

  it('returns the connection count to zero after many clients close', async () => {
    const ep = await server();
    ep.onconnection = echo;
    const cs: QuicClientConnection[] = [];
    for (let i = 0; i < 8; i++) cs.push(await client(ep));
    expect(ep.stats().connections).toBe(8);
    for (const c of cs) c.close(0, 'bye');
    await ep.whenEmpty();
    expect(ep.stats().connections).toBe(0);
    expect(ep.stats().accepted).toBe(8);
  });

  it('drops Initial packets over the handshake limit', async () => {
    const ep = await server({ maxHandshakes: 0 });
    const err = await connectQuic({
      host: '127.0.0.1',
      port: ep.address.port,
      handshakeTimeoutMs: 400,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetloomError);
    expect((err as NetloomError).code).toBe('quic_error');
    expect(ep.stats().refusedConnections).toBeGreaterThan(0);
    expect(ep.stats().connections).toBe(0);
  });

  it('gives new connections the rotated certificate', async () => {
    const certs = await CertificateManager.create();
    const ep = await server({ certificate: certs });
    const first = certs.current;
    const c1 = await client(ep);
    expect(sha(c1.peerCertificates()![0]!)).toBe(first.sha256Hex);
    const second = await certs.rotate();
    expect(second.sha256Hex).not.toBe(first.sha256Hex);
    const c2 = await client(ep);
    expect(sha(c2.peerCertificates()![0]!)).toBe(second.sha256Hex);
    // the earlier connection is unaffected
    expect(c1.closed).toBe(false);
    certs.close();
  });

  it('pins the server certificate by sha-256 hash like serverCertificateHashes', async () => {
    const certs = await CertificateManager.create();
    const ep = await server({ certificate: certs });
    const ok = await client(ep, { serverCertificateHashes: [certs.current.sha256] });
    expect(ok.closed).toBe(false);
    const okHex = await client(ep, { serverCertificateHashes: [certs.current.sha256Hex] });
    expect(okHex.closed).toBe(false);
    const err = await connectQuic({
      host: '127.0.0.1',
      port: ep.address.port,
      serverCertificateHashes: [new Uint8Array(32)],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetloomError);
    expect((err as NetloomError).code).toBe('certificate_invalid');
    // BoringSSL chain verification refuses a self-signed leaf that is not a CA
    const err2 = await connectQuic({
      host: '127.0.0.1',
      port: ep.address.port,
      caCertificate: certs.current.certPem,
    }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(NetloomError);
    certs.close();
  });
});
