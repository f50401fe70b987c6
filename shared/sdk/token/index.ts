// Tokens: every hop signs what it sends to the next one, and each token carries its expiry, which is
// what server-side timeouts and client refresh are computed from. The commands sign ES256 tokens with
// their SVID (token/spiffe.ts); the unsigned generator here (alg "none") is what tests of token
// handling use, and what the policies must refuse.
import type { X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock';
import { realClock } from '../core/clock';

/** What the transport knows about the other end of a call; in-process calls have none of it. */
export interface PeerInfo {
  /** Identity of the peer (SPIFFE ID, its certificate's URI SAN). */
  id?: string;
  /** The peer's TLS certificate: its tokens verify with it, and it caps the expiry of ours. */
  certificate?: X509Certificate;
  /**
   * Our own certificate as the peer saw it in the TLS handshake of this connection. A connection
   * outlives an SVID rotation, and the peer verifies what we sign against this certificate, so
   * tokens are signed with the key that belongs to it for as long as it is valid.
   */
  localCertificate?: X509Certificate;
  /** Server side: the trust domains (own and federated) trusted when the call came in. */
  trustDomains?: readonly string[];
}

export interface GeneratedToken {
  token: string;
  /** Epoch milliseconds. */
  expires: number;
}

export type TokenGenerator = ((peer?: PeerInfo) => GeneratedToken) & {
  /**
   * Signs again a token this generator issued, with the key of `localCertificate` (our certificate as
   * a peer saw it), keeping its claims; the token unchanged when it already verifies with it, is not
   * ours, or that key is gone. A hop's own segment travels back to its caller on another connection
   * than the one it was issued on (the next hop's), which may show another of our certificates after
   * a rotation; the caller checks it against the one it saw (next_token_signed).
   */
  resign?: (token: string, localCertificate: X509Certificate) => string;
};

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export function jwtTokenGenerator(opts: { subject: string; lifetimeMs: number; clock?: Clock }): TokenGenerator {
  const clock = opts.clock ?? realClock;
  return (peer) => {
    const expires = clock.now() + opts.lifetimeMs;
    const claims: Record<string, unknown> = { sub: opts.subject, exp: Math.floor(expires / 1000) };
    if (peer?.id) claims.aud = [peer.id];
    return { token: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`, expires };
  };
}

export interface TokenClaims {
  sub?: string;
  aud?: string[];
  exp?: number;
}

/** Decodes a JWT's claims without verifying it; undefined when it is not a JWT. */
export function decodeToken(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    return undefined;
  }
}

/** RFC 3339 with nanoseconds, as Go's RFC3339Nano writes it. */
export function formatExpires(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function parseExpires(s: string): number | undefined {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s.trim());
  if (!m) return undefined;
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  const base = Date.parse(`${m[1]}${m[3]}`);
  return Number.isNaN(base) ? undefined : base + Math.floor(frac);
}
