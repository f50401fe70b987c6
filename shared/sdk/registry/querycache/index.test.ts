import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { findAll, FindQuery, FindSink, registryHandler, RegistryHandler } from '../../core/registry';
import { nseKind } from '../../core/recordkinds';
import { storeElement } from '../store';
import { MemoryRegistryStore } from '../store/memory';
import { queryCache } from './index';

const ctx = Context.background();
const nse = (name: string, service = 'svc') => NetworkServiceEndpoint.fromPartial({ name, url: `unix:///${name}.sock`, networkServiceNames: [service] });
const byService = (service: string) => NetworkServiceEndpoint.fromPartial({ networkServiceNames: [service] });
const names = async (h: RegistryHandler<NetworkServiceEndpoint>, service = 'svc') => (await findAll(h, ctx, byService(service))).map((r) => r.item.name).sort();
const until = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(f()).toBe(true);
};

/** A registry (a memory store) that counts the plain Finds reaching it and can end its watches. */
function registry() {
  const store = storeElement(nseKind, new MemoryRegistryStore<NetworkServiceEndpoint>('NetworkServiceEndpoint'));
  const inner = registryHandler(store);
  const counts = { plain: 0, watch: 0 };
  const remote: RegistryHandler<NetworkServiceEndpoint> = {
    register: (c, item) => inner.register(c, item),
    unregister: (c, item) => inner.unregister(c, item),
    find: (c, q: FindQuery<NetworkServiceEndpoint>, sink: FindSink<NetworkServiceEndpoint>) => {
      counts[q.watch ? 'watch' : 'plain']++;
      return inner.find(c, q, sink);
    },
  };
  return { remote, counts, store };
}

test('the first Find goes through; later ones of that query are answered from memory, kept current by a watch', async () => {
  const { remote, counts } = registry();
  const cache = queryCache<NetworkServiceEndpoint>();
  const h = registryHandler(cache, remote);
  try {
    await remote.register(ctx, nse('a'));
    expect(await names(h)).toEqual(['a']);
    expect(counts).toEqual({ plain: 1, watch: 1 });
    expect(await names(h)).toEqual(['a']);
    expect(counts.plain).toBe(1);
    // A registration and a deletion reach the entry through its watch.
    await remote.register(ctx, nse('b'));
    await new Promise((r) => setTimeout(r, 20));
    expect(await names(h)).toEqual(['a', 'b']);
    await remote.unregister(ctx, nse('a'));
    await new Promise((r) => setTimeout(r, 20));
    expect(await names(h)).toEqual(['b']);
    expect(counts.plain).toBe(1);
    // Another query is another entry.
    expect(await names(h, 'other')).toEqual([]);
    expect(counts.plain).toBe(2);
  } finally {
    cache.close();
  }
});

test('an entry with no record is not trusted: the Find goes through (a registration is never missed)', async () => {
  const { remote, counts } = registry();
  const cache = queryCache<NetworkServiceEndpoint>();
  const h = registryHandler(cache, remote);
  try {
    expect(await names(h)).toEqual([]);
    expect(await names(h)).toEqual([]);
    expect(counts.plain).toBe(2);
    expect(counts.watch).toBe(1);
  } finally {
    cache.close();
  }
});

test('an entry ends with its watch (the registry went away), and the next Find goes through again', async () => {
  const { remote, counts, store } = registry();
  const cache = queryCache<NetworkServiceEndpoint>();
  const h = registryHandler(cache, remote);
  try {
    await remote.register(ctx, nse('a'));
    await names(h);
    expect(cache.size).toBe(1);
    store.close(); // ends every watch
    await until(() => cache.size === 0);
    expect(await names(h)).toEqual(['a']);
    expect(counts.plain).toBe(2);
  } finally {
    cache.close();
  }
});

test('an entry unused for idleMs is dropped with its watch', async () => {
  const { remote } = registry();
  const cache = queryCache<NetworkServiceEndpoint>({ idleMs: 100 });
  const h = registryHandler(cache, remote);
  try {
    await remote.register(ctx, nse('a'));
    await names(h);
    expect(cache.size).toBe(1);
    // The sweep runs every max(1 s, idleMs / 2).
    await new Promise((r) => setTimeout(r, 1300));
    expect(cache.size).toBe(0);
  } finally {
    cache.close();
  }
});
