// The production token generator (security.md §3): sub = own SPIFFE ID, aud = [the TLS peer's
// SPIFFE ID] when there is one, exp = min(now + max lifetime, own SVID NotAfter, peer certificate
// NotAfter), signed ES256 with the current SVID key, so that a rotation changes the signer at once.
// The returned expiry is exactly the exp claim: the segment's `expires` and the token agree.
import type { X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock';
import { realClock } from '../core/clock';
import { unavailable } from '../core/errors';
import type { X509Source } from '../spiffe/source';
import type { GeneratedToken, PeerInfo } from './index';
import { signEs256 } from './jwt';

/** What the generator learns about the peer: its ID and, with TLS, its certificate. */
export interface TokenPeer extends PeerInfo {
  certificate?: X509Certificate;
}

export interface SpiffeTokenOptions {
  source: X509Source;
  /** Upper bound of a token's life; upstream cmds default to 10 min (forwarder-ovs 24 h). */
  maxLifetimeMs: number;
  clock?: Clock;
}

/** A TokenGenerator (assignable to it) that also takes the peer's certificate. */
export function spiffeTokenGenerator(opts: SpiffeTokenOptions): (peer?: TokenPeer) => GeneratedToken {
  const clock = opts.clock ?? realClock;
  return (peer) => {
    const ctx = opts.source.current();
    if (!ctx) throw unavailable('cannot sign a token: no X.509-SVID yet');
    const now = clock.now();
    let until = Math.min(now + opts.maxLifetimeMs, ctx.svid.notAfter);
    if (peer?.certificate) until = Math.min(until, Date.parse(peer.certificate.validTo));
    const exp = Math.floor(until / 1000);
    const claims: Record<string, unknown> = { sub: ctx.svid.id, exp };
    const aud = peer?.id;
    if (aud) claims.aud = [aud];
    return { token: signEs256(claims, ctx.svid.key), expires: exp * 1000 };
  };
}
