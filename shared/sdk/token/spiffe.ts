// The production token generator (security.md §3): sub = own SPIFFE ID, aud = [the TLS peer's
// SPIFFE ID] when there is one, exp = min(now + max lifetime, signing SVID NotAfter, peer certificate
// NotAfter), signed ES256. The returned expiry is exactly the exp claim: the segment's `expires` and
// the token agree.
//
// Which key signs: the peer verifies our token against the certificate it saw in the TLS handshake
// of the connection the token travels on, and connections outlive SVID rotations. So when the peer
// info names that certificate (localCertificate), the SVID it belongs to signs, as long as it is
// still valid; the generator keeps the SVIDs it has seen until they expire. Otherwise (no TLS, or the
// certificate is unknown or expired) the current SVID signs.
import type { X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock';
import { realClock } from '../core/clock';
import { unavailable } from '../core/errors';
import type { X509Source } from '../spiffe/source';
import type { X509Svid } from '../spiffe/svid';
import type { GeneratedToken, PeerInfo, TokenGenerator } from './index';
import { parseJwt, remember, signEs256, verifyEs256 } from './jwt';

/** What the generator learns about the peer: its ID and, with TLS, its certificate. */
export type TokenPeer = PeerInfo;

export interface SpiffeTokenOptions {
  source: X509Source;
  /** Upper bound of a token's life; upstream cmds default to 10 min (forwarder-ovs 24 h). */
  maxLifetimeMs: number;
  clock?: Clock;
}

/** SVIDs seen from a source, newest first, until they expire: the keys older connections still need. */
export class SvidHistory {
  private svids: X509Svid[] = [];

  constructor(
    private readonly source: X509Source,
    private readonly now: () => number,
  ) {
    const first = source.current();
    if (first) this.add(first.svid);
    source.subscribe((ctx) => this.add(ctx.svid));
  }

  private add(svid: X509Svid): void {
    if (this.svids[0] === svid) return;
    const now = this.now();
    this.svids = [svid, ...this.svids.filter((s) => s !== svid && s.notAfter > now)].slice(0, 8);
  }

  /** The SVID whose leaf is `cert` (and is still valid), else the current one. */
  signer(cert: X509Certificate | undefined): X509Svid | undefined {
    const current = this.source.current()?.svid;
    if (current) this.add(current);
    if (!cert || !current || current.chain[0].fingerprint256 === cert.fingerprint256) return current;
    const now = this.now();
    return this.svids.find((s) => s.notAfter > now && s.chain[0].fingerprint256 === cert.fingerprint256) ?? current;
  }
}

/** A TokenGenerator that signs with the SVIDs of `source`. */
export function spiffeTokenGenerator(opts: SpiffeTokenOptions): TokenGenerator {
  const clock = opts.clock ?? realClock;
  const history = new SvidHistory(opts.source, () => clock.now());
  const gen: TokenGenerator = (peer): GeneratedToken => {
    const svid = history.signer(peer?.localCertificate);
    if (!svid) throw unavailable('cannot sign a token: no X.509-SVID yet');
    const now = clock.now();
    let until = Math.min(now + opts.maxLifetimeMs, svid.notAfter);
    if (peer?.certificate) until = Math.min(until, Date.parse(peer.certificate.validTo));
    const exp = Math.floor(until / 1000);
    const claims: Record<string, unknown> = { sub: svid.id, exp };
    const aud = peer?.id;
    if (aud) claims.aud = [aud];
    // Claims have a resolution of one second, and a hop asks for the same ones several times per
    // Request (the call's credentials, its path segment): the same claims get the same token.
    const id = `${exp} ${aud ?? ''}`;
    let token = signed.get(svid)?.get(id);
    if (!token) remember(signed, svid, id, (token = signEs256(claims, svid.key)));
    return { token, expires: exp * 1000 };
  };
  const signed = new WeakMap<object, Map<string, string>>();
  gen.resign = (token, localCertificate) => {
    const svid = history.signer(localCertificate);
    if (!svid || svid.chain[0].fingerprint256 !== localCertificate.fingerprint256) return token;
    const jwt = parseJwt(token);
    if (!jwt || jwt.claims.sub !== svid.id || verifyEs256(jwt, svid.chain[0])) return token;
    const claims = { ...jwt.claims };
    if (claims.exp !== undefined) claims.exp = Math.min(claims.exp, Math.floor(svid.notAfter / 1000));
    return signEs256(claims, svid.key);
  };
  return gen;
}
