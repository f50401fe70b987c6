import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { FakeClock } from '../core/clock';
import { fromTimestamp } from '../core/conn';
import { Context } from '../core/context';
import { findAll } from '../core/registry';
import { startServer, StartedServer } from '../grpc/server';
import { tempDir } from '../testing';
import { nsmgrRegistry, registrationClient, registryServer, RegistryServer } from './registry';
import { nseRegistryClient, nsRegistryClient } from '../grpc/registry';
import { endpoint, eventually, watch } from '../testing/registry.suite';

const ctx = Context.background();
const byName = (name: string) => NetworkServiceEndpoint.fromPartial({ name });

describe('nsmgr registry chains', () => {
  const tmp = tempDir('nsm-nsmgr-reg-');
  let central: RegistryServer;
  let centralServer: StartedServer;
  beforeAll(async () => {
    central = registryServer();
    centralServer = await startServer([`unix://${tmp.dir}/central.sock`], central.services());
  });
  afterAll(async () => {
    await central.close();
    await centralServer.stop(500);
    tmp.cleanup();
  });

  test('local NSEs keep their real URL locally and are forwarded upstream with the nsmgr URL', async () => {
    const nsmgrUrl = 'tcp://10.0.0.1:5001';
    const reg = nsmgrRegistry({ nsmgrUrl, registryUrl: centralServer.urls[0], env: { NODE_NAME: 'node-1', POD_NAME: 'nsmgr-x' } });
    const server = await startServer([`unix://${tmp.dir}/nsmgr.sock`], reg.services());
    const nse = nseRegistryClient(server.urls[0]);
    const ns = nsRegistryClient(server.urls[0]);
    const upstream = nseRegistryClient(centralServer.urls[0]);
    try {
      const real = `unix://${tmp.dir}/nse.sock`;
      const out = await nse.register(
        ctx,
        endpoint('nse-local', ['svc'], { url: real, networkServiceLabels: { svc: { labels: { app: 'a', nodeName: 'mine' } } } }),
      );
      expect(out.url).toBe(real);
      // clientinfo added pod and node without overwriting the NSE's own nodeName.
      expect(out.networkServiceLabels.svc.labels).toEqual({ app: 'a', nodeName: 'mine', podName: 'nsmgr-x' });

      const centralView = await findAll(upstream, ctx, byName('nse-local'));
      expect(centralView.map((r) => r.item.url)).toEqual([nsmgrUrl]);
      const local = await findAll(reg.localNse, ctx, byName('nse-local'));
      expect(local.map((r) => r.item.url)).toEqual([real]);
      // Through the nsmgr: the local record, then the central one mapped back to the real URL.
      const viaNsmgr = await findAll(nse, ctx, byName('nse-local'));
      expect(viaNsmgr.map((r) => r.item.url)).toEqual([real, real]);

      // A record at the central registry that points at this nsmgr but is not local is stale: dropped.
      await upstream.register(ctx, endpoint('nse-stale', ['svc'], { url: nsmgrUrl }));
      expect(await findAll(nse, ctx, byName('nse-stale'))).toEqual([]);
      await upstream.unregister(ctx, byName('nse-stale'));

      // NetworkServices are not stored at the nsmgr when there is a central registry.
      await ns.register(ctx, NetworkService.fromPartial({ name: 'svc' }));
      expect((await findAll(nsRegistryClient(centralServer.urls[0]), ctx, NetworkService.fromPartial({ name: 'svc' }))).length).toBe(1);
      expect(reg.nsStore).toBeUndefined();

      await nse.unregister(ctx, byName('nse-local'));
      expect(await findAll(upstream, ctx, byName('nse-local'))).toEqual([]);
      expect(await findAll(reg.localNse, ctx, byName('nse-local'))).toEqual([]);
    } finally {
      nse.close();
      ns.close();
      upstream.close();
      await reg.close();
      await server.stop(500);
    }
  });

  test('without a registry URL the nsmgr registry is purely local and expires NSEs itself', async () => {
    const clock = new FakeClock(Date.now());
    const reg = nsmgrRegistry({ nsmgrUrl: 'tcp://10.0.0.2:5001', expiryMs: 60_000, clock, env: {} });
    const out = await reg.nse.register(ctx, endpoint('fwd-1', ['forwarder'], { url: 'unix:///fwd.sock' }));
    expect(out.url).toBe('unix:///fwd.sock');
    expect(fromTimestamp(out.expirationTime)).toBe(clock.now() + 60_000);
    await reg.ns.register(ctx, NetworkService.fromPartial({ name: 'svc-local' }));
    expect((await findAll(reg.ns, ctx, NetworkService.fromPartial({ name: 'svc-local' }))).length).toBe(1);
    expect((await findAll(reg.localNse, ctx, NetworkServiceEndpoint.fromPartial({ networkServiceNames: ['forwarder'] }))).length).toBe(1);
    await clock.advance(60_001);
    await eventually('expiry', async () => (await findAll(reg.localNse, ctx, byName('fwd-1'))).length === 0);
    await reg.close();
  });
});

