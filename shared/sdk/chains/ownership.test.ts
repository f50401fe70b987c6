// Ownership end to end over real gRPC and mutual TLS: endpoints register through their nsmgr to a
// central registry; a second endpoint (another SVID) cannot refresh, replace or unregister the
// first's record, neither at the nsmgr nor by dialling the central registry itself, and a registry
// that restarts on a persistent store keeps the owner.
import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../core/context';
import { Code } from '../core/errors';
import { findAll } from '../core/registry';
import { nsmgrRegistry, NsmgrRegistry, registryServer, RegistryServer } from './registry';
import { nseRegistryClient } from '../grpc/registry';
import { startServer, StartedServer } from '../grpc/server';
import { tempDir } from '../testing';
import { testIdentities, TestIdentities } from '../testing/identity';
import { endpoint } from '../testing/registry.suite';
import { memoryNetworkServiceEndpointStore, memoryNetworkServiceStore } from '../registry/store/memory';

const ctx = Context.background();
const byName = (name: string) => NetworkServiceEndpoint.fromPartial({ name });
const denied = (msg: RegExp) => expect.objectContaining({ code: Code.PERMISSION_DENIED, message: expect.stringMatching(msg) });

describe('NSE ownership', () => {
  const tmp = tempDir('nsm-owner-');
  const stores = { ns: memoryNetworkServiceStore(), nse: memoryNetworkServiceEndpointStore() };
  let ids: TestIdentities;
  let central: RegistryServer;
  let centralServer: StartedServer;
  let mgr: NsmgrRegistry;
  let mgrServer: StartedServer;
  const centralUrl = () => `unix://${tmp.dir}/central.sock`;

  const startCentral = async () => {
    // The same stores across restarts: what the Kubernetes store is to a restarted registry.
    central = registryServer({ stores: () => stores });
    centralServer = await startServer([centralUrl()], central.services(), { source: ids.registry.source });
  };

  beforeAll(async () => {
    ids = await testIdentities();
    await startCentral();
    mgr = nsmgrRegistry({ nsmgrUrl: 'tcp://10.0.0.1:5001', registryUrl: centralUrl(), source: ids.nsmgr.source, env: {} });
    mgrServer = await startServer([`unix://${tmp.dir}/nsmgr.sock`], mgr.services(), { source: ids.nsmgr.source });
  });
  afterAll(async () => {
    await mgrServer.stop(200);
    await mgr.close();
    await centralServer.stop(200);
    tmp.cleanup();
  });

  test('the first NSE owns its name; a second one cannot overwrite or unregister it, at the nsmgr or at the central registry', async () => {
    const first = nseRegistryClient(mgrServer.urls[0], ids.nse.source);
    const second = nseRegistryClient(mgrServer.urls[0], ids.otherNse.source);
    const direct = nseRegistryClient(centralUrl(), ids.otherNse.source);
    try {
      const out = await first.register(ctx, endpoint('nse-1', ['svc'], { url: 'unix:///nse-1.sock' }));
      expect(out.pathIds).toEqual([ids.nse.id]);
      // The central registry knows the registrant and the nsmgr that relayed it.
      const [atCentral] = await findAll(central.nse, ctx, byName('nse-1'));
      expect(atCentral.item.pathIds).toEqual([ids.nse.id, ids.nsmgr.id]);

      const belongs = new RegExp(`belongs to ${ids.nse.id}.*${ids.otherNse.id}`);
      await expect(second.register(ctx, endpoint('nse-1', ['evil'], { url: 'unix:///evil.sock' }))).rejects.toEqual(denied(belongs));
      await expect(second.unregister(ctx, byName('nse-1'))).rejects.toEqual(denied(belongs));
      // Straight to the central registry: as itself, or claiming to relay for the owner.
      await expect(direct.unregister(ctx, byName('nse-1'))).rejects.toEqual(denied(belongs));
      await expect(direct.unregister(ctx, { ...byName('nse-1'), pathIds: [ids.nse.id, ids.otherNse.id] })).rejects.toEqual(denied(/belongs to/));
      // Or naming the owner's relay, which it is not.
      await expect(direct.unregister(ctx, { ...byName('nse-1'), pathIds: [ids.nse.id, ids.nsmgr.id] })).rejects.toEqual(denied(/path_ids ends with .*nsmgr, but the caller is .*other-nse/));
      expect((await findAll(central.nse, ctx, byName('nse-1')))[0].item.url).toBe('tcp://10.0.0.1:5001');
      expect((await findAll(mgr.localNse, ctx, byName('nse-1')))[0].item.url).toBe('unix:///nse-1.sock');

      // The owner refreshes and unregisters.
      await first.register(ctx, out);
      await first.unregister(ctx, out);
      expect(await findAll(central.nse, ctx, byName('nse-1'))).toEqual([]);
      expect(await findAll(mgr.localNse, ctx, byName('nse-1'))).toEqual([]);
    } finally {
      first.close();
      second.close();
      direct.close();
    }
  });

  test('a registry restarted on a persistent store keeps the owner (upstream api#148)', async () => {
    const owner = nseRegistryClient(centralUrl(), ids.nse.source);
    await owner.register(ctx, endpoint('nse-kept', ['svc'], { url: 'tcp://10.0.0.9:5001' }));
    owner.close();
    await centralServer.stop(0);
    await central.close();
    await startCentral();
    const rogue = nseRegistryClient(centralUrl(), ids.otherNse.source);
    const again = nseRegistryClient(centralUrl(), ids.nse.source);
    try {
      await expect(rogue.register(ctx, endpoint('nse-kept', ['svc'], { url: 'tcp://10.6.6.6:5001' }))).rejects.toEqual(denied(/belongs to/));
      await again.unregister(ctx, byName('nse-kept'));
    } finally {
      rogue.close();
      again.close();
    }
  });
});
