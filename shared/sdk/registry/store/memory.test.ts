import { MemoryRegistryStore, memoryNetworkServiceEndpointStore, memoryNetworkServiceStore } from './memory';
import { describeRegistryStore, sampleService } from '../../testing/store.suite';

describeRegistryStore('memory', async () => {
  const ns = memoryNetworkServiceStore();
  const nse = memoryNetworkServiceEndpointStore();
  return { ns, nse, cleanup: async () => undefined, activeWatches: () => ns.watcherCount + nse.watcherCount };
});

describe('MemoryRegistryStore', () => {
  it('notifies watchers synchronously, in order, before put resolves', async () => {
    const store = new MemoryRegistryStore('NetworkService');
    const seen: string[] = [];
    const ac = new AbortController();
    await store.watch(ac.signal, (ev) => seen.push(`a:${ev.type}:${ev.item.name}`));
    await store.watch(ac.signal, (ev) => seen.push(`b:${ev.type}:${ev.item.name}`));
    const pending = store.put(sampleService('x'));
    expect(seen).toEqual(['a:put:x', 'b:put:x']);
    await pending;
    void store.delete('x');
    expect(seen.slice(2)).toEqual(['a:delete:x', 'b:delete:x']);
    ac.abort();
  });

  it('keeps notifying the others when one watcher throws', async () => {
    const store = new MemoryRegistryStore('NetworkService');
    const seen: string[] = [];
    const ac = new AbortController();
    await store.watch(ac.signal, () => {
      throw new Error('boom');
    });
    await store.watch(ac.signal, (ev) => seen.push(ev.item.name));
    await expect(store.put(sampleService('y'))).resolves.toBeDefined();
    expect(seen).toEqual(['y']);
    ac.abort();
  });
});
