// Upstream NSM's default policies with their semantics (security.md §4, sdk.md §3.5). Every one is
// written as "true = allowed"; tokens_expired keeps upstream's name and passes when none expired.
import { audiences, verifyEs256 } from '../token/jwt';
import { Policy, policy, PolicyInput } from './index';

/** Every segment's token decodes as a JWT (true for an empty path). */
export const tokensValid: Policy = policy('tokens_valid', (i) => i.tokens.every((t) => t !== undefined));

const signedByPeer = (i: PolicyInput, at: number) => {
  const t = i.tokens[at];
  return at >= 0 && at < i.segments.length && t !== undefined && i.peer !== undefined && verifyEs256(t, i.peer.certificate);
};

/** Server side: the caller's token (segment index-1) is signed by the TLS peer. */
export const prevTokenSigned: Policy = policy('prev_token_signed', (i) => i.index >= 1 && signedByPeer(i, i.index - 1));

/** Client side: the server's token (segment index+1) in the reply is signed by the TLS peer. */
export const nextTokenSigned: Policy = policy('next_token_signed', (i) => signedByPeer(i, i.index + 1));

/** No token is past its exp (upstream: "tokens_expired must be false"). */
export const tokensExpired: Policy = policy('tokens_expired', (i) => {
  const nowSec = i.now / 1000;
  return i.tokens.every((t) => t?.claims.exp === undefined || !(nowSec > t.claims.exp));
});

/** Each token's aud names the sub of the next segment's token (true for fewer than two segments). */
export const tokensChained: Policy = policy('tokens_chained', (i) => {
  for (let k = 0; k + 1 < i.tokens.length; k++) {
    const a = i.tokens[k];
    const b = i.tokens[k + 1];
    if (!a || !b || !b.claims.sub || !audiences(a.claims).includes(b.claims.sub)) return false;
  }
  return true;
});

/** Upstream's server default set: applied to Request and Close of calls that came over gRPC. */
export const serverPolicies: readonly Policy[] = [tokensValid, prevTokenSigned, tokensExpired, tokensChained];
/** Upstream's client default set: applied to the reply (and to Close with the remembered peer). */
export const clientPolicies: readonly Policy[] = [tokensValid, nextTokenSigned, tokensExpired, tokensChained];
