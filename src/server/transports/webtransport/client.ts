// Node QUIC client on the same quiche binding (tests, bots, load generators): connectQuic() -> QuicConnection.
import { createHash, randomBytes } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { isIP, isIPv6 } from 'node:net';
import { NetloomError } from '../../../codec/errors.js';
import { buildClientConfig, type Host, QUIC_DEFAULTS, type QuicTransportOptions, quiche } from './config.js';
import { QuicConn } from './connection.js';
import type { QuicConnection } from './quic.js';
import { createUdpSocket, LOCAL_CID_LEN, PacketOutput } from './udp.js';

export interface ConnectQuicOptions extends QuicTransportOptions {
  /** Server IP address (resolve names first). */
  host: string;
  port: number;
  /** TLS server name (SNI). Default: `host` when it is a name, else 'localhost'. */
  serverName?: string;
  /** Verify the server's certificate. Default false unless `caCertificate` is given. */
  verifyPeer?: boolean;
  /**
   * PEM CA certificate(s) for BoringSSL's chain verification (turns `verifyPeer` on). A self-signed leaf such as
   * the generated one is not accepted as its own CA: pin it with `serverCertificateHashes` instead.
   */
  caCertificate?: string;
  /**
   * Accept the server only when the sha-256 of its leaf certificate's DER is one of these (bytes or hex), as the
   * browser's `serverCertificateHashes` does. Checked after the handshake; a mismatch closes the connection.
   */
  serverCertificateHashes?: (Uint8Array | string)[];
  /** Give up when the handshake has not completed after this long (ms). Default 10 000. */
  handshakeTimeoutMs?: number;
  /** Errors thrown by this connection's callbacks. Default: ignored. */
  onerror?: (err: unknown) => void;
}

/** A client connection: the QuicConnection seam plus quiche's counters. */
export interface QuicClientConnection extends QuicConnection {
  stats(): ReturnType<QuicConn['stats']>;
  /** The server's certificate chain (DER, leaf first). */
  peerCertificates(): Uint8Array[] | null;
}

/** Opens a QUIC connection from its own UDP socket; resolves once the handshake completes. */
export async function connectQuic(options: ConnectQuicOptions): Promise<QuicClientConnection> {
  if (!isIP(options.host)) {
    throw new NetloomError('quic_error', `connectQuic needs an IP address, got '${options.host}'`);
  }
  const config = buildClientConfig({ ...options, caPem: options.caCertificate });
  const v6 = isIPv6(options.host);
  const socket = createUdpSocket(v6);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: v6 ? '::' : '0.0.0.0', port: 0 }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const addr = socket.address();
  const local: Host = { host: addr.address, port: addr.port };
  const remote: Host = { host: options.host, port: options.port };
  const output = new PacketOutput(socket, options.maxSendUdpPayload ?? QUIC_DEFAULTS.maxSendUdpPayload);
  const serverName = options.serverName ?? (isIP(options.host) ? 'localhost' : options.host);
  let native: ReturnType<typeof quiche.Connection.connect>;
  try {
    native = quiche.Connection.connect(serverName, randomBytes(LOCAL_CID_LEN), local, remote, config);
  } catch (err) {
    socket.close();
    throw new NetloomError('quic_error', `quiche cannot start a connection: ${String(err)}`, { cause: err });
  }
  let socketClosed = false;
  const closeSocket = (): void => {
    if (socketClosed) return;
    socketClosed = true;
    output.close();
    socket.close();
  };
  const conn = new QuicConn(native, true, local, remote, {
    output,
    removed: closeSocket,
    callbackError: (err) => options.onerror?.(err),
  });
  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    output.counters.packetsIn++;
    output.counters.bytesIn += msg.length;
    if (rinfo.port !== remote.port) return; // only the server talks to this socket
    conn.receive(msg);
  });
  socket.on('error', (err) => options.onerror?.(err));

  return new Promise<QuicClientConnection>((resolve, reject) => {
    const timer = setTimeout(() => {
      conn.onclose = null;
      conn.close(0, 'handshake timeout');
      reject(new NetloomError('quic_error', `QUIC handshake with ${remote.host}:${remote.port} timed out`));
    }, options.handshakeTimeoutMs ?? 10_000);
    conn.onclose = (info) => {
      clearTimeout(timer);
      reject(
        new NetloomError(
          'quic_error',
          `QUIC handshake failed (code ${info.code}${info.reason ? `: ${info.reason}` : ''})`,
        ),
      );
    };
    conn.onestablished = () => {
      clearTimeout(timer);
      conn.onclose = null;
      if (options.serverCertificateHashes !== undefined && !pinned(conn, options.serverCertificateHashes)) {
        conn.close(0x0100 + 42, 'certificate hash mismatch'); // crypto error: bad_certificate
        reject(
          new NetloomError('certificate_invalid', 'the server certificate matches none of the pinned hashes'),
        );
        return;
      }
      resolve(conn);
      // deliver events after the caller's `await` resumed and attached its callbacks
      setImmediate(() => conn.activate());
    };
    output.schedule(conn);
  });
}

function pinned(conn: QuicConn, hashes: (Uint8Array | string)[]): boolean {
  const leaf = conn.peerCertificates()?.[0];
  if (!leaf) return false;
  const hex = createHash('sha256').update(leaf).digest('hex');
  return hashes.some(
    (h) => (typeof h === 'string' ? h.toLowerCase() : Buffer.from(h).toString('hex')) === hex,
  );
}
