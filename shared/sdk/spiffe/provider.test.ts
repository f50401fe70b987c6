// The embedded provider and the Workload API client against each other, over real unix sockets.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SpiffeWorkloadAPIService, WorkloadApiHeader, X509BundlesResponse } from '@nsm/api/spiffe';
import { LocalCa } from './ca';
import { WorkloadApiClient, workloadApiTarget } from './client';
import { WorkloadApiProvider } from './provider';
import type { X509Context } from './svid';

const RawClient = grpc.makeGenericClientConstructor(SpiffeWorkloadAPIService, 'SpiffeWorkloadAPI');

let dir: string;
let ca: LocalCa;
let provider: WorkloadApiProvider;
const clients: WorkloadApiClient[] = [];
const sock = (n: string) => join(dir, n, 'agent.sock');
const client = (path: string) => {
  const c = new WorkloadApiClient({ address: `unix://${path}`, backoffInitialMs: 50, backoffMaxMs: 200 });
  clients.push(c);
  return c;
};
const nextUpdate = (c: WorkloadApiClient, pred: (x: X509Context) => boolean = () => true, ms = 10_000) =>
  new Promise<X509Context>((resolve, reject) => {
    const t = setTimeout(() => (off(), reject(new Error('no update in time'))), ms);
    const off = c.subscribe((x) => {
      if (!pred(x)) return;
      clearTimeout(t);
      off();
      resolve(x);
    });
  });

beforeAll(async () => {
  ca = await LocalCa.create();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wlapi-'));
  provider = new WorkloadApiProvider({ ca, svidLifetimeMs: 3_000 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await provider.close();
  rmSync(dir, { recursive: true, force: true });
});

test('each socket hands out its own SPIFFE ID with the bundle', async () => {
  await provider.addWorkload(sock('nsc'), 'spiffe://nsm.local/ns/default/nsc');
  await provider.addWorkload(sock('nse'), 'spiffe://nsm.local/ns/default/nse');
  const [a, b] = await Promise.all([client(sock('nsc')).ready(5000), client(sock('nse')).ready(5000)]);
  expect(a.svid.id).toBe('spiffe://nsm.local/ns/default/nsc');
  expect(b.svid.id).toBe('spiffe://nsm.local/ns/default/nse');
  expect(a.bundles.get('nsm.local')![0].fingerprint256).toBe(ca.certificate.fingerprint256);
  expect(a.svid.chain[0].verify(ca.certificate.publicKey)).toBe(true);
  expect(provider.list().map((w) => w.id).sort()).toEqual(['spiffe://nsm.local/ns/default/nsc', 'spiffe://nsm.local/ns/default/nse']);
});

test('a call without the workload.spiffe.io header is INVALID_ARGUMENT', async () => {
  await provider.addWorkload(sock('x'), 'spiffe://nsm.local/x');
  const raw = new RawClient(`unix://${sock('x')}`, grpc.credentials.createInsecure());
  try {
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      const s = raw.fetchX509Svid({}, new grpc.Metadata());
      s.on('data', () => undefined);
      s.on('status', resolve);
      s.on('error', () => undefined);
    });
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/security header/);
    const wrong = new grpc.Metadata();
    wrong.set(WorkloadApiHeader, 'yes');
    const err = await new Promise<grpc.ServiceError>((resolve) => raw.fetchJwtsvid({ audience: ['a'] }, wrong, (e: grpc.ServiceError) => resolve(e)));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
  } finally {
    raw.close();
  }
});

