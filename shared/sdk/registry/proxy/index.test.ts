import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { findAll, registryChain, registryHandler } from '../../core/registry';
import { nsKind, nseKind } from '../../core/recordkinds';
import { storeElement } from '../store';
import { MemoryRegistryStore } from '../store/memory';
import { nseIsInterdomain, nsIsInterdomain, proxy } from './index';

const ctx = Context.background();

function setup<T extends { name: string }>(kind: typeof nsKind | typeof nseKind, test: typeof nsIsInterdomain | typeof nseIsInterdomain) {
  const remote = new MemoryRegistryStore<T>(kind === nsKind ? 'NetworkService' : 'NetworkServiceEndpoint');
  let made = 0;
  const h = registryHandler(registryChain(proxy(test as never, () => (made++, registryHandler(storeElement(kind as never, remote as never))))));
  return { remote, h: h as unknown as ReturnType<typeof registryHandler<T>>, made: () => made };
}

test('NS: only interdomain names reach the proxy registry; the rest is answered with nothing', async () => {
  const s = setup<NetworkService>(nsKind, nsIsInterdomain);
  expect(await s.h.register(ctx, NetworkService.fromPartial({ name: 'local' }))).toEqual(NetworkService.fromPartial({ name: 'local' }));
  expect(await findAll(s.h, ctx, NetworkService.fromPartial({ name: 'local' }))).toEqual([]);
  expect(s.made()).toBe(0);
  await s.h.register(ctx, NetworkService.fromPartial({ name: 'svc@d2.example' }));
  expect((await s.remote.list()).map((n) => n.name)).toEqual(['svc@d2.example']);
  expect((await findAll(s.h, ctx, NetworkService.fromPartial({ name: 'svc@d2.example' }))).map((f) => f.item.name)).toEqual(['svc@d2.example']);
  await s.h.unregister(ctx, NetworkService.fromPartial({ name: 'svc@d2.example' }));
  expect(await s.remote.list()).toEqual([]);
  expect(s.made()).toBe(1);
});

test('NSE: Register by name; Find also by a queried service name', async () => {
  const s = setup<NetworkServiceEndpoint>(nseKind, nseIsInterdomain);
  const local = NetworkServiceEndpoint.fromPartial({ name: 'nse', url: 'tcp://1.2.3.4:5', networkServiceNames: ['svc@d2.example'] });
  await s.h.register(ctx, local);
  expect(await s.remote.list()).toEqual([]);
  await s.h.register(ctx, { ...local, name: 'nse@d2.example' });
  expect((await findAll(s.h, ctx, NetworkServiceEndpoint.fromPartial({ networkServiceNames: ['svc@d2.example'] }))).map((f) => f.item.name)).toEqual(['nse@d2.example']);
  expect(await findAll(s.h, ctx, NetworkServiceEndpoint.fromPartial({ networkServiceNames: ['svc'] }))).toEqual([]);
});
