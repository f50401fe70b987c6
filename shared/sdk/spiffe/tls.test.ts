// Real gRPC servers with real TLS on TCP port 0 and unix sockets, identities from the local CA.
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { LocalCa } from './ca';
import { WorkloadApiClient } from './client';
import { peerFromAuthContext } from './peer';
import { WorkloadApiProvider } from './provider';
import { StaticX509Source } from './source';
import type { X509Context, X509Svid } from './svid';
import { spiffeChannelCredentials, spiffeServerCredentials, verifyPeerChain } from './tls';

const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) };
const method = (name: string, responseStream: boolean) => ({
  path: `/test.Who/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const WhoService = { whoAmI: method('WhoAmI', false), ticks: method('Ticks', true) };
const WhoClient = grpc.makeGenericClientConstructor(WhoService, 'Who');
type Reply = { peer?: string; serial?: string };

let ca: LocalCa;
let other: LocalCa;
let dir: string;
const cleanups: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  ca = await LocalCa.create();
  other = await LocalCa.create({ trustDomain: 'example.org' });
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tls-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

function ctxOf(svid: X509Svid, extra: [string, LocalCa][] = []): X509Context {
  const own = svid.trustDomain === ca.trustDomain ? ca : other;
  return { svid, svids: [svid], bundles: new Map([[own.trustDomain, own.bundle()], ...extra.map(([td, c]) => [td, c.bundle()] as [string, ReturnType<LocalCa['bundle']>])]) };
}
async function sourceOf(id: string, from = ca, extra: [string, LocalCa][] = []): Promise<StaticX509Source> {
  return new StaticX509Source(ctxOf(await from.issue(id), extra));
}

async function startServer(source: StaticX509Source | WorkloadApiClient, where: 'tcp' | 'unix' = 'tcp'): Promise<string> {
  const server = new grpc.Server();
  server.addService(WhoService, {
    whoAmI: (call: grpc.ServerUnaryCall<unknown, Reply>, cb: grpc.sendUnaryData<Reply>) => {
      const p = peerFromAuthContext(call.getAuthContext());
      cb(null, { peer: p?.id, serial: p?.certificate.serialNumber });
    },
    ticks: (call: grpc.ServerWritableStream<unknown, Reply>) => {
      const t = setInterval(() => call.write({ peer: peerFromAuthContext(call.getAuthContext())?.id }), 50);
      call.on('cancelled', () => clearInterval(t));
      call.on('close', () => clearInterval(t));
    },
  });
  const addr = where === 'tcp' ? '127.0.0.1:0' : `unix://${join(dir, `s${cleanups.length}.sock`)}`;
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(addr, spiffeServerCredentials(source), (e, p) => (e ? reject(e) : resolve(p))));
  cleanups.push(() => void server.forceShutdown());
  return where === 'tcp' ? `127.0.0.1:${port}` : addr;
}

function dial(target: string, source: StaticX509Source | WorkloadApiClient | 'plaintext') {
  const ch = source === 'plaintext' ? undefined : spiffeChannelCredentials(source);
  const c = new WhoClient(target, ch?.credentials ?? grpc.credentials.createInsecure(), { ...ch?.options, 'grpc.max_reconnect_backoff_ms': 200 });
  cleanups.push(() => c.close());
  const whoAmI = (deadlineMs = 3000) =>
    new Promise<{ reply: Reply; serverPeer?: string }>((resolve, reject) => {
      const call = c.whoAmI({}, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, reply: Reply) => {
        if (err) return reject(err);
        resolve({ reply, serverPeer: peerFromAuthContext(call.getAuthContext())?.id });
      });
    });
  return { client: c, channel: ch, whoAmI };
}

