import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { Code, notFound } from '../../core/errors';
import { findAll, registryChain, registryHandler, RegistryHandler } from '../../core/registry';
import { nsKind, nseKind } from '../../core/recordkinds';
import { connectUrl } from '../connecturl';
import { storeElement } from '../store';
import { MemoryRegistryStore } from '../store/memory';
import { dnsResolveNs, dnsResolveNse } from './index';
import type { DomainResolver } from './resolver';

// What DNS knows: cluster2 has a registry and an nsmgr-proxy, the floating domain a registry only.
const records: Record<string, string> = {
  'registry.nsm-system.cluster2.example': 'tcp://10.2.0.1:5002',
  'nsmgr-proxy.nsm-system.cluster2.example': 'tcp://10.2.0.1:5004',
  'registry.nsm-system.floating.example': 'tcp://10.3.0.1:5002',
};
const resolver: DomainResolver = {
  resolve: async (service, domain) => {
    const url = records[`${service}.${domain}`];
    if (!url) throw notFound(`cannot resolve domain "${domain}": no SRV record _${service}._tcp.${domain}`);
    return url;
  },
};

function registries() {
  const stores = new Map<string, MemoryRegistryStore<NetworkServiceEndpoint>>();
  const nsStores = new Map<string, MemoryRegistryStore<NetworkService>>();
  const nseAt = (url: string) => {
    if (!stores.has(url)) stores.set(url, new MemoryRegistryStore<NetworkServiceEndpoint>('NetworkServiceEndpoint'));
    return Object.assign(registryHandler(storeElement(nseKind, stores.get(url)!)) as RegistryHandler<NetworkServiceEndpoint>, { close() {} });
  };
  const nsAt = (url: string) => {
    if (!nsStores.has(url)) nsStores.set(url, new MemoryRegistryStore<NetworkService>('NetworkService'));
    return Object.assign(registryHandler(storeElement(nsKind, nsStores.get(url)!)) as RegistryHandler<NetworkService>, { close() {} });
  };
  return {
    stores,
    nsStores,
    nse: registryHandler(registryChain(dnsResolveNse({ resolver }), connectUrl(nseAt))),
    ns: registryHandler(registryChain(dnsResolveNs({ resolver }), connectUrl(nsAt))),
  };
}

const ctx = Context.background();

test('a registration goes to its domain\'s registry under the bare names, and comes back with the domain', async () => {
  const r = registries();
  const out = await r.nse.register(
    ctx,
    NetworkServiceEndpoint.fromPartial({
      name: 'icmp-server@floating.example',
      url: 'tcp://192.0.2.4:5004',
      networkServiceNames: ['icmp-responder@floating.example'],
      networkServiceLabels: { 'icmp-responder@floating.example': { labels: { app: 'x' } } },
    }),
  );
  expect(out.name).toBe('icmp-server@floating.example');
  expect(out.networkServiceNames).toEqual(['icmp-responder@floating.example']);
  const kept = await r.stores.get('tcp://10.3.0.1:5002')!.list();
  expect(kept.map((n) => [n.name, n.networkServiceNames, Object.keys(n.networkServiceLabels ?? {}), n.url])).toEqual([
    ['icmp-server', ['icmp-responder'], ['icmp-responder'], 'tcp://192.0.2.4:5004'],
  ]);
  await r.nse.unregister(ctx, out);
  expect(await r.stores.get('tcp://10.3.0.1:5002')!.list()).toEqual([]);
});

test('Find results get the domain back and the other domain\'s nsmgr-proxy as their URL (none for a floating domain)', async () => {
  const r = registries();
  await r.nse.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'nse-a@cluster2.example', url: 'tcp://10.2.0.11:5001', networkServiceNames: ['icmp-responder@cluster2.example'] }));
  await r.nse.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'nse-f@floating.example', url: 'tcp://192.0.2.4:5004', networkServiceNames: ['svc@floating.example'] }));
  const found = await findAll(r.nse, ctx, NetworkServiceEndpoint.fromPartial({ networkServiceNames: ['icmp-responder@cluster2.example'] }));
  expect(found.map((f) => [f.item.name, f.item.networkServiceNames, f.item.url])).toEqual([['nse-a@cluster2.example', ['icmp-responder@cluster2.example'], 'tcp://10.2.0.1:5004']]);
  const floating = await findAll(r.nse, ctx, NetworkServiceEndpoint.fromPartial({ name: 'nse-f@floating.example' }));
  expect(floating.map((f) => [f.item.name, f.item.url])).toEqual([['nse-f@floating.example', 'tcp://192.0.2.4:5004']]);
});

test('NetworkServices: the bare name there, the full name here', async () => {
  const r = registries();
  expect((await r.ns.register(ctx, NetworkService.fromPartial({ name: 'svc@cluster2.example', payload: 'ETHERNET' }))).name).toBe('svc@cluster2.example');
  expect((await r.nsStores.get('tcp://10.2.0.1:5002')!.list()).map((n) => n.name)).toEqual(['svc']);
  expect((await findAll(r.ns, ctx, NetworkService.fromPartial({ name: 'svc@cluster2.example' }))).map((f) => f.item.name)).toEqual(['svc@cluster2.example']);
});

test.each([
  ['an NS without a domain', (r: ReturnType<typeof registries>) => findAll(r.ns, ctx, NetworkService.fromPartial({ name: 'svc' })), Code.INVALID_ARGUMENT, /domain cannot be empty/],
  ['an NSE without a domain', (r: ReturnType<typeof registries>) => r.nse.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'n', url: 'tcp://1.2.3.4:5' })), Code.INVALID_ARGUMENT, /domain cannot be empty/],
  ['a domain DNS cannot resolve', (r: ReturnType<typeof registries>) => r.nse.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'n@nowhere.example', url: 'tcp://1.2.3.4:5' })), Code.NOT_FOUND, /cannot resolve domain "nowhere.example"/],
  ['a domain that is no DNS name', (r: ReturnType<typeof registries>) => r.nse.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'n@a_b!', url: 'tcp://1.2.3.4:5' })), Code.INVALID_ARGUMENT, /network_service_endpoint\.name/],
])('%s is refused clearly', async (_what, call, code, message) => {
  await expect(call(registries())).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
});
