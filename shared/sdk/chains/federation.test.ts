// Federation over real gRPC and real mutual TLS: three trust domains, each with its embedded identity
// provider serving the Workload API on unix sockets. nsm.cluster1 and nsm.cluster2 federate (one by
// configuration, the other by the SPIFFE bundle its peer publishes); nsm.cluster3 federates only with
// nsm.cluster1. A client of cluster 1 reaches cluster 2's endpoint; one of cluster 3 is refused by
// it, directly (mTLS) or through cluster 1 (the token check); a rotated bundle applies to new
// connections.
import * as grpc from '@grpc/grpc-js';
import { SpiffeWorkloadAPIService, WorkloadApiHeader, X509SVIDResponse } from '@nsm/api/spiffe';
import { Context } from '../core/context';
import { Code } from '../core/errors';
import { handler } from '../core/networkservice';
import { authorizeClient } from '../elements/authorizeclient';
import { connectServer } from '../elements/connect/server';
import { startServer, StartedServer } from '../grpc/server';
import { formatSpiffeBundle, parseSpiffeBundle } from '../spiffe/bundle';
import { LocalCa } from '../spiffe/ca';
import { WorkloadApiClient } from '../spiffe/client';
import { WorkloadApiProvider } from '../spiffe/provider';
import { StaticX509Source, X509Source } from '../spiffe/source';
import type { X509Context } from '../spiffe/svid';
import { clientRequest, tempDir } from '../testing';
import { parseJwt } from '../token/jwt';
import { spiffeTokenGenerator } from '../token/spiffe';
import { client } from './client';
import { endpoint } from './endpoint';

const tmp = tempDir('fed-');
const cas: Record<1 | 2 | 3, LocalCa> = {} as never;
const providers: Record<1 | 2 | 3, WorkloadApiProvider> = {} as never;
const cleanups: (() => unknown)[] = [];
const td = (k: number) => `nsm.cluster${k}`;

beforeAll(async () => {
  for (const k of [1, 2, 3] as const) cas[k] = await LocalCa.create({ trustDomain: td(k) });
  // Cluster 1 is configured with the bundles it federates with (SPIRE's federates_with).
  providers[1] = new WorkloadApiProvider({ ca: cas[1], federatedBundles: { [td(2)]: cas[2].bundle(), [td(3)]: cas[3].bundle() } });
  // Cluster 2 takes cluster 1's bundle as cluster 1 publishes it (bundle endpoint / `bundle show | bundle set`).
  providers[2] = new WorkloadApiProvider({ ca: cas[2] });
  const published = formatSpiffeBundle({ x509Authorities: cas[1].bundle(), sequence: 1 });
  providers[2].setFederatedBundle(td(1), parseSpiffeBundle(published, `bundle of ${td(1)}`).x509Authorities);
  providers[3] = new WorkloadApiProvider({ ca: cas[3], federatedBundles: { [td(1)]: cas[1].bundle(), [td(2)]: cas[2].bundle() } });
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const p of Object.values(providers)) await p.close();
  tmp.cleanup();
});

/** A workload of cluster k: its own Workload API socket, a client of it, and tokens signed with it. */
async function workload(k: 1 | 2 | 3, name: string) {
  const socket = `${tmp.dir}/c${k}/${name}/agent.sock`;
  await providers[k].addWorkload(socket, `spiffe://${td(k)}/ns/default/pod/${name}`);
  const source = new WorkloadApiClient({ address: `unix://${socket}`, backoffInitialMs: 50 });
  cleanups.push(() => source.close());
  await source.ready(5000);
  return { socket, source, tokens: spiffeTokenGenerator({ source, maxLifetimeMs: 600_000 }) };
}

async function serve(name: string, source: X509Source, additional: Parameters<typeof endpoint>[0]['additional'] = []): Promise<StartedServer> {
  const tokens = spiffeTokenGenerator({ source, maxLifetimeMs: 600_000 });
  const s = await startServer([`unix://${tmp.dir}/${name}.sock`], endpoint({ name, tokens, additional }).services(), { source });
  cleanups.push(() => s.stop());
  return s;
}

const nsc = (w: { source: X509Source; tokens: ReturnType<typeof spiffeTokenGenerator> }, url: string) =>
  handler(client({ name: 'nsc', url, tokens: w.tokens, source: w.source, refresh: false, authorize: authorizeClient(), dialTimeoutMs: 3000 }));