describe.each(['tcp', 'unix'] as const)('mTLS over %s', (where) => {
  test('both sides see each other’s SPIFFE ID', async () => {
    const target = await startServer(await sourceOf('spiffe://nsm.local/nsmgr'), where);
    const c = dial(target, await sourceOf('spiffe://nsm.local/nsc'));
    const r = await c.whoAmI();
    expect(r.reply.peer).toBe('spiffe://nsm.local/nsc');
    // Client side, two ways: the call's auth context (grpc-js 1.14) and the credentials' last handshake.
    expect(r.serverPeer).toBe('spiffe://nsm.local/nsmgr');
    expect(c.channel!.peer()?.id).toBe('spiffe://nsm.local/nsmgr');
    expect(c.channel!.peer()?.certificate.verify(ca.certificate.publicKey)).toBe(true);
  });

  test('refused: plaintext, a foreign trust domain, an expired SVID', async () => {
    const target = await startServer(await sourceOf('spiffe://nsm.local/nsmgr'), where);
    // The server is up and serving a good client; the others are refused for what they are.
    expect((await dial(target, await sourceOf('spiffe://nsm.local/nsc')).whoAmI()).reply.peer).toBe('spiffe://nsm.local/nsc');
    await expect(dial(target, 'plaintext').whoAmI(1500)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    const foreign = dial(target, await sourceOf('spiffe://example.org/intruder', other, [['nsm.local', ca]]));
    await expect(foreign.whoAmI(1500)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: 'peer spiffe://example.org/intruder: trust domain example.org is not trusted (trusted: nsm.local; a foreign trust domain must be federated)',
    });
    // It did verify the server: the refusal came from the server's side.
    expect(foreign.channel!.peer()?.id).toBe('spiffe://nsm.local/nsmgr');
    const now = Date.now();
    const expired = dial(target, new StaticX509Source(ctxOf(await ca.issue('spiffe://nsm.local/old', { notBefore: now - 60_000, notAfter: now - 5_000 }))));
    await expect(expired.whoAmI(1500)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'client certificate of spiffe://nsm.local/old refused: CERT_HAS_EXPIRED' });
    expect(expired.channel!.peer()?.id).toBe('spiffe://nsm.local/nsmgr');
    // A client that does not offer a certificate at all (TLS, but server-only trust).
    const noCert = new WhoClient(target, grpc.credentials.createSsl(Buffer.from(ca.certificate.toString()), null, null, { checkServerIdentity: () => undefined }), {
      'grpc.ssl_target_name_override': 'spiffe',
    });
    cleanups.push(() => noCert.close());
    await expect(
      new Promise((resolve, reject) => noCert.whoAmI({}, { deadline: Date.now() + 1500 }, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r)))),
    ).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'a client X.509-SVID is required' });
  });

  test('the client refuses a server of a foreign trust domain', async () => {
    const target = await startServer(await sourceOf('spiffe://example.org/rogue', other, [['nsm.local', ca]]), where);
    const c = dial(target, await sourceOf('spiffe://nsm.local/nsc'));
    await expect(c.whoAmI(1500)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(c.channel!.peer()).toBeUndefined();
  });
});

test('federation: a peer of a federated trust domain is accepted both ways', async () => {
  const target = await startServer(await sourceOf('spiffe://nsm.local/nsmgr-proxy', ca, [['example.org', other]]));
  const c = dial(target, await sourceOf('spiffe://example.org/nsmgr-proxy', other, [['nsm.local', ca]]));
  expect((await c.whoAmI()).reply.peer).toBe('spiffe://example.org/nsmgr-proxy');
  expect(c.channel!.peer()?.id).toBe('spiffe://nsm.local/nsmgr-proxy');
});

test('a client whose ID is not anchored in its own trust domain’s bundle passes TLS but every call is UNAUTHENTICATED', async () => {
  // A (mis)configured server bundle set: nsm.local's CA listed as example.org's and vice versa.
  const leaf = await ca.issue('spiffe://nsm.local/server');
  const serverSource = new StaticX509Source({ svid: leaf, svids: [leaf], bundles: new Map([['nsm.local', other.bundle()], ['example.org', ca.bundle()]]) });
  const target = await startServer(serverSource);
  const c = dial(target, await sourceOf('spiffe://nsm.local/nsc', ca, [['example.org', ca]]));
  await expect(c.whoAmI()).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/does not lead to the bundle of nsm.local/) });
});

