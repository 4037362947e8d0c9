// The server's QUIC endpoint: one UDP socket, connection lookup by CID, version negotiation, limits, cleanup.
import { randomBytes } from 'node:crypto';
import type { RemoteInfo, Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { NetloomError, toNetloomError } from '../../../codec/errors.js';
import { CertificateManager, type CertificateMaterial } from './certificates.js';
import {
  buildServerConfig,
  type Config,
  type Host,
  QUIC_DEFAULTS,
  type QuicTransportOptions,
  quiche,
} from './config.js';
import { QuicConn, type QuicConnOwner } from './connection.js';
import type { QuicConnection } from './quic.js';
import { cidKey, createUdpSocket, LOCAL_CID_LEN, PacketOutput, shortHeaderDcidKey } from './udp.js';

export interface QuicEndpointOptions extends QuicTransportOptions {
  /** Address to bind. Default '127.0.0.1' (loopback only, safe for tests); use '0.0.0.0' or '::' to serve others. */
  host?: string;
  /** UDP port. Default 0 (an ephemeral port; read `endpoint.address.port`). */
  port?: number;
  /** A certificate manager (shared with whoever publishes the hash), a fixed certificate, or nothing to generate one. */
  certificate?: CertificateManager | CertificateMaterial;
  /** Connections at once, established or not. Default 10 000. */
  maxConnections?: number;
  /** Connections still in the handshake at once; further Initial packets are dropped. Default 256. */
  maxHandshakes?: number;
  /** A connection whose handshake has not completed after this long is dropped (ms). Default 10 000. */
  handshakeTimeoutMs?: number;
  /** Socket receive/send buffer sizes (bytes, best effort). Default 4 MiB. */
  socketBufferBytes?: number;
  /** Called with each connection once its handshake completes. */
  onconnection?: (conn: QuicConnection) => void;
  /** Errors thrown by callbacks or raised inside the endpoint. Default: ignored after counting. */
  onerror?: (err: NetloomError) => void;
}

/** Counters for health checks and tests. */
export interface QuicEndpointStats {
  connections: number;
  handshaking: number;
  accepted: number;
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Packets that are not QUIC at all (random bytes, truncated headers). */
  garbagePackets: number;
  /** QUIC packets for a connection id we do not know (stale, or forged). */
  unknownConnectionPackets: number;
  /** Initial packets dropped by the handshake or connection limits. */
  refusedConnections: number;
  versionNegotiations: number;
  handshakeTimeouts: number;
  callbackErrors: number;
  sendErrors: number;
}

/** A QUIC server on one UDP socket. Create with `QuicEndpoint.listen`. */
export class QuicEndpoint {
  onconnection: ((conn: QuicConnection) => void) | null;
  onerror: ((err: NetloomError) => void) | null;
  readonly certificates: CertificateManager;

  readonly #socket: Socket;
  readonly #options: QuicEndpointOptions;
  readonly #output: PacketOutput;
  readonly #ownsCertificates: boolean;
  readonly #unsubscribe: () => void;
  readonly #byCid = new Map<string, QuicConn>();
  readonly #conns = new Set<QuicConn>();
  readonly #handshaking = new Set<QuicConn>();
  readonly #local: Host;
  readonly #owner: QuicConnOwner;
  readonly #sweep: NodeJS.Timeout;
  readonly #vnBuf = Buffer.alloc(1350);
  #config: Config;
  #closed = false;
  #emptyWaiters: (() => void)[] = [];
  readonly #stats = {
    accepted: 0,
    garbagePackets: 0,
    unknownConnectionPackets: 0,
    refusedConnections: 0,
    versionNegotiations: 0,
    handshakeTimeouts: 0,
    callbackErrors: 0,
  };

  private constructor(
    socket: Socket,
    options: QuicEndpointOptions,
    certificates: CertificateManager,
    owns: boolean,
    local: Host,
  ) {
    this.#socket = socket;
    this.#options = options;
    this.certificates = certificates;
    this.#ownsCertificates = owns;
    this.#local = local;
    this.onconnection = options.onconnection ?? null;
    this.onerror = options.onerror ?? null;
    this.#output = new PacketOutput(socket, options.maxSendUdpPayload ?? QUIC_DEFAULTS.maxSendUdpPayload);
    this.#config = buildServerConfig(certificates.current, options);
    this.#unsubscribe = certificates.subscribe((cert) => {
      try {
        this.#config = buildServerConfig(cert, this.#options);
      } catch (err) {
        this.#error(err);
      }
    });
    this.#owner = {
      output: this.#output,
      removed: (c) => this.#remove(c),
      callbackError: (err) => {
        this.#stats.callbackErrors++;
        this.#error(err);
      },
    };
    socket.on('message', this.#onMessage);
    socket.on('error', (err) =>
      this.#error(new NetloomError('quic_error', `UDP socket error: ${err.message}`)),
    );
    this.#sweep = setInterval(() => this.#sweepHandshakes(), 1000);
    this.#sweep.unref();
  }

  /** Binds the UDP socket and starts accepting QUIC connections. */
  static async listen(options: QuicEndpointOptions = {}): Promise<QuicEndpoint> {
    const host = options.host ?? '127.0.0.1';
    let certificates: CertificateManager;
    let owns = false;
    if (options.certificate instanceof CertificateManager) certificates = options.certificate;
    else {
      certificates = await CertificateManager.create(
        options.certificate ? { provided: options.certificate } : {},
      );
      owns = true;
    }
    const socket = createUdpSocket(isIPv6(host));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: host, port: options.port ?? 0 }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      if (owns) certificates.close();
      throw new NetloomError('quic_error', `cannot bind UDP ${host}:${options.port ?? 0}: ${String(err)}`, {
        cause: err,
      });
    }
    const bufferBytes = options.socketBufferBytes ?? 4 * 1024 * 1024;
    try {
      socket.setRecvBufferSize(bufferBytes);
      socket.setSendBufferSize(bufferBytes);
    } catch {
      // the kernel may cap these; the defaults still work
    }
    const addr = socket.address();
    try {
      return new QuicEndpoint(socket, options, certificates, owns, { host: addr.address, port: addr.port });
    } catch (err) {
      socket.close();
      if (owns) certificates.close();
      throw err;
    }
  }

  /** The bound address. */
  get address(): { host: string; port: number } {
    return { host: this.#local.host, port: this.#local.port };
  }

  /** Connections currently known (in handshake, open, or draining). */
  get connectionCount(): number {
    return this.#conns.size;
  }

  stats(): QuicEndpointStats {
    const c = this.#output.counters;
    return {
      connections: this.#conns.size,
      handshaking: this.#handshaking.size,
      packetsIn: c.packetsIn,
      bytesIn: c.bytesIn,
      packetsOut: c.packetsOut,
      bytesOut: c.bytesOut,
      sendErrors: c.sendErrors,
      ...this.#stats,
    };
  }

  /** Resolves once no connection is left (closed ones finish draining first). */
  whenEmpty(): Promise<void> {
    if (this.#conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  /** Closes every connection (code 0, 'server shutdown' unless given) and the socket. */
  async close(code = 0, reason = 'server shutdown'): Promise<void> {
    if (this.#closed) return;
    for (const c of [...this.#conns]) c.close(code, reason);
    this.#output.close();
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#unsubscribe();
    if (this.#ownsCertificates) this.certificates.close();
    for (const c of [...this.#conns]) this.#remove(c);
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  readonly #onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const counters = this.#output.counters;
    counters.packetsIn++;
    counters.bytesIn += msg.length;
    if (this.#closed) return;
    try {
      const key = shortHeaderDcidKey(msg, LOCAL_CID_LEN);
      if (key !== null) {
        const conn = this.#byCid.get(key);
        if (conn) conn.receive(msg);
        else this.#stats.unknownConnectionPackets++;
        return;
      }
      if (msg.length === 0 || (msg[0]! & 0x80) === 0) {
        this.#stats.garbagePackets++;
        return;
      }
      this.#onLongHeader(msg, rinfo);
    } catch (err) {
      this.#error(err);
    }
  };

  #onLongHeader(msg: Buffer, rinfo: RemoteInfo): void {
    let header: ReturnType<typeof quiche.Header.fromSlice>;
    try {
      header = quiche.Header.fromSlice(msg, LOCAL_CID_LEN);
    } catch {
      this.#stats.garbagePackets++;
      return;
    }
    const existing = this.#byCid.get(cidKey(header.dcid));
    if (existing) {
      existing.receive(msg);
      return;
    }
    // New connections only from full-size (>= 1200 bytes, RFC 9000 §14.1) client Initial packets.
    if (msg.length < quiche.MIN_CLIENT_INITIAL_LEN || header.dcid.length < 8) {
      this.#stats.garbagePackets++;
      return;
    }
    if (!quiche.versionIsSupported(header.version)) {
      if (header.ty === quiche.Type.VersionNegotiation) {
        this.#stats.garbagePackets++;
        return;
      }
      const n = quiche.negotiateVersion(header.scid, header.dcid, this.#vnBuf);
      this.#stats.versionNegotiations++;
      this.#socket.send(this.#vnBuf.subarray(0, n), rinfo.port, rinfo.address);
      return;
    }
    if (header.ty !== quiche.Type.Initial) {
      this.#stats.unknownConnectionPackets++;
      return;
    }
    if (
      this.#handshaking.size >= (this.#options.maxHandshakes ?? 256) ||
      this.#conns.size >= (this.#options.maxConnections ?? 10_000)
    ) {
      this.#stats.refusedConnections++;
      return;
    }
    const scid = randomBytes(LOCAL_CID_LEN);
    const remote = { host: rinfo.address, port: rinfo.port };
    let native: ReturnType<typeof quiche.Connection.accept>;
    try {
      native = quiche.Connection.accept(scid, null, this.#local, remote, this.#config);
    } catch (err) {
      this.#stats.garbagePackets++;
      this.#error(new NetloomError('quic_error', `quiche refused a new connection: ${String(err)}`));
      return;
    }
    const conn = new QuicConn(native, false, this.#local, remote, this.#owner);
    const keys = [cidKey(header.dcid), cidKey(scid)];
    for (const k of keys) {
      this.#byCid.set(k, conn);
      conn.keys.push(k);
    }
    this.#conns.add(conn);
    this.#handshaking.add(conn);
    this.#stats.accepted++;
    conn.onestablished = () => {
      this.#handshaking.delete(conn);
      // hand the connection out after this packet's processing; quiche keeps anything that arrives meanwhile
      queueMicrotask(() => {
        if (conn.closed) return;
        try {
          this.onconnection?.(conn);
        } catch (err) {
          this.#stats.callbackErrors++;
          this.#error(err);
        }
        conn.activate();
      });
    };
    conn.receive(msg);
    if (conn.stats().recv === 0) {
      // quiche could not even decrypt the Initial: forged or random bytes. Forget it without a reply.
      this.#stats.accepted--;
      this.#stats.garbagePackets++;
      conn.discard();
    }
  }

  #sweepHandshakes(): void {
    const limit = this.#options.handshakeTimeoutMs ?? 10_000;
    const now = Date.now();
    for (const c of this.#handshaking) {
      if (now - c.createdAt > limit) {
        this.#stats.handshakeTimeouts++;
        this.#handshaking.delete(c);
        c.abort('handshake timeout');
      }
    }
  }

  #remove(conn: QuicConn): void {
    if (!this.#conns.delete(conn)) return;
    this.#handshaking.delete(conn);
    for (const k of conn.keys) if (this.#byCid.get(k) === conn) this.#byCid.delete(k);
    if (this.#conns.size === 0) {
      const waiters = this.#emptyWaiters;
      this.#emptyWaiters = [];
      for (const w of waiters) w();
    }
  }

  #error(err: unknown): void {
    const e = toNetloomError(err);
    try {
      this.onerror?.(e);
    } catch {
      // the error reporter itself failed; nothing more to do
    }
  }
}