describe('registration client', () => {
  const tmp = tempDir('nsm-regclient-');
  afterAll(() => tmp.cleanup());

  test('refresh keeps a registration alive past many expiry periods', async () => {
    const clock = new FakeClock(Date.now());
    const reg = registryServer({ expiryMs: 3000, clock });
    const server = await startServer([`unix://${tmp.dir}/refresh.sock`], reg.services());
    const client = registrationClient({ url: server.urls[0], clock });
    const w = watch(nseRegistryClient(server.urls[0]), byName('nse-kept'));
    try {
      const first = await client.nse.register(ctx, endpoint('nse-kept', ['svc']));
      let expires = fromTimestamp(first.expirationTime)!;
      for (let i = 0; i < 10; i++) {
        await clock.advance(2001); // 2/3 of 3 s: the refresh fires, over real gRPC
        await eventually('refresh', async () => {
          const [r] = await findAll(reg.nse, ctx, byName('nse-kept'));
          return !!r && fromTimestamp(r.item.expirationTime)! > expires;
        });
        const [r] = await findAll(reg.nse, ctx, byName('nse-kept'));
        expires = fromTimestamp(r.item.expirationTime)!;
      }
      expect(w.seen.filter((r) => r.deleted)).toEqual([]);
      expect(client.refresh.tasks).toBe(1);
      await client.close();
      await eventually('unregistered on close', async () => (await findAll(reg.nse, ctx, byName('nse-kept'))).length === 0);
      expect(client.refresh.tasks).toBe(0);
    } finally {
      await w.stop();
      await client.close();
      await reg.close();
      await server.stop(500);
    }
  });

  test('a failed refresh is retried, and a restarted registry gets the registrations back', async () => {
    const url = `unix://${tmp.dir}/restart.sock`;
    const clock = new FakeClock(Date.now());
    let reg = registryServer({ expiryMs: 3000, clock });
    let server = await startServer([url], reg.services());
    const client = registrationClient({ url, clock, healRetryMs: 50 });
    try {
      await client.nse.register(ctx, endpoint('nse-heal', ['svc']));
      await client.ns.register(ctx, NetworkService.fromPartial({ name: 'svc-heal' }));
      await eventually('liveness watch', () => client.heal.nse.monitoring && reg.nseStore.streaming === 1);

      // The registry goes away: its data is lost and the refresh fails.
      server.server.forceShutdown();
      await reg.close();
      await clock.advance(2001);
      await eventually('heal noticed', () => client.heal.nse.healing === 1);

      reg = registryServer({ expiryMs: 3000, clock });
      server = await startServer([url], reg.services());
      await eventually(
        'healed',
        async () => (await findAll(reg.nse, ctx, byName('nse-heal'))).length === 1 && (await findAll(reg.ns, ctx, NetworkService.fromPartial({ name: 'svc-heal' }))).length === 1,
      );
      // Refreshing carries on against the new registry.
      for (let i = 0; i < 3; i++) await clock.advance(2001);
      await new Promise((r) => setTimeout(r, 100));
      expect((await findAll(reg.nse, ctx, byName('nse-heal'))).length).toBe(1);
      await client.close();
      await eventually('unregistered on close', async () => (await findAll(reg.nse, ctx, byName('nse-heal'))).length === 0);
      // NetworkServices stay unless asked otherwise.
      expect((await findAll(reg.ns, ctx, NetworkService.fromPartial({ name: 'svc-heal' }))).length).toBe(1);
    } finally {
      await client.close();
      await reg.close();
      await server.stop(500);
    }
  });
});
