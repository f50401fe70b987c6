import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { registryChain, registryHandler } from '../../core/registry';
import { unregisterOnClose } from './index';

test('unregisters everything registered and not yet unregistered', async () => {
  const gone: string[] = [];
  const el = unregisterOnClose<NetworkServiceEndpoint>();
  const h = registryHandler(registryChain(el, { unregister: async (_c, nse) => void gone.push(nse.name) }));
  const ctx = Context.background();
  for (const name of ['a', 'b', 'c']) await h.register(ctx, NetworkServiceEndpoint.fromPartial({ name }));
  await h.unregister(ctx, NetworkServiceEndpoint.fromPartial({ name: 'b' }));
  expect(el.registered).toEqual(['a', 'c']);
  await el.unregisterAll(h);
  expect(gone.sort()).toEqual(['a', 'b', 'c']);
  expect(el.registered).toEqual([]);
});