test('the Workload API serves federated_bundles: each trust domain federated with, as concatenated DER', async () => {
  const w = await workload(1, 'raw');
  const Raw = grpc.makeGenericClientConstructor(SpiffeWorkloadAPIService, 'SpiffeWorkloadAPI');
  const raw = new Raw(`unix://${w.socket}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set(WorkloadApiHeader, 'true');
  const stream = raw.fetchX509Svid({}, md);
  try {
    const first = await new Promise<X509SVIDResponse>((resolve, reject) => (stream.on('data', resolve), stream.on('error', reject)));
    expect(Object.keys(first.federatedBundles).sort()).toEqual([td(2), td(3)]);
    expect(first.federatedBundles[td(2)]).toEqual(cas[2].certificate.raw);
    expect(first.svids[0].bundle).toEqual(cas[1].certificate.raw);
  } finally {
    stream.cancel();
    raw.close();
  }
  // The client keeps them beside its own bundle.
  expect([...w.source.current()!.bundles.keys()].sort()).toEqual([td(1), td(2), td(3)]);
});

test('a client of a federated trust domain reaches the endpoint; its path carries both trust domains', async () => {
  const nse = await workload(2, 'nse');
  const server = await serve('nse-c2', nse.source);
  const h = nsc(await workload(1, 'nsc'), server.urls[0]);
  const ctx = Context.background();
  const conn = await h.request(ctx, clientRequest('fed-1'));
  expect(conn.path!.pathSegments.map((s) => s.name)).toEqual(['nsc', 'nse-c2']);
  expect(conn.path!.pathSegments.map((s) => parseJwt(s.token)?.claims.sub)).toEqual(['spiffe://nsm.cluster1/ns/default/pod/nsc', 'spiffe://nsm.cluster2/ns/default/pod/nse']);
  await h.close(ctx, conn);
});

test('a client of a trust domain the endpoint does not federate with is refused, naming it', async () => {
  const server = await serve('nse-c2-b', (await workload(2, 'nse-b')).source);
  // Cluster 3 trusts cluster 2 (so the client accepts the server); cluster 2 does not trust cluster 3.
  const h = nsc(await workload(3, 'stranger'), server.urls[0]);
  await expect(h.request(Context.background(), clientRequest('fed-2'))).rejects.toMatchObject({
    code: Code.PERMISSION_DENIED,
    message: expect.stringMatching(/peer spiffe:\/\/nsm.cluster3\/ns\/default\/pod\/stranger: trust domain nsm.cluster3 is not trusted \(trusted: nsm.cluster2, nsm.cluster1;/),
  });
});

test('through a federated hop, a path that began in a non-federated trust domain is refused by the token check', async () => {
  const end = await serve('nse-c2-c', (await workload(2, 'nse-c')).source);
  // A proxy-like hop of cluster 1 (which federates with clusters 2 and 3) passes Requests on to cluster 2.
  const hopId = await workload(1, 'hop');
  const onward = client({ name: 'hop', url: end.urls[0], tokens: hopId.tokens, source: hopId.source, refresh: false, authorize: authorizeClient({ closePolicies: [] }) });
  const hop = await serve('hop', hopId.source, [connectServer(onward)]);
  const ctx = Context.background();
  // A client of cluster 1 goes through.
  const ok = nsc(await workload(1, 'local-nsc'), hop.urls[0]);
  const conn = await ok.request(ctx, clientRequest('fed-3'));
  expect(conn.path!.pathSegments.map((s) => s.name)).toEqual(['nsc', 'hop', 'nse-c2-c']);
  await ok.close(ctx, conn);
  // One of cluster 3 passes the hop's mTLS and policies, but cluster 2 sees its token in the path.
  const far = nsc(await workload(3, 'far-nsc'), hop.urls[0]);
  await expect(far.request(ctx, clientRequest('fed-4'))).rejects.toMatchObject({
    code: Code.PERMISSION_DENIED,
    message: expect.stringMatching(/policy tokens_trust_domains .*segment 0 \(nsc\) is from spiffe:\/\/nsm.cluster3\/ns\/default\/pod\/far-nsc, whose trust domain nsm.cluster3 is not trusted here/),
  });
});

test('federated bundles rotate: a new CA of the other domain is accepted once published, the retired one refused', async () => {
  const c1 = await workload(1, 'rotating-nsc');
  const next = await LocalCa.create({ trustDomain: td(2) });
  const serverFrom = async (ca: LocalCa, name: string) => {
    const svid = await ca.issue(`spiffe://${td(2)}/ns/default/pod/${name}`);
    const ctx: X509Context = { svid, svids: [svid], bundles: new Map([[td(2), [...cas[2].bundle(), ...next.bundle()]], [td(1), cas[1].bundle()]]) };
    return serve(name, new StaticX509Source(ctx));
  };
  const updated = (pred: (c: X509Context) => boolean) =>
    new Promise<void>((resolve) => {
      const off = c1.source.subscribe((c) => pred(c) && (off(), resolve()));
    });
  const fps = (c: X509Context) => (c.bundles.get(td(2)) ?? []).map((x) => x.fingerprint256);
  const ctx = Context.background();
  const attempt = async (url: string) => {
    const h = nsc(c1, url);
    const conn = await h.request(ctx, clientRequest(`rot-${url.length}-${Date.now()}`));
    await h.close(ctx, conn);
  };

  // Before cluster 1 knows the new CA, a server with an SVID from it is refused in the handshake.
  await expect(attempt((await serverFrom(next, 'new-1')).urls[0])).rejects.toMatchObject({ code: Code.UNAVAILABLE });
  // Overlap: both CAs published.
  let u = updated((c) => fps(c).length === 2);
  providers[1].setFederatedBundle(td(2), [...cas[2].bundle(), ...next.bundle()]);
  await u;
  await attempt((await serverFrom(next, 'new-2')).urls[0]);
  await attempt((await serverFrom(cas[2], 'old-2')).urls[0]);
  // The old CA retired: its SVIDs are refused on new connections, the new CA's accepted.
  u = updated((c) => fps(c).length === 1);
  providers[1].setFederatedBundle(td(2), next.bundle());
  await u;
  expect(fps(c1.source.current()!)).toEqual([next.certificate.fingerprint256]);
  await attempt((await serverFrom(next, 'new-3')).urls[0]);
  await expect(attempt((await serverFrom(cas[2], 'old-3')).urls[0])).rejects.toMatchObject({ code: Code.UNAVAILABLE });
});

