// Identities for tests: one local CA per test process (trust domain nsm.local) and SVIDs issued from
// it into sources that tests hand to servers, channels and token generators, as the cmd helper does
// with the Workload API in production.
import { LocalCa } from '../spiffe/ca';
import { makeSpiffeId } from '../spiffe/id';
import { StaticX509Source } from '../spiffe/source';
import type { X509Svid } from '../spiffe/svid';
import type { TokenGenerator } from '../token';
import { spiffeTokenGenerator } from '../token/spiffe';

let shared: Promise<LocalCa> | undefined;

/** The test process's CA (created once). */
export function testCa(): Promise<LocalCa> {
  return (shared ??= LocalCa.create());
}

export interface TestIdentity {
  id: string;
  svid: X509Svid;
  source: StaticX509Source;
  tokens: TokenGenerator;
}

/** An identity spiffe://nsm.local/<name> with a one-hour SVID (or `lifetimeMs`) and its token generator. */
export async function testIdentity(name: string, opts: { ca?: LocalCa; lifetimeMs?: number; maxTokenLifetimeMs?: number } = {}): Promise<TestIdentity> {
  const ca = opts.ca ?? (await testCa());
  const svid = await ca.issue(makeSpiffeId(ca.trustDomain, `/${name}`), { lifetimeMs: opts.lifetimeMs });
  const source = new StaticX509Source({ svid, svids: [svid], bundles: new Map([[ca.trustDomain, ca.bundle()]]) });
  return { id: svid.id, svid, source, tokens: spiffeTokenGenerator({ source, maxLifetimeMs: opts.maxTokenLifetimeMs ?? 600_000 }) };
}

export interface TestIdentities {
  registry: TestIdentity;
  nsmgr: TestIdentity;
  nse: TestIdentity;
  /** Another endpoint: what may not touch the first one's registrations. */
  otherNse: TestIdentity;
}

/** The identities registry tests use. */
export async function testIdentities(): Promise<TestIdentities> {
  const [registry, nsmgr, nse, otherNse] = await Promise.all(['registry', 'nsmgr', 'nse', 'other-nse'].map((n) => testIdentity(n)));
  return { registry, nsmgr, nse, otherNse };
}