test('FetchX509Bundles streams the own and federated bundles', async () => {
  const other = await LocalCa.create({ trustDomain: 'example.org' });
  await provider.addWorkload(sock('x'), 'spiffe://nsm.local/x');
  const raw = new RawClient(`unix://${sock('x')}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set(WorkloadApiHeader, 'true');
  const s = raw.fetchX509Bundles({}, md);
  const got: X509BundlesResponse[] = [];
  s.on('error', () => undefined);
  try {
    await new Promise<void>((resolve) => s.on('data', (m: X509BundlesResponse) => (got.push(m), got.length === 1 ? (provider.setFederatedBundle('example.org', other.bundle()), undefined) : resolve())));
    expect(Object.keys(got[0].bundles)).toEqual(['nsm.local']);
    expect(Object.keys(got[1].bundles).sort()).toEqual(['example.org', 'nsm.local']);
  } finally {
    s.cancel();
    raw.close();
  }
});

test('SVIDs rotate at about half their lifetime and the open stream gets the new one', async () => {
  await provider.addWorkload(sock('r'), 'spiffe://nsm.local/r');
  const c = client(sock('r'));
  const first = await c.ready(5000);
  const t0 = Date.now();
  const second = await nextUpdate(c);
  const took = Date.now() - t0;
  expect(second.svid.id).toBe(first.svid.id);
  expect(second.svid.chain[0].serialNumber).not.toBe(first.svid.chain[0].serialNumber);
  expect(second.svid.notAfter).toBeGreaterThan(first.svid.notAfter);
  // Lifetime 3 s (NotAfter rounded down to the second), rotation at half: about 1 to 1.5 s after the
  // first; the hard bound is that the new SVID comes before the old one expires.
  expect(took).toBeGreaterThan(300);
  expect(Date.now()).toBeLessThan(first.svid.notAfter);
});

test('federated bundles are pushed on the open stream', async () => {
  const other = await LocalCa.create({ trustDomain: 'example.org' });
  await provider.addWorkload(sock('f'), 'spiffe://nsm.local/f');
  const c = client(sock('f'));
  await c.ready(5000);
  const next = nextUpdate(c, (x) => x.bundles.has('example.org'));
  provider.setFederatedBundle('example.org', other.bundle());
  expect((await next).bundles.get('example.org')![0].fingerprint256).toBe(other.certificate.fingerprint256);
  const gone = nextUpdate(c, (x) => !x.bundles.has('example.org'));
  provider.setFederatedBundle('example.org', undefined);
  await gone;
});

test('the client keeps its SVID while the agent is gone and reconnects when it is back', async () => {
  await provider.addWorkload(sock('k'), 'spiffe://nsm.local/k');
  const c = client(sock('k'));
  const first = await c.ready(5000);
  await provider.removeWorkload(sock('k'));
  expect(existsSync(sock('k'))).toBe(false);
  await new Promise((r) => setTimeout(r, 300));
  expect(c.current()!.svid.chain[0].serialNumber).toBe(first.svid.chain[0].serialNumber);
  const back = nextUpdate(c);
  await provider.addWorkload(sock('k'), 'spiffe://nsm.local/k');
  expect((await back).svid.chain[0].serialNumber).not.toBe(first.svid.chain[0].serialNumber);
});

test('ready() fails with a clear error when no SVID comes', async () => {
  const c = client(join(dir, 'nobody', 'agent.sock'));
  await expect(c.ready(400)).rejects.toThrow(/Workload API at unix:\/\/.*nobody\/agent.sock: no X.509-SVID after 400 ms; last error: UNAVAILABLE/);
});

test('close() rejects waiting ready() calls', async () => {
  const c = client(join(dir, 'nobody', 'agent.sock'));
  const p = c.ready(10_000);
  c.close();
  await expect(p).rejects.toThrow(/closed before any SVID/);
});

test.each([
  ['unix:///run/spire/agent.sock', 'unix:///run/spire/agent.sock'],
  ['unix:/run/spire/agent.sock', 'unix:///run/spire/agent.sock'],
  ['/run/spire/agent.sock', 'unix:///run/spire/agent.sock'],
  ['tcp://127.0.0.1:8081', '127.0.0.1:8081'],
])('workloadApiTarget(%s)', (a, t) => expect(workloadApiTarget(a)).toBe(t));

test.each([undefined, '', 'unix://relative/x', 'unix:relative', 'agent.sock', 'tcp://host.example:80', 'http://x'])('workloadApiTarget(%j) is refused', (a) => {
  expect(() => workloadApiTarget(a)).toThrow(/SPIFFE_ENDPOINT_SOCKET|Workload API address/);
});

test('provider settings and workloads are checked', async () => {
  expect(() => new WorkloadApiProvider({ ca, svidLifetimeMs: 10 })).toThrow(/at least 1 s/);
  expect(() => new WorkloadApiProvider({ ca, rotateAfter: 1 })).toThrow(/rotateAfter/);
  await expect(provider.addWorkload(sock('a'), 'spiffe://example.org/a')).rejects.toThrow(/not in trust domain/);
  expect(() => provider.setFederatedBundle('nsm.local', ca.bundle())).toThrow(/own trust domain/);
});
