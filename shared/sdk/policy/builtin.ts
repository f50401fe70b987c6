// Upstream NSM's default policies with their semantics (security.md §4, sdk.md §3.5). Every one is
// written as "true = allowed"; tokens_expired keeps upstream's name and passes when none expired.
import { isSpiffeId, parseSpiffeId } from '../spiffe/id';
import { audiences, verifyEs256 } from '../token/jwt';
import { Policy, policy, PolicyInput, segmentName } from './index';

/** Every segment's token decodes as a JWT (true for an empty path). */
export const tokensValid: Policy = policy(
  'tokens_valid',
  (i) => i.tokens.every((t) => t !== undefined),
  (i) => `${segmentName(i, i.tokens.findIndex((t) => t === undefined))} has no JWT`,
);

const signedByPeer = (i: PolicyInput, at: number) => {
  const t = i.tokens[at];
  return at >= 0 && at < i.segments.length && t !== undefined && i.peer !== undefined && verifyEs256(t, i.peer.certificate);
};

/** Server side: the caller's token (segment index-1) is signed by the TLS peer. */
const notSignedBy = (i: PolicyInput, at: number) =>
  !i.peer ? 'no TLS peer' : at < 0 ? 'no segment before this hop' : `${segmentName(i, at)} is not signed by the TLS peer ${i.peer.id}`;

export const prevTokenSigned: Policy = policy('prev_token_signed', (i) => i.index >= 1 && signedByPeer(i, i.index - 1), (i) => notSignedBy(i, i.index - 1));

/** Client side: the server's token (segment index+1) in the reply is signed by the TLS peer. */
export const nextTokenSigned: Policy = policy('next_token_signed', (i) => signedByPeer(i, i.index + 1), (i) => notSignedBy(i, i.index + 1));

/** No token is past its exp (upstream: "tokens_expired must be false"). */
const expiredAt = (i: PolicyInput) => i.tokens.findIndex((t) => t?.claims.exp !== undefined && i.now / 1000 > t.claims.exp);
export const tokensExpired: Policy = policy(
  'tokens_expired',
  (i) => expiredAt(i) < 0,
  (i) => {
    const k = expiredAt(i);
    return `the token of ${segmentName(i, k)} from ${i.tokens[k]?.claims.sub ?? '?'} expired at ${new Date(i.tokens[k]!.claims.exp! * 1000).toISOString()}`;
  },
);

/** Each token's aud names the sub of the next segment's token (true for fewer than two segments). */
const unchainedAt = (i: PolicyInput) => {
  for (let k = 0; k + 1 < i.tokens.length; k++) {
    const a = i.tokens[k];
    const b = i.tokens[k + 1];
    if (!a || !b || !b.claims.sub || !audiences(a.claims).includes(b.claims.sub)) return k;
  }
  return -1;
};
export const tokensChained: Policy = policy(
  'tokens_chained',
  (i) => unchainedAt(i) < 0,
  (i) => {
    const k = unchainedAt(i);
    return `the token of ${segmentName(i, k)} is for ${audiences(i.tokens[k]?.claims ?? {}).join(', ') || 'nobody'}, not for ${i.tokens[k + 1]?.claims.sub ?? '?'} of ${segmentName(i, k + 1)}`;
  },
);

/**
 * Interdomain (not an upstream policy): every token on the left side is from a trust domain this hop
 * trusts, its own or a federated one. mTLS only vouches for the previous hop; a federated peer could
 * otherwise pass on a path that began in a trust domain this hop does not federate with. Passes when
 * the server did not say what it trusts (in-process calls, tests without TLS).
 */
const foreignAt = (i: PolicyInput) => {
  const trusted = i.peer?.trustDomains;
  if (!trusted) return -1;
  return i.tokens.findIndex((t) => {
    const td = trustDomainOfSub(t?.claims.sub);
    return td !== undefined && !trusted.includes(td);
  });
};
const trustDomainOfSub = (sub: unknown): string | undefined => {
  if (typeof sub !== 'string' || !isSpiffeId(sub)) return undefined;
  return parseSpiffeId(sub).trustDomain;
};
export const tokensTrustDomains: Policy = policy(
  'tokens_trust_domains',
  (i) => foreignAt(i) < 0,
  (i) => {
    const k = foreignAt(i);
    const sub = String(i.tokens[k]?.claims.sub);
    return `the token of ${segmentName(i, k)} is from ${sub}, whose trust domain ${trustDomainOfSub(sub)} is not trusted here (trusted: ${i.peer?.trustDomains?.join(', ')})`;
  },
);

/**
 * The server default set: upstream's (applied to Request and Close of calls that came over gRPC),
 * plus tokens_trust_domains for interdomain paths.
 */
export const serverPolicies: readonly Policy[] = [tokensValid, prevTokenSigned, tokensExpired, tokensChained, tokensTrustDomains];
/** Upstream's client default set: applied to the reply (and to Close with the remembered peer). */
export const clientPolicies: readonly Policy[] = [tokensValid, nextTokenSigned, tokensExpired, tokensChained];

/**
 * The list for Close: the same without tokens_expired. A connection is closed exactly when a token
 * on its path expired, and that Close must still reach every hop after the one that noticed.
 */
export const withoutExpiry = (policies: readonly Policy[]): readonly Policy[] => policies.filter((p) => p !== tokensExpired);
