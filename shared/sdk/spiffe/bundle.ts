// SPIFFE trust bundles as federated trust domains exchange them: the SPIFFE bundle format (a JWK
// set whose X.509 authorities are keys with `use: "x509-svid"` and the CA certificate in `x5c`, plus
// `spiffe_sequence` and `spiffe_refresh_hint`), what a SPIRE server's bundle endpoint serves and what
// `spire-server bundle show/set -format spiffe` prints and reads. The bytes come from another trust
// domain, so parsing is strict and bounded; JWT authorities (`use: "jwt-svid"`) are skipped, NSM
// does not use JWT-SVIDs.
import { X509Certificate } from 'node:crypto';

/** Larger than any sane bundle; a federated peer's file or endpoint is hostile until checked. */
export const MAX_BUNDLE_BYTES = 1 << 20;
const MAX_KEYS = 64;

export interface SpiffeBundle {
  /** The X.509 authorities: CA certificates of the trust domain. */
  x509Authorities: X509Certificate[];
  sequence?: number;
  refreshHintSeconds?: number;
}

/** Renders a bundle in the SPIFFE bundle format (JSON text). */
export function formatSpiffeBundle(b: SpiffeBundle): string {
  const keys = b.x509Authorities.map((c) => ({
    use: 'x509-svid',
    ...(c.publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
    x5c: [c.raw.toString('base64')],
  }));
  return `${JSON.stringify(
    {
      keys,
      ...(b.sequence !== undefined ? { spiffe_sequence: b.sequence } : {}),
      ...(b.refreshHintSeconds !== undefined ? { spiffe_refresh_hint: b.refreshHintSeconds } : {}),
    },
    null,
    2,
  )}\n`;
}

/** Parses a SPIFFE-format bundle; throws naming what is wrong (`where` says whose it is). */
export function parseSpiffeBundle(text: string, where = 'bundle'): SpiffeBundle {
  if (text.length > MAX_BUNDLE_BYTES) throw new Error(`${where}: larger than ${MAX_BUNDLE_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: not JSON (${(err as Error).message})`);
  }
  const o = doc as { keys?: unknown; spiffe_sequence?: unknown; spiffe_refresh_hint?: unknown };
  if (typeof doc !== 'object' || doc === null || !Array.isArray(o.keys)) throw new Error(`${where}: a SPIFFE bundle is a JWK set ({"keys": [...]})`);
  if (o.keys.length > MAX_KEYS) throw new Error(`${where}: more than ${MAX_KEYS} keys`);
  const x509Authorities: X509Certificate[] = [];
  o.keys.forEach((k: unknown, i: number) => {
    const key = k as { use?: unknown; x5c?: unknown };
    if (typeof k !== 'object' || k === null) throw new Error(`${where}: keys[${i}] is not an object`);
    if (key.use !== 'x509-svid') return;
    if (!Array.isArray(key.x5c) || key.x5c.length !== 1 || typeof key.x5c[0] !== 'string') throw new Error(`${where}: keys[${i}] (x509-svid) must have exactly one x5c certificate`);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(key.x5c[0], 'base64'));
    } catch (err) {
      throw new Error(`${where}: keys[${i}].x5c[0] is not a certificate (${(err as Error).message})`);
    }
    if (!cert.ca) throw new Error(`${where}: keys[${i}] is not a CA certificate`);
    x509Authorities.push(cert);
  });
  if (x509Authorities.length === 0) throw new Error(`${where}: no X.509 authority (no key with use "x509-svid")`);
  const num = (v: unknown, name: string) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${where}: ${name} must be a non-negative integer`);
    return v;
  };
  return { x509Authorities, sequence: num(o.spiffe_sequence, 'spiffe_sequence'), refreshHintSeconds: num(o.spiffe_refresh_hint, 'spiffe_refresh_hint') };
}
