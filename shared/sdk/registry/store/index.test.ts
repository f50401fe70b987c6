import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { Code } from '../../core/errors';
import { findAll, FindResult, registryChain, registryHandler } from '../../core/registry';
import { nsKind, nseKind } from '../../core/recordkinds';
import { MemoryRegistryStore } from './memory';
import { storeElement } from './index';

const ctx = Context.background();
const flush = () => new Promise((r) => setImmediate(r));

test('register stores what the rest of the chain returned; unregister deletes and emits for NS too', async () => {
  const store = new MemoryRegistryStore<NetworkService>('NetworkService');
  const el = storeElement(nsKind, store);
  const h = registryHandler(registryChain(el, { register: async (_c, ns) => ({ ...ns, payload: 'ETHERNET' }) }));
  const { ctx: wctx, cancel } = ctx.withCancel();
  const seen: FindResult<NetworkService>[] = [];
  const done = h.find(wctx, { item: NetworkService.fromPartial({}), watch: true }, (r) => void seen.push(r));
  await flush();
  await h.register(ctx, NetworkService.fromPartial({ name: 's' }));
  expect((await store.get('s'))?.payload).toBe('ETHERNET');
  await h.unregister(ctx, NetworkService.fromPartial({ name: 's' }));
  await flush();
  expect(seen.map((r) => [r.item.name, r.deleted])).toEqual([
    ['s', false],
    ['s', true],
  ]);
  cancel();
  await done;
  expect(el.watchers).toBe(0);
  expect(store.watcherCount).toBe(0);
});

test('non-watch Find: local matches sorted by name, then what the rest of the chain finds', async () => {
  const store = new MemoryRegistryStore<NetworkServiceEndpoint>('NetworkServiceEndpoint');
  for (const name of ['b', 'a', 'c']) await store.put(NetworkServiceEndpoint.fromPartial({ name, networkServiceNames: [name === 'c' ? 'y' : 'x'] }));
  const remote = NetworkServiceEndpoint.fromPartial({ name: 'remote' });
  const h = registryHandler(
    registryChain(storeElement(nseKind, store), { find: async (_c, _q, sink) => void (await sink({ item: remote, deleted: false })) }),
  );
  const got = await findAll(h, ctx, NetworkServiceEndpoint.fromPartial({ networkServiceNames: ['x'] }));
  expect(got.map((r) => r.item.name)).toEqual(['a', 'b', 'remote']);
});

test('one store watch serves all watchers; a slow watcher that falls too far behind is cut off', async () => {
  const store = new MemoryRegistryStore<NetworkServiceEndpoint>('NetworkServiceEndpoint');
  const el = storeElement(nseKind, store, { maxBacklog: 3 });
  const h = registryHandler(el);
  const { ctx: wctx, cancel } = ctx.withCancel();
  const fast: string[] = [];
  const f1 = h.find(wctx, { item: NetworkServiceEndpoint.fromPartial({}), watch: true }, (r) => void fast.push(r.item.name));
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  const slow = h.find(wctx, { item: NetworkServiceEndpoint.fromPartial({}), watch: true }, () => blocked);
  await flush();
  expect(el.watchers).toBe(2);
  expect(store.watcherCount).toBe(1);
  for (let i = 0; i < 6; i++) await store.put(NetworkServiceEndpoint.fromPartial({ name: `n${i}` }));
  release();
  await expect(slow).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
  await flush();
  expect(fast).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5']);
  cancel();
  await f1;
  expect(el.watchers).toBe(0);
  expect(el.storeWatchOpen).toBe(false);
  expect(store.watcherCount).toBe(0);
});

test('close() ends watches', async () => {
  const el = storeElement(nseKind, new MemoryRegistryStore<NetworkServiceEndpoint>('NetworkServiceEndpoint'));
  const done = registryHandler(el).find(ctx, { item: NetworkServiceEndpoint.fromPartial({}), watch: true }, () => undefined);
  await flush();
  el.close();
  await expect(done).resolves.toBeUndefined();
  expect(el.watchers).toBe(0);
});