test('SPIFFE bundle format: round trip, and what is refused', async () => {
  const text = formatSpiffeBundle({ x509Authorities: cas[2].bundle(), sequence: 7, refreshHintSeconds: 300 });
  const doc = JSON.parse(text);
  expect(doc).toMatchObject({ spiffe_sequence: 7, spiffe_refresh_hint: 300, keys: [{ use: 'x509-svid', kty: 'EC', crv: 'P-256', x5c: [cas[2].certificate.raw.toString('base64')] }] });
  const back = parseSpiffeBundle(text);
  expect(back.x509Authorities.map((c) => c.fingerprint256)).toEqual([cas[2].certificate.fingerprint256]);
  const leaf = (await cas[2].issue(`spiffe://${td(2)}/x`)).chain[0];
  expect(() => parseSpiffeBundle('nope', 'bundle of x')).toThrow(/bundle of x: not JSON/);
  expect(() => parseSpiffeBundle('{"keys": 1}')).toThrow(/JWK set/);
  expect(() => parseSpiffeBundle('{"keys": []}')).toThrow(/no X.509 authority/);
  expect(() => parseSpiffeBundle(JSON.stringify({ keys: [{ use: 'x509-svid', x5c: [leaf.raw.toString('base64')] }] }))).toThrow(/not a CA/);
  expect(() => parseSpiffeBundle(JSON.stringify({ keys: [{ use: 'x509-svid', x5c: ['AAAA'] }] }))).toThrow(/not a certificate/);
  expect(() => parseSpiffeBundle(JSON.stringify({ keys: doc.keys, spiffe_sequence: -1 }))).toThrow(/spiffe_sequence/);
  expect(() => providers[2].setFederatedBundle(td(3), [leaf])).toThrow(/not a CA/);
  expect(() => providers[2].setFederatedBundle(td(2), cas[2].bundle())).toThrow(/own trust domain/);
});
