// TLS certificates for the QUIC endpoint: load a provided one, or generate short-lived ECDSA P-256 ones and rotate them.
import 'reflect-metadata';
import { createHash, createPrivateKey, X509Certificate as NodeX509, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { NetloomError } from '../../../codec/errors.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const DAY_MS = 24 * 60 * 60 * 1000;
/** Chromium refuses `serverCertificateHashes` certificates whose validity period exceeds 14 days. */
export const MAX_HASHED_CERT_VALIDITY_MS = 14 * DAY_MS;

/** A certificate and its private key, ready for the TLS stack, plus what browsers need to pin it. */
export interface CertificateMaterial {
  /** PEM certificate chain (leaf first). */
  readonly certPem: string;
  /** PEM private key (PKCS#8 or the key's traditional form). */
  readonly keyPem: string;
  /** DER bytes of the leaf certificate. */
  readonly certDer: Uint8Array;
  /** sha-256 of the leaf's DER bytes: the value for the browser's `serverCertificateHashes`. */
  readonly sha256: Uint8Array;
  /** `sha256` as lowercase hex. */
  readonly sha256Hex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** True when this library generated it (and may rotate it). */
  readonly generated: boolean;
}

/** The browser's `WebTransportHash` shape. */
export interface ServerCertificateHash {
  algorithm: 'sha-256';
  value: Uint8Array;
}

export interface GenerateCertificateOptions {
  /** Total validity (notAfter - notBefore), at most 14 days. Default 13 days. */
  validityMs?: number;
  /** How far notBefore is set in the past, to tolerate clock skew (counted within validityMs). Default 1 hour. */
  backdateMs?: number;
  /** Subject common name. Default 'localhost'. */
  commonName?: string;
  /** DNS names for the subjectAltName. Default ['localhost']. */
  dnsNames?: string[];
  /** IP addresses for the subjectAltName. Default ['127.0.0.1', '::1']. */
  ipAddresses?: string[];
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function sha256(der: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(der).digest());
}

/** Generates an ECDSA P-256 self-signed certificate valid for at most 14 days (Chromium's limit for hashes). */
export async function generateCertificate(
  options: GenerateCertificateOptions = {},
): Promise<CertificateMaterial> {
  const validityMs = options.validityMs ?? 13 * DAY_MS;
  const backdateMs = options.backdateMs ?? 60 * 60 * 1000;
  if (!(validityMs > backdateMs) || validityMs > MAX_HASHED_CERT_VALIDITY_MS || backdateMs < 0) {
    throw new NetloomError(
      'certificate_invalid',
      `validityMs must be > backdateMs and <= 14 days (got ${validityMs} ms, backdate ${backdateMs} ms)`,
    );
  }
  const now = (options.now ?? Date.now)();
  // X.509 times have one-second resolution: round so the encoded period never exceeds validityMs.
  const notBefore = new Date(Math.ceil((now - backdateMs) / 1000) * 1000);
  const notAfter = new Date(Math.floor((notBefore.getTime() + validityMs) / 1000) * 1000);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const names: { type: 'dns' | 'ip'; value: string }[] = [];
  for (const d of options.dnsNames ?? ['localhost']) names.push({ type: 'dns', value: d });
  for (const ip of options.ipAddresses ?? ['127.0.0.1', '::1']) names.push({ type: 'ip', value: ip });
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and non-zero
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: `CN=${options.commonName ?? 'localhost'}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  const certDer = new Uint8Array(cert.rawData);
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const hash = sha256(certDer);
  return {
    certPem: toPem('CERTIFICATE', certDer),
    keyPem: toPem('PRIVATE KEY', pkcs8),
    certDer,
    sha256: hash,
    sha256Hex: Buffer.from(hash).toString('hex'),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    generated: true,
  };
}

/** Wraps a provided certificate (PEM text, or DER bytes for the leaf) and private key (PEM, or PKCS#8 DER). */
export function loadCertificate(cert: string | Uint8Array, key: string | Uint8Array): CertificateMaterial {
  let certPem: string;
  let certDer: Uint8Array;
  let parsed: NodeX509;
  try {
    if (typeof cert === 'string') {
      certPem = cert;
      parsed = new NodeX509(cert);
      certDer = new Uint8Array(parsed.raw);
    } else {
      certDer = new Uint8Array(cert);
      parsed = new NodeX509(Buffer.from(certDer));
      certPem = toPem('CERTIFICATE', certDer);
    }
  } catch (err) {
    throw new NetloomError('certificate_invalid', 'the certificate does not parse as X.509', { cause: err });
  }
  const keyPem = typeof key === 'string' ? key : toPem('PRIVATE KEY', key);
  let matches = false;
  try {
    matches = parsed.checkPrivateKey(createPrivateKey(keyPem));
  } catch (err) {
    throw new NetloomError('certificate_invalid', 'the private key is not PEM or PKCS#8 DER', { cause: err });
  }
  if (!matches)
    throw new NetloomError('certificate_invalid', 'the private key does not match the certificate');
  const hash = sha256(certDer);
  return {
    certPem,
    keyPem,
    certDer,
    sha256: hash,
    sha256Hex: Buffer.from(hash).toString('hex'),
    notBefore: new Date(parsed.validFrom),
    notAfter: new Date(parsed.validTo),
    generated: false,
  };
}

export interface CertificateManagerOptions extends GenerateCertificateOptions {
  /** A certificate to use instead of generating one (never rotated automatically). */
  provided?: CertificateMaterial;
  /** Generated certificates are replaced this long before they expire. Default 2 days. */
  rotateBeforeExpiryMs?: number;
  /** Arm a timer that rotates generated certificates automatically. Default true. */
  autoRotate?: boolean;
}

/** Holds the current certificate; generated ones rotate before expiry; listeners learn of each new one. */
export class CertificateManager {
  #current: CertificateMaterial;
  #previous: CertificateMaterial | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #listeners = new Set<(cert: CertificateMaterial) => void>();
  readonly #options: CertificateManagerOptions;

  private constructor(current: CertificateMaterial, options: CertificateManagerOptions) {
    this.#current = current;
    this.#options = options;
  }

  /** Uses `options.provided`, or generates a fresh certificate, and arms the rotation timer. */
  static async create(options: CertificateManagerOptions = {}): Promise<CertificateManager> {
    const cert = options.provided ?? (await generateCertificate(options));
    const manager = new CertificateManager(cert, options);
    manager.#arm();
    return manager;
  }

  /** The certificate new connections get. */
  get current(): CertificateMaterial {
    return this.#current;
  }

  /** The certificate in use before the last rotation (existing connections may still use it), or null. */
  get previous(): CertificateMaterial | null {
    return this.#previous;
  }

  /** What a browser passes as `serverCertificateHashes` to reach this server now. */
  serverCertificateHashes(): ServerCertificateHash[] {
    return [{ algorithm: 'sha-256', value: this.#current.sha256.slice() }];
  }

  /** Calls `listener` with each new certificate; returns an unsubscribe function. */
  subscribe(listener: (cert: CertificateMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Replaces the certificate: with `next`, or a freshly generated one. New connections get it. */
  async rotate(next?: CertificateMaterial): Promise<CertificateMaterial> {
    const cert = next ?? (await generateCertificate(this.#options));
    if (this.#closed) return cert;
    this.#previous = this.#current;
    this.#current = cert;
    this.#arm();
    for (const listener of this.#listeners) {
      try {
        listener(cert);
      } catch {
        // a listener's bug must not stop the others or the rotation
      }
    }
    return cert;
  }

  /** When the automatic rotation is due (ms since epoch), or null when none is armed. */
  get rotationDueAt(): number | null {
    if (!this.#current.generated || this.#options.autoRotate === false) return null;
    return this.#current.notAfter.getTime() - (this.#options.rotateBeforeExpiryMs ?? 2 * DAY_MS);
  }

  /** Stops the rotation timer. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#listeners.clear();
  }

  #arm(retryMs = 0): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const due = this.rotationDueAt;
    if (due === null || this.#closed) return;
    const now = (this.#options.now ?? Date.now)();
    // setTimeout caps at 2^31-1 ms; re-arm in steps for longer waits.
    const delay = Math.min(Math.max(retryMs, due - now), 0x7fffffff);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const t = (this.#options.now ?? Date.now)();
      if (t < due) this.#arm();
      else void this.rotate().catch(() => this.#arm(60_000));
    }, delay);
    this.#timer.unref();
  }
}
