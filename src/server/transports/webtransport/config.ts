// Builds quiche Config objects (ALPN h3, datagrams, flow-control windows, idle timeout, certificates) with defaults.
import quiche from '@matrixai/quic/native/quiche.js';
import type { Config, Connection, Host } from '@matrixai/quic/native/types.js';
import { NetloomError } from '../../../codec/errors.js';
import { definedOnly } from '../../../shared/options.js';
import type { CertificateMaterial } from './certificates.js';

export type { Config, Connection, Host };
export { quiche };

/** Transport settings shared by the server endpoint and the Node client. Every field has a default. */
export interface QuicTransportOptions {
  /** ALPN protocols offered/accepted. Default ['h3']. */
  alpn?: string[];
  /** Close a connection after this long without packets (ms; 0 disables). Default 30 000. */
  idleTimeoutMs?: number;
  /** Largest UDP payload we send (bytes). Default 1350. */
  maxSendUdpPayload?: number;
  /** Largest UDP payload we accept (bytes). Default 1500. */
  maxRecvUdpPayload?: number;
  /** Connection-level receive window (bytes). Default 16 MiB. */
  initialMaxData?: number;
  /** Per-stream receive window for bidirectional streams (bytes, both directions). Default 1 MiB. */
  initialMaxStreamData?: number;
  /** Per-stream receive window for unidirectional streams (bytes). Default 1 MiB. */
  initialMaxStreamDataUni?: number;
  /** Bidirectional streams the peer may open. Default 100. */
  maxStreamsBidi?: number;
  /** Unidirectional streams the peer may open. Default 100. */
  maxStreamsUni?: number;
  /** Datagram receive and send queue lengths (packets; excess is dropped). Default 1024 each. */
  datagramQueueLength?: number;
  /** Congestion control: 'cubic' (default), 'reno' or 'bbr'. */
  congestionControl?: 'cubic' | 'reno' | 'bbr';
  /** Add GREASE values to the handshake. Default true. */
  grease?: boolean;
}

export const QUIC_DEFAULTS = {
  alpn: ['h3'],
  idleTimeoutMs: 30_000,
  maxSendUdpPayload: 1350,
  maxRecvUdpPayload: 1500,
  initialMaxData: 16 * 1024 * 1024,
  initialMaxStreamData: 1024 * 1024,
  initialMaxStreamDataUni: 1024 * 1024,
  maxStreamsBidi: 100,
  maxStreamsUni: 100,
  datagramQueueLength: 1024,
  congestionControl: 'cubic',
  grease: true,
} as const satisfies Required<QuicTransportOptions>;

const enc = new TextEncoder();

/** The max_ack_delay this side advertises (ms): a bound on how long it holds a pure acknowledgement. */
export const MAX_ACK_DELAY_MS = 50;

function applyTransport(config: Config, options: QuicTransportOptions): void {
  const o = { ...QUIC_DEFAULTS, ...definedOnly(options) };
  config.setApplicationProtos(o.alpn);
  config.setMaxIdleTimeout(o.idleTimeoutMs);
  config.setMaxSendUdpPayloadSize(o.maxSendUdpPayload);
  config.setMaxRecvUdpPayloadSize(o.maxRecvUdpPayload);
  config.setInitialMaxData(o.initialMaxData);
  config.setInitialMaxStreamDataBidiLocal(o.initialMaxStreamData);
  config.setInitialMaxStreamDataBidiRemote(o.initialMaxStreamData);
  config.setInitialMaxStreamDataUni(o.initialMaxStreamDataUni);
  config.setInitialMaxStreamsBidi(o.maxStreamsBidi);
  config.setInitialMaxStreamsUni(o.maxStreamsUni);
  config.enableDgram(true, o.datagramQueueLength, o.datagramQueueLength);
  config.setDisableActiveMigration(true);
  // Pure acknowledgements wait up to ACK_DELAY_MS (connection.ts) for a packet to ride on; tell the peer.
  config.setMaxAckDelay(MAX_ACK_DELAY_MS);
  config.setCcAlgorithmName(o.congestionControl);
  config.grease(o.grease);
}

/** A server-side quiche Config presenting `cert`. */
export function buildServerConfig(cert: CertificateMaterial, options: QuicTransportOptions = {}): Config {
  let config: Config;
  try {
    config = quiche.Config.withBoringSslCtx(
      false,
      false,
      null,
      [enc.encode(cert.keyPem)],
      [enc.encode(cert.certPem)],
      null,
    );
  } catch (err) {
    throw new NetloomError(
      'certificate_invalid',
      `the TLS stack refused the certificate or key: ${String(err)}`,
      {
        cause: err,
      },
    );
  }
  applyTransport(config, options);
  return config;
}

/** A client-side quiche Config; verifies the server against `caPem` when given, else (by default) not at all. */
export function buildClientConfig(
  options: QuicTransportOptions & { verifyPeer?: boolean; caPem?: string } = {},
): Config {
  const verify = options.verifyPeer ?? options.caPem !== undefined;
  let config: Config;
  try {
    config = quiche.Config.withBoringSslCtx(
      verify,
      false,
      options.caPem !== undefined ? enc.encode(options.caPem) : null,
      null,
      null,
      null,
    );
  } catch (err) {
    throw new NetloomError(
      'certificate_invalid',
      `the TLS stack refused the CA certificate: ${String(err)}`,
      {
        cause: err,
      },
    );
  }
  applyTransport(config, options);
  return config;
}