test('rotation: a live stream survives, new connections get the new SVIDs, no restart', async () => {
  const serverSource = await sourceOf('spiffe://nsm.local/nsmgr');
  const clientSource = await sourceOf('spiffe://nsm.local/nsc');
  const target = await startServer(serverSource);
  const first = dial(target, clientSource);
  const before = await first.whoAmI();
  const stream = first.client.ticks({});
  let ticks = 0;
  let streamError: unknown;
  stream.on('data', () => ticks++);
  stream.on('error', (e: unknown) => (streamError = e));
  await new Promise((r) => setTimeout(r, 200));

  const oldServerSerial = serverSource.current()!.svid.chain[0].serialNumber;
  serverSource.set(ctxOf(await ca.issue('spiffe://nsm.local/nsmgr')));
  clientSource.set(ctxOf(await ca.issue('spiffe://nsm.local/nsc')));
  const newServerSerial = serverSource.current()!.svid.chain[0].serialNumber;
  expect(newServerSerial).not.toBe(oldServerSerial);

  const ticksAtRotation = ticks;
  for (let waited = 0; ticks <= ticksAtRotation + 2 && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  expect(ticks).toBeGreaterThan(ticksAtRotation + 2);
  expect(streamError).toBeUndefined();
  // The old connection still speaks with the old certificates on both ends.
  expect((await first.whoAmI()).reply.serial).toBe(before.reply.serial);
  expect(first.channel!.peer()!.certificate.serialNumber).toBe(oldServerSerial);

  // A new connection: the server presents its new SVID, the client its new one.
  const second = dial(target, clientSource);
  const after = await second.whoAmI();
  expect(second.channel!.peer()!.certificate.serialNumber).toBe(newServerSerial);
  expect(after.reply.serial).toBe(clientSource.current()!.svid.chain[0].serialNumber);
  expect(after.reply.serial).not.toBe(before.reply.serial);
  stream.cancel();
});

test('an SVID rotating during a handshake: the channel reports the certificate that handshake presented, not the new one', async () => {
  const clientSource = await sourceOf('spiffe://nsm.local/nsc');
  const [host, port] = (await startServer(await sourceOf('spiffe://nsm.local/nsmgr'))).split(':');
  // A relay that holds the server's side of the handshake for 300 ms: the client's TLS connection
  // starts with its first SVID, which rotates before the server's flight arrives.
  let held = 0;
  const relay = net.createServer((down) => {
    const up = net.connect(Number(port), host);
    down.on('data', (d) => up.write(d));
    up.on('data', (d) => {
      held++;
      setTimeout(() => down.writable && down.write(d), 300);
    });
    const end = () => (down.destroy(), up.destroy());
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => relay.close(() => r())));
  const relayed = `127.0.0.1:${(relay.address() as net.AddressInfo).port}`;

  const first = clientSource.current()!.svid.chain[0];
  const c = dial(relayed, clientSource);
  const call = c.whoAmI(5000);
  while (held === 0) await new Promise((r) => setTimeout(r, 10));
  clientSource.set(ctxOf(await ca.issue('spiffe://nsm.local/nsc')));
  const { reply } = await call;
  expect(reply.serial).toBe(first.serialNumber);
  expect(c.channel!.peer()!.localCertificate!.serialNumber).toBe(first.serialNumber);
  expect(clientSource.current()!.svid.chain[0].serialNumber).not.toBe(first.serialNumber);
});

test('a new trust bundle applies to new handshakes: a CA dropped from the bundle is refused', async () => {
  const serverSource = await sourceOf('spiffe://nsm.local/nsmgr', ca, [['example.org', other]]);
  const target = await startServer(serverSource);
  const visitor = await sourceOf('spiffe://example.org/visitor', other, [['nsm.local', ca]]);
  await dial(target, visitor).whoAmI();
  serverSource.set(ctxOf(serverSource.current()!.svid));
  await expect(dial(target, visitor).whoAmI(1500)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringMatching(/trust domain example.org is not trusted/) });
});

