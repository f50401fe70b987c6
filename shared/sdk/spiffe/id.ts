// SPIFFE IDs (spiffe://<trust-domain>/<path>) are the identity of every component: the URI SAN of
// its X.509-SVID, the sub/aud of its tokens. They arrive from peers, so they are parsed strictly by
// the SPIFFE ID rules: lowercase scheme and trust domain, no port, user info, query or fragment, path
// segments of [A-Za-z0-9._-] that are not empty, "." or "..", at most 2048 bytes.
import { invalidArgument } from '../core/errors';

export const SPIFFE_SCHEME = 'spiffe://';
const MAX_ID_LENGTH = 2048;
const TRUST_DOMAIN_RE = /^[a-z0-9._-]+$/;
const SEGMENT_RE = /^[A-Za-z0-9._-]+$/;

export interface SpiffeId {
  trustDomain: string;
  /** "" for the trust domain's own ID, otherwise starting with "/". */
  path: string;
}

/** Why `id` is not a SPIFFE ID, or undefined when it is one. */
export function spiffeIdError(id: string): string | undefined {
  if (typeof id !== 'string' || id.length === 0) return 'empty';
  if (Buffer.byteLength(id) > MAX_ID_LENGTH) return `longer than ${MAX_ID_LENGTH} bytes`;
  if (!id.startsWith(SPIFFE_SCHEME)) return 'scheme is not spiffe://';
  const rest = id.slice(SPIFFE_SCHEME.length);
  const slash = rest.indexOf('/');
  const td = slash < 0 ? rest : rest.slice(0, slash);
  if (!td) return 'trust domain is empty';
  if (!TRUST_DOMAIN_RE.test(td)) return `trust domain "${td}" has characters outside [a-z0-9._-]`;
  if (slash < 0) return undefined;
  const segments = rest.slice(slash + 1).split('/');
  for (const s of segments) {
    if (s === '') return 'path has an empty segment or a trailing slash';
    if (s === '.' || s === '..') return 'path has a "." or ".." segment';
    if (!SEGMENT_RE.test(s)) return `path segment "${s}" has characters outside [A-Za-z0-9._-]`;
  }
  return undefined;
}

export function isSpiffeId(id: string): boolean {
  return spiffeIdError(id) === undefined;
}

/** Parses a SPIFFE ID; INVALID_ARGUMENT naming what is wrong otherwise. */
export function parseSpiffeId(id: string): SpiffeId {
  const err = spiffeIdError(id);
  if (err) throw invalidArgument(`"${String(id).slice(0, 100)}" is not a SPIFFE ID: ${err}`);
  const rest = id.slice(SPIFFE_SCHEME.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? { trustDomain: rest, path: '' } : { trustDomain: rest.slice(0, slash), path: rest.slice(slash) };
}

export function trustDomainOf(id: string): string {
  return parseSpiffeId(id).trustDomain;
}

/** Checks a trust domain name (as in bundles and configuration). */
export function checkTrustDomain(td: string): string {
  if (!td || !TRUST_DOMAIN_RE.test(td) || td.length > 255) throw invalidArgument(`"${String(td).slice(0, 100)}" is not a trust domain name ([a-z0-9._-]+)`);
  return td;
}

/** spiffe://<td><path>; `path` is absolute ("/ns/x") and is checked. */
export function makeSpiffeId(trustDomain: string, path: string): string {
  const id = `${SPIFFE_SCHEME}${trustDomain}${path.startsWith('/') || path === '' ? path : `/${path}`}`;
  parseSpiffeId(id);
  return id;
}
