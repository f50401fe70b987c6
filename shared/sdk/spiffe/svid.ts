// An X.509-SVID and the trust bundles that go with it, as every identity source (the Workload API
// client, the embedded provider, tests) hands them to TLS and token code. Parsing checks the SVID
// rules, since the bytes come over a socket: exactly one URI SAN that is a SPIFFE ID, a leaf that is
// not a CA, an EC P-256 key that matches the leaf, a trust domain with a bundle.
import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import type { X509SVIDResponse } from '@nsm/api/spiffe';
import { parseCertificates } from './der';
import { checkTrustDomain, parseSpiffeId, spiffeIdError } from './id';
import { x509 } from './x509';

export interface X509Svid {
  /** spiffe://<trust domain>/<path> */
  id: string;
  trustDomain: string;
  /** Leaf first, then any intermediates. */
  chain: X509Certificate[];
  key: KeyObject;
  /** The leaf's NotAfter, epoch ms. */
  notAfter: number;
  hint: string;
}

/** Trust domain name → its CA certificates (own trust domain and federated ones). */
export type X509Bundles = ReadonlyMap<string, readonly X509Certificate[]>;

export interface X509Context {
  /** The default SVID: the first the source lists. */
  svid: X509Svid;
  svids: X509Svid[];
  bundles: X509Bundles;
}

/** The URI SANs of a certificate, in order. */
export function uriSans(cert: X509Certificate): string[] {
  const ext = new x509.X509Certificate(cert.raw).getExtension(x509.SubjectAlternativeNameExtension);
  return ext ? ext.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
}

/** The SPIFFE ID of an X.509-SVID: its single URI SAN; throws with the reason when it has none or several. */
export function spiffeIdOf(cert: X509Certificate): string {
  const uris = uriSans(cert);
  if (uris.length !== 1) throw new Error(`an X.509-SVID has exactly one URI SAN; this certificate has ${uris.length}`);
  const err = spiffeIdError(uris[0]);
  if (err) throw new Error(`URI SAN "${uris[0].slice(0, 100)}" is not a SPIFFE ID: ${err}`);
  return uris[0];
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/** Builds and checks an SVID from DER chain (leaf first) and PKCS#8 DER key. */
export function makeSvid(chainDer: Uint8Array, keyDer: Uint8Array, hint = ''): X509Svid {
  const chain = parseCertificates(chainDer);
  if (chain.length === 0) throw new Error('the SVID has no certificate');
  const leaf = chain[0];
  if (leaf.ca) throw new Error('the SVID leaf is a CA certificate');
  const id = spiffeIdOf(leaf);
  const key = createPrivateKey({ key: Buffer.from(keyDer), format: 'der', type: 'pkcs8' });
  if (!isP256(key)) throw new Error('the SVID key is not EC P-256');
  if (!leaf.checkPrivateKey(key)) throw new Error('the SVID key does not match its certificate');
  return { id, trustDomain: parseSpiffeId(id).trustDomain, chain, key, notAfter: Date.parse(leaf.validTo), hint };
}

/** Converts a Workload API response into a context; throws with the reason when it is unusable. */
export function contextFromResponse(resp: X509SVIDResponse): X509Context {
  if (resp.svids.length === 0) throw new Error('the response has no SVID');
  const bundles = new Map<string, X509Certificate[]>();
  const svids = resp.svids.map((s, i) => {
    const svid = makeSvid(s.x509Svid, s.x509SvidKey, s.hint);
    if (s.spiffeId !== svid.id) throw new Error(`svids[${i}]: spiffe_id ${s.spiffeId} differs from the certificate's ${svid.id}`);
    const bundle = parseCertificates(s.bundle);
    if (bundle.length === 0) throw new Error(`svids[${i}]: the bundle of ${svid.trustDomain} is empty`);
    if (!bundles.has(svid.trustDomain)) bundles.set(svid.trustDomain, bundle);
    return svid;
  });
  for (const [td, der] of Object.entries(resp.federatedBundles)) {
    checkTrustDomain(td);
    if (bundles.has(td)) continue; // the own trust domain's bundle comes with the SVID
    const certs = parseCertificates(der);
    if (certs.length) bundles.set(td, certs);
  }
  return { svid: svids[0], svids, bundles };
}

