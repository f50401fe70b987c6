// Path tokens as upstream NSM makes them (security.md §3): compact JWS with ES256 (ECDSA P-256,
// SHA-256, signature as raw r||s), signed with the SVID key. Written on node:crypto rather than a
// JWT library: the token generator contract is synchronous (jose signs asynchronously only), and
// a verifier that accepts exactly one algorithm is a few lines that leave no alg-confusion surface.
import { KeyObject, sign, verify, X509Certificate } from 'node:crypto';

/** Tokens are bounded: they come from callers and are stored in every path segment. */
export const MAX_TOKEN_LENGTH = 4096;
const HEADER = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT' })).toString('base64url');
const B64URL = /^[A-Za-z0-9_-]*$/;

export interface JwtClaims {
  sub?: string;
  /** A JWT may carry one audience as a string; NSM writes an array. */
  aud?: string[] | string;
  exp?: number;
  [claim: string]: unknown;
}

export interface ParsedJwt {
  header: Record<string, unknown>;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

const isP256 = (k: KeyObject) => k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1';

/** Signs `claims` with an EC P-256 private key. */
export function signEs256(claims: JwtClaims, key: KeyObject): string {
  if (key.type !== 'private' || !isP256(key)) throw new Error('ES256 needs an EC P-256 private key');
  const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

/** Splits and decodes a compact JWS without checking the signature; undefined when it is not one. */
export function parseJwt(token: string): ParsedJwt | undefined {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || !parts[0] || !parts[1]) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (!isObject(header) || !isObject(claims)) return undefined;
    if (claims.exp !== undefined && typeof claims.exp !== 'number') return undefined;
    if (claims.sub !== undefined && typeof claims.sub !== 'string') return undefined;
    if (claims.aud !== undefined && typeof claims.aud !== 'string' && !(Array.isArray(claims.aud) && claims.aud.every((a) => typeof a === 'string'))) return undefined;
    return { header, claims: claims as JwtClaims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether `token` is an ES256 JWS that verifies with `key` (a certificate's or a public key).
 * Anything else is false: alg "none", HS256 or any other alg, a signature of the wrong size, a key
 * that is not P-256.
 */
export function verifyEs256(token: string | ParsedJwt, key: KeyObject | X509Certificate): boolean {
  const jwt = typeof token === 'string' ? parseJwt(token) : token;
  if (!jwt || jwt.header.alg !== 'ES256') return false;
  if (jwt.header.typ !== undefined && jwt.header.typ !== 'JWT') return false;
  if (jwt.signature.length !== 64) return false;
  // The same token is checked against the same certificate again and again (by each policy that
  // looks at a segment, on the Request, its refreshes and its Close): the answer is remembered.
  const known = verified.get(key);
  const id = `${jwt.signingInput}.${jwt.signature.toString('base64url')}`;
  const was = known?.get(id);
  if (was !== undefined) return was;
  const pub = key instanceof X509Certificate ? publicKeyOf(key) : key;
  let ok = false;
  if (isP256(pub)) {
    try {
      ok = verify('sha256', Buffer.from(jwt.signingInput), { key: pub, dsaEncoding: 'ieee-p1363' }, jwt.signature);
    } catch {
      ok = false;
    }
  }
  remember(verified, key, id, ok);
  return ok;
}

/** Verdicts by key, then by token: a bounded memory per key (a key goes with its certificate). */
const verified = new WeakMap<object, Map<string, boolean>>();
const MEMO_PER_KEY = 256;

/** Puts `value` under `id` in `key`'s map, dropping the oldest entry when full. */
export function remember<V>(memo: WeakMap<object, Map<string, V>>, key: object, id: string, value: V): void {
  let m = memo.get(key);
  if (!m) memo.set(key, (m = new Map()));
  if (m.size >= MEMO_PER_KEY) m.delete(m.keys().next().value!);
  m.set(id, value);
}

/** A certificate's public key: X509Certificate#publicKey makes a new KeyObject on every read. */
const publicKeys = new WeakMap<X509Certificate, KeyObject>();
function publicKeyOf(cert: X509Certificate): KeyObject {
  let k = publicKeys.get(cert);
  if (!k) publicKeys.set(cert, (k = cert.publicKey));
  return k;
}

/** The audiences of a token as a list. */
export const audiences = (c: JwtClaims): string[] => (c.aud === undefined ? [] : Array.isArray(c.aud) ? c.aud : [c.aud]);
