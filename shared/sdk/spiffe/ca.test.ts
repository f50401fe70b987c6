import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCa } from './ca';
import { uriSans } from './svid';

describe('LocalCa', () => {
  let ca: LocalCa;
  beforeAll(async () => {
    ca = await LocalCa.create();
  });

  test('the CA is a self-signed EC P-256 CA of nsm.local', () => {
    expect(ca.trustDomain).toBe('nsm.local');
    expect(ca.certificate.ca).toBe(true);
    expect(ca.certificate.verify(ca.certificate.publicKey)).toBe(true);
    expect(ca.certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(uriSans(ca.certificate)).toEqual(['spiffe://nsm.local']);
  });

  test('an SVID: one URI SAN, not a CA, EC P-256, signed by the CA, lifetime as asked (whole seconds)', async () => {
    const before = Date.now();
    const svid = await ca.issue('spiffe://nsm.local/ns/default/sa/nsc', { lifetimeMs: 5_000 });
    const leaf = svid.chain[0];
    expect(svid.id).toBe('spiffe://nsm.local/ns/default/sa/nsc');
    expect(svid.trustDomain).toBe('nsm.local');
    expect(uriSans(leaf)).toEqual([svid.id]);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca.certificate)).toBe(true);
    expect(leaf.verify(ca.certificate.publicKey)).toBe(true);
    expect(svid.key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(leaf.checkPrivateKey(svid.key)).toBe(true);
    expect(svid.notAfter).toBeLessThanOrEqual(before + 5_000 + 1_000);
    expect(svid.notAfter).toBeGreaterThan(before + 3_000);
  });

  test('openssl agrees: the chain verifies for both TLS client and server use', async () => {
    const svid = await ca.issue('spiffe://nsm.local/nsmgr');
    const dir = mkdtempSync(join(tmpdir(), 'ca-test-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), ca.certificate.toString());
      writeFileSync(join(dir, 'leaf.pem'), svid.chain[0].toString());
      for (const purpose of ['sslclient', 'sslserver']) {
        const out = execFileSync('openssl', ['verify', '-purpose', purpose, '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
        expect(out).toContain(': OK');
      }
      const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'leaf.pem')], { encoding: 'utf8' });
      expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toMatch(/X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/nsm.local\/nsmgr/);
      expect(text).toContain('ASN1 OID: prime256v1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses IDs outside its trust domain, the trust domain itself, and non-SPIFFE IDs', async () => {
    await expect(ca.issue('spiffe://other.org/x')).rejects.toThrow(/not in trust domain nsm.local/);
    await expect(ca.issue('spiffe://nsm.local')).rejects.toThrow(/trust domain itself/);
    await expect(ca.issue('https://nsm.local/x')).rejects.toThrow(/not a SPIFFE ID/);
    await expect(ca.issue('spiffe://nsm.local/a/../b')).rejects.toThrow(/not a SPIFFE ID/);
  });

  test('explicit validity makes an already expired SVID (for tests of refusal)', async () => {
    const now = Date.now();
    const svid = await ca.issue('spiffe://nsm.local/old', { notBefore: now - 60_000, notAfter: now - 30_000 });
    expect(svid.notAfter).toBeLessThan(now);
  });

  test('other trust domains get their own CA', async () => {
    const other = await LocalCa.create({ trustDomain: 'example.org' });
    const svid = await other.issue('spiffe://example.org/nse');
    expect(svid.chain[0].checkIssued(ca.certificate)).toBe(false);
    expect(svid.chain[0].verify(ca.certificate.publicKey)).toBe(false);
  });
});
