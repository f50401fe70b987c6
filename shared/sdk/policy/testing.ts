// Test fixtures for policies and authorize elements: a four-hop path (nsc → nsmgr → forwarder → nse)
// whose tokens are really signed by SVIDs of a local CA, and ways to spoil one segment.
import type { PathSegment } from '@nsm/api';
import { LocalCa } from '../spiffe/ca';
import type { TransportPeer } from '../spiffe/peer';
import type { X509Svid } from '../spiffe/svid';
import { toTimestamp } from '../core/conn';
import { JwtClaims, signEs256 } from '../token/jwt';

export const HOPS = ['nsc', 'nsmgr', 'forwarder', 'nse'] as const;
export type Hop = (typeof HOPS)[number];

export interface PathFixture {
  ca: LocalCa;
  svids: Record<Hop | 'mallory', X509Svid>;
  peer(h: Hop | 'mallory'): TransportPeer;
  /** Token of `from` for `to` (aud), exp = now + 10 min unless overridden. */
  token(from: Hop | 'mallory', to: Hop | undefined, claims?: Partial<JwtClaims>, signer?: Hop | 'mallory'): string;
  /** Segments 0..n-1 with each hop's token for the next (the last one's own token has aud = previous hop). */
  segments(n: number, now: number): PathSegment[];
}

export async function pathFixture(now: () => number = Date.now): Promise<PathFixture> {
  const ca = await LocalCa.create();
  const svids = {} as PathFixture['svids'];
  for (const h of [...HOPS, 'mallory'] as const) svids[h] = await ca.issue(`spiffe://nsm.local/${h}`);
  const token: PathFixture['token'] = (from, to, claims = {}, signer = from) =>
    signEs256({ sub: svids[from].id, ...(to ? { aud: [svids[to].id] } : {}), exp: Math.floor(now() / 1000) + 600, ...claims }, svids[signer].key);
  return {
    ca,
    svids,
    peer: (h) => ({ id: svids[h].id, certificate: svids[h].chain[0] }),
    token,
    segments: (n, t) =>
      HOPS.slice(0, n).map((h, i) => ({
        name: h,
        id: `${h}-id`,
        token: i + 1 < n ? token(h, HOPS[i + 1]) : token(h, i > 0 ? HOPS[i - 1] : undefined),
        expires: toTimestamp(t + 600_000),
        metrics: {},
      })),
  };
}
