// The embedded identity provider's certificate authority: one self-signed EC P-256 CA per trust
// domain that issues X.509-SVIDs as SPIRE's server would: exactly one URI SAN, not a CA, EC P-256,
// usable for TLS server and client auth, with a lifetime down to seconds. Node's crypto can verify
// but not issue certificates, so issuing goes through @peculiar/x509 (WebCrypto underneath).
import { generateKeyPairSync, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { checkTrustDomain, makeSpiffeId, parseSpiffeId } from './id';
import { makeSvid, X509Svid } from './svid';
import { subtle, x509 } from './x509';

export const DEFAULT_TRUST_DOMAIN = 'nsm.local';
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Certificates start a little in the past so that peers with a slightly slow clock accept them. */
const BACKDATE_MS = 10_000;

export interface LocalCaOptions {
  /** Default nsm.local. */
  trustDomain?: string;
  /** Validity of the CA certificate; default one year. */
  lifetimeMs?: number;
  now?: () => number;
}

export interface IssueOptions {
  /** Default one hour (SPIRE's default SVID lifetime). */
  lifetimeMs?: number;
  /** Explicit validity, e.g. an already expired SVID for tests. */
  notBefore?: number;
  notAfter?: number;
}

function ecKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

const serial = () => {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  b[0] |= 0x01; // and never a leading zero byte
  return b.toString('hex');
};

export class LocalCa {
  private constructor(
    readonly trustDomain: string,
    readonly certificate: X509Certificate,
    private readonly signingKey: webcrypto.CryptoKey,
    private readonly issuerName: x509.Name,
    private readonly now: () => number,
  ) {}

  static async create(opts: LocalCaOptions = {}): Promise<LocalCa> {
    const td = checkTrustDomain(opts.trustDomain ?? DEFAULT_TRUST_DOMAIN);
    const now = opts.now ?? Date.now;
    const { privateKey, publicKey } = ecKeyPair();
    const keys = {
      privateKey: await subtle.importKey('pkcs8', privateKey.export({ format: 'der', type: 'pkcs8' }), EC, false, ['sign']),
      publicKey: await subtle.importKey('spki', publicKey.export({ format: 'der', type: 'spki' }), EC, true, ['verify']),
    };
    const start = now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `O=NSM-TS, CN=${td} CA`,
      notBefore: new Date(start - BACKDATE_MS),
      notAfter: new Date(start + (opts.lifetimeMs ?? 365 * 86_400_000)),
      signingAlgorithm: SIGNING,
      keys: keys as webcrypto.CryptoKeyPair,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: makeSpiffeId(td, '') }]),
      ],
    });
    return new LocalCa(td, new X509Certificate(Buffer.from(cert.rawData)), keys.privateKey, cert.subjectName, now);
  }

  /** The trust bundle: this CA's certificate. */
  bundle(): X509Certificate[] {
    return [this.certificate];
  }

  /** Issues an X.509-SVID for `spiffeId`, which must be in this CA's trust domain. */
  async issue(spiffeId: string, opts: IssueOptions = {}): Promise<X509Svid> {
    const { trustDomain, path } = parseSpiffeId(spiffeId);
    if (trustDomain !== this.trustDomain) throw new Error(`${spiffeId} is not in trust domain ${this.trustDomain}`);
    if (!path) throw new Error(`${spiffeId} names the trust domain itself, not a workload`);
    const start = this.now();
    const notBefore = opts.notBefore ?? start - BACKDATE_MS;
    const notAfter = opts.notAfter ?? start + (opts.lifetimeMs ?? 3_600_000);
    if (notAfter <= notBefore) throw new Error('the SVID would end before it starts');
    const { privateKey, publicKey } = ecKeyPair();
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: 'O=NSM-TS',
      issuer: this.issuerName,
      notBefore: new Date(notBefore),
      // X.509 times have whole seconds; round down so that the SVID never outlives what was asked.
      notAfter: new Date(Math.floor(notAfter / 1000) * 1000),
      signingAlgorithm: SIGNING,
      publicKey: spki,
      signingKey: this.signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        await x509.SubjectKeyIdentifierExtension.create(spki),
        await x509.AuthorityKeyIdentifierExtension.create(this.certificate.publicKey.export({ format: 'der', type: 'spki' })),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
      ],
    });
    return makeSvid(Buffer.from(cert.rawData), privateKey.export({ format: 'der', type: 'pkcs8' }));
  }
}
