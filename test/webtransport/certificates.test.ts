// Certificates for the QUIC endpoint: generated ECDSA P-256 <= 14 days, hash of the DER, loading, rotation.
import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NetloomError } from '../../src/codec/errors.js';
import {
  CertificateManager,
  generateCertificate,
  loadCertificate,
  MAX_HASHED_CERT_VALIDITY_MS,
} from '../../src/server/transports/webtransport/certificates.js';
import { buildServerConfig } from '../../src/server/transports/webtransport/config.js';

describe('WebTransport certificates', () => {
  it('generates an ECDSA P-256 certificate valid for at most 14 days whose hash is the sha-256 of its DER', async () => {
    const cert = await generateCertificate();
    const parsed = new X509Certificate(cert.certPem);
    expect(parsed.publicKey.asymmetricKeyType).toBe('ec');
    expect(parsed.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const from = new Date(parsed.validFrom).getTime();
    const to = new Date(parsed.validTo).getTime();
    expect(to - from).toBeLessThanOrEqual(MAX_HASHED_CERT_VALIDITY_MS);
    expect(from).toBeLessThanOrEqual(Date.now());
    expect(to).toBeGreaterThan(Date.now());
    expect(Buffer.from(cert.certDer).equals(parsed.raw)).toBe(true);
    const hash = createHash('sha256').update(parsed.raw).digest();
    expect(Buffer.from(cert.sha256).equals(hash)).toBe(true);
    expect(cert.sha256Hex).toBe(hash.toString('hex'));
    expect(parsed.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(parsed.checkHost('localhost')).toBe('localhost');
    expect(
      parsed.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(cert.keyPem))),
    ).toBe(true);
    expect(cert.generated).toBe(true);
    // the TLS stack accepts it
    expect(() => buildServerConfig(cert)).not.toThrow();
  });

  it('refuses a validity over 14 days', async () => {
    const err = await generateCertificate({ validityMs: 15 * 24 * 3600 * 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetloomError);
    expect((err as NetloomError).code).toBe('certificate_invalid');
  });

  it('loads a provided certificate from PEM or DER and refuses garbage', async () => {
    const gen = await generateCertificate();
    const fromPem = loadCertificate(gen.certPem, gen.keyPem);
    expect(fromPem.sha256Hex).toBe(gen.sha256Hex);
    expect(fromPem.generated).toBe(false);
    const fromDer = loadCertificate(gen.certDer, gen.keyPem);
    expect(fromDer.sha256Hex).toBe(gen.sha256Hex);
    expect(fromDer.notAfter.getTime()).toBe(gen.notAfter.getTime());
    expect(() => loadCertificate('not a certificate', gen.keyPem)).toThrow(NetloomError);
    expect(() => loadCertificate(new Uint8Array([0x30, 0x82, 0xff]), gen.keyPem)).toThrow(NetloomError);
    expect(() => loadCertificate(gen.certPem, 'nope')).toThrow(NetloomError);
    const otherKey = (await generateCertificate()).keyPem;
    expect(() => loadCertificate(gen.certPem, otherKey)).toThrow(/does not match/);
  });

  it('rotates on demand: a new hash, listeners told, the previous one kept', async () => {
    const m = await CertificateManager.create();
    const first = m.current;
    const seen: string[] = [];
    m.subscribe((c) => seen.push(c.sha256Hex));
    const next = await m.rotate();
    expect(next.sha256Hex).not.toBe(first.sha256Hex);
    expect(m.current).toBe(next);
    expect(m.previous).toBe(first);
    expect(seen).toEqual([next.sha256Hex]);
    expect(Buffer.from(m.serverCertificateHashes()[0]!.value).toString('hex')).toBe(next.sha256Hex);
    expect(m.rotationDueAt).toBe(next.notAfter.getTime() - 2 * 24 * 3600 * 1000);
    m.close();
  });

  it('rotates automatically once the rotation is due', async () => {
    // due immediately: rotate when less than 14 days remain
    const m = await CertificateManager.create({ rotateBeforeExpiryMs: MAX_HASHED_CERT_VALIDITY_MS });
    const first = m.current.sha256Hex;
    const rotated = await new Promise<string>((resolve) => m.subscribe((c) => resolve(c.sha256Hex)));
    expect(rotated).not.toBe(first);
    m.close();
  });

  it('never rotates a provided certificate by itself', async () => {
    const gen = await generateCertificate();
    const provided = loadCertificate(gen.certPem, gen.keyPem);
    const m = await CertificateManager.create({ provided });
    expect(m.current).toBe(provided);
    expect(m.rotationDueAt).toBeNull();
    m.close();
  });
});
