import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { findAll, registryChain, registryHandler } from '../../core/registry';
import { connectTo } from './index';
import { MemoryRegistryStore } from '../store/memory';
import { nseKind } from '../../core/recordkinds';
import { storeElement } from '../store';

test('forwards to the remote registry, created on first use, and continues with its answer', async () => {
  const remoteStore = new MemoryRegistryStore<NetworkServiceEndpoint>('NetworkServiceEndpoint');
  const remote = registryHandler(storeElement(nseKind, remoteStore));
  let made = 0;
  const h = registryHandler(registryChain(connectTo(() => (made++, remote))));
  expect(made).toBe(0);
  const ctx = Context.background();
  const out = await h.register(ctx, NetworkServiceEndpoint.fromPartial({ url: 'tcp://1.2.3.4:1' }));
  expect(out.name).toMatch(/^nse-/);
  expect((await findAll(h, ctx, NetworkServiceEndpoint.fromPartial({}))).map((r) => r.item.name)).toEqual([out.name]);
  await h.unregister(ctx, out);
  expect(await remoteStore.list()).toEqual([]);
  expect(made).toBe(1);
});
