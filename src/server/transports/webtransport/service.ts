// The WebTransport service of a netloom server: QUIC endpoint → HTTP/3 → sessions whose link attaches to a netloom session.
import { NetloomError } from '../../../codec/errors.js';
import type { Link } from '../../../link/link.js';
import type { Logger, Metrics } from '../../metrics.js';
import type { CertificateMaterial } from './certificates.js';
import { CertificateManager } from './certificates.js';
import { QuicEndpoint, type QuicEndpointOptions } from './endpoint.js';
import { H3Connection } from './h3-connection.js';
import { acceptWebTransportLink, type WebTransportLinkOptions } from './link.js';

/** `webtransport` in the server options. */
export interface WebTransportServerOptions {
  /** Offer WebTransport (default false until you open a UDP port for it; see the README). */
  enabled?: boolean;
  /** UDP address to bind (default '127.0.0.1'; '0.0.0.0' or '::' to serve other machines). */
  host?: string;
  /** UDP port (default 0: any free port, published in join tickets). */
  port?: number;
  /** A full URL to publish instead of "same host, this port" (e.g. behind a UDP load balancer). */
  publicUrl?: string;
  /** `loadCertificate(cert, key)` (PEM or DER); default: a generated ECDSA P-256 certificate, rotated before expiry. */
  certificate?: CertificateMaterial;
  /** Origins allowed to open sessions (exact match); default any. */
  allowedOrigins?: string[];
  /** QUIC and endpoint tuning (limits on connections and handshakes, flow-control windows). */
  quic?: Omit<QuicEndpointOptions, 'host' | 'port' | 'certificate' | 'onconnection' | 'onerror'>;
  /** The netloom link on each session (datagram and frame limits, reliable-stream timeout). */
  link?: WebTransportLinkOptions;
  /** A link that never sends SWITCH within this time is closed (default 5,000 ms). */
  switchTimeoutMs?: number;
}

/** What a join ticket says about WebTransport. */
export interface WebTransportTicket {
  port: number;
  path: string;
  url?: string;
  /** SHA-256 (hex) of the certificates a browser should accept (current, and the previous one during a rotation). */
  certificateHashes: string[];
}

export interface WebTransportServiceDeps {
  path: string;
  metrics: Metrics;
  log: Logger;
  /** Attaches a link to the live session holding `token`; false when refused. */
  attach(token: string, link: Link, switchTimeoutMs: number): boolean;
}

/** A running WebTransport service. */
export class WebTransportService {
  private readonly connections = new Set<H3Connection>();
  /** Links attached to sessions and still open. */
  private readonly links = new Set<Link>();
  /** Frames carried by links that have closed, per channel (so counters never go backwards). */
  private readonly retired = { in: { reliable: 0, unreliable: 0 }, out: { reliable: 0, unreliable: 0 } };

  private constructor(
    readonly endpoint: QuicEndpoint,
    readonly certificates: CertificateManager,
    private readonly options: WebTransportServerOptions,
    private readonly deps: WebTransportServiceDeps,
  ) {}

  static async start(
    options: WebTransportServerOptions,
    deps: WebTransportServiceDeps,
  ): Promise<WebTransportService> {
    const certificates = await CertificateManager.create(
      options.certificate ? { provided: options.certificate } : {},
    );
    let service: WebTransportService | null = null;
    const endpoint = await QuicEndpoint.listen({
      ...options.quic,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      certificate: certificates,
      onconnection: (quic) => service?.accept(quic as ConstructorParameters<typeof H3Connection>[0]),
      onerror: (err) => deps.metrics.error(err.code),
    });
    service = new WebTransportService(endpoint, certificates, options, deps);
    return service;
  }

  /** The ticket entry clients use to connect. */
  ticket(): WebTransportTicket {
    const hashes = [this.certificates.current, this.certificates.previous]
      .filter((c): c is CertificateMaterial => c !== null)
      .map((c) => c.sha256Hex)
      .filter((h): h is string => typeof h === 'string');
    return {
      port: this.endpoint.address.port,
      path: this.deps.path,
      ...(this.options.publicUrl ? { url: this.options.publicUrl } : {}),
      certificateHashes: hashes,
    };
  }

  /** Frames carried over WebTransport, per direction and channel (open and closed links). */
  stats(): {
    framesIn: { reliable: number; unreliable: number };
    framesOut: { reliable: number; unreliable: number };
  } {
    const framesIn = { ...this.retired.in };
    const framesOut = { ...this.retired.out };
    for (const link of this.links) {
      const s = link.stats();
      framesIn.reliable += s.framesIn.reliable;
      framesIn.unreliable += s.framesIn.unreliable;
      framesOut.reliable += s.framesOut.reliable;
      framesOut.unreliable += s.framesOut.unreliable;
    }
    return { framesIn, framesOut };
  }

  async close(): Promise<void> {
    for (const h3 of this.connections) h3.quic.close(0, 'server shutting down');
    this.connections.clear();
    await this.endpoint.close();
    this.certificates.close();
  }

  private accept(quic: ConstructorParameters<typeof H3Connection>[0]): void {
    const { path, metrics, log } = this.deps;
    const h3 = new H3Connection(quic, {
      path: (requested) => requested.split('?')[0] === path,
      ...(this.options.allowedOrigins ? { allowedOrigins: this.options.allowedOrigins } : {}),
    });
    this.connections.add(h3);
    h3.onclose = () => this.connections.delete(h3);
    h3.onsession = (session) => {
      const token =
        new URL(session.request.path, 'https://netloom.invalid').searchParams.get('session') ?? '';
      acceptWebTransportLink(session, this.options.link).then(
        (link) => {
          if (!this.deps.attach(token, link, this.options.switchTimeoutMs ?? 5_000)) {
            metrics.error('session_unknown');
            link.close('session_unknown', 'no live session for this token');
            return;
          }
          this.links.add(link);
          const previous = link.onclose;
          link.onclose = (info) => {
            this.links.delete(link);
            const s = link.stats();
            this.retired.in.reliable += s.framesIn.reliable;
            this.retired.in.unreliable += s.framesIn.unreliable;
            this.retired.out.reliable += s.framesOut.reliable;
            this.retired.out.unreliable += s.framesOut.unreliable;
            previous?.(info);
          };
        },
        (err: unknown) => {
          const code = err instanceof NetloomError ? err.code : 'link_error';
          metrics.error(code);
          log.debug({ code }, 'WebTransport session ended before its link opened');
        },
      );
    };
  }
}