test('a server without an SVID yet drops connections, and serves once one arrives', async () => {
  const source = new StaticX509Source();
  const target = await startServer(source);
  const c = dial(target, await sourceOf('spiffe://nsm.local/nsc'));
  await expect(c.whoAmI(800)).rejects.toMatchObject({ code: expect.any(Number) });
  source.set(ctxOf(await ca.issue('spiffe://nsm.local/late')));
  expect((await dial(target, await sourceOf('spiffe://nsm.local/nsc')).whoAmI()).serverPeer).toBe('spiffe://nsm.local/late');
});

test('end to end: identities from the embedded provider over the Workload API, rotating every second', async () => {
  const provider = new WorkloadApiProvider({ ca, svidLifetimeMs: 2_000 });
  cleanups.push(() => provider.close());
  await provider.addWorkload(join(dir, 'nsmgr.sock'), 'spiffe://nsm.local/nsmgr');
  await provider.addWorkload(join(dir, 'nsc.sock'), 'spiffe://nsm.local/nsc');
  const serverSource = new WorkloadApiClient({ address: join(dir, 'nsmgr.sock') });
  const clientSource = new WorkloadApiClient({ address: `unix://${join(dir, 'nsc.sock')}` });
  cleanups.push(() => serverSource.close(), () => clientSource.close());
  await Promise.all([serverSource.ready(5000), clientSource.ready(5000)]);
  const target = await startServer(serverSource, 'unix');
  const c = dial(target, clientSource);
  const stream = c.client.ticks({});
  let ticks = 0;
  let streamError: unknown;
  stream.on('data', () => ticks++);
  stream.on('error', (e: unknown) => (streamError = e));
  const serials = new Set<string>();
  // 2.5 s: the first SVIDs expire meanwhile (lifetime 2 s), the stream must not notice.
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 500));
    serials.add(serverSource.current()!.svid.chain[0].serialNumber);
  }
  expect(serials.size).toBeGreaterThanOrEqual(2);
  expect(streamError).toBeUndefined();
  expect(ticks).toBeGreaterThan(10);
  // A fresh connection now handshakes with a currently valid server SVID: the one current when it
  // started or, should the SVID rotate meanwhile (every second here), the one after.
  const before = serverSource.current()!.svid.chain[0].serialNumber;
  const fresh = dial(target, clientSource);
  await fresh.whoAmI();
  const after = serverSource.current()!.svid.chain[0].serialNumber;
  const presented = fresh.channel!.peer()!.certificate;
  expect([before, after]).toContain(presented.serialNumber);
  expect(new Date(presented.validTo).getTime()).toBeGreaterThan(Date.now());
  stream.cancel();
});

describe('verifyPeerChain', () => {
  test('binds the SPIFFE ID to its own trust domain’s bundle', async () => {
    const leaf = (await other.issue('spiffe://example.org/x')).chain[0];
    const both = new Map([
      ['nsm.local', ca.bundle()],
      ['example.org', other.bundle()],
    ]);
    expect(verifyPeerChain(leaf, [], both)).toBe('spiffe://example.org/x');
    // Swapped bundles: TLS would accept (its issuer is trusted), the binding must not.
    const swapped = new Map([
      ['nsm.local', other.bundle()],
      ['example.org', ca.bundle()],
    ]);
    expect(() => verifyPeerChain(leaf, [], swapped)).toThrow(/does not lead to the bundle of example.org/);
    expect(() => verifyPeerChain(leaf, undefined, swapped)).toThrow(/does not lead to the bundle/);
    expect(() => verifyPeerChain(leaf, [], new Map([['nsm.local', ca.bundle()]]))).toThrow(/trust domain example.org is not trusted/);
    expect(() => verifyPeerChain(ca.certificate, [], both)).toThrow(/is a CA/);
    expect(() => verifyPeerChain(leaf, [], both, { authorize: (id) => id.endsWith('/y') })).toThrow(/not authorized/);
  });
});
