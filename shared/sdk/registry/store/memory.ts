// The default registry store: records in a Map. Watchers are called synchronously, in registration
// order, before put/delete resolve, so a chain that writes and then reads its own watch never races.
// Records are copied on the way in and out, so callers can never mutate what is stored.
import { randomUUID } from 'node:crypto';
import type { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { invalidArgument } from '../../core/errors';
import type { RegistryKind } from '../../core/recordkinds';
import type { RegistryStore, StoreEvent } from './backend';

type Watcher<T> = (ev: StoreEvent<T>) => void;

export class MemoryRegistryStore<T extends { name: string }> implements RegistryStore<T> {
  private readonly items = new Map<string, T>();
  private readonly watchers = new Set<Watcher<T>>();

  constructor(readonly kind: RegistryKind) {}

  /** Open watches, for leak checks in tests. */
  get watcherCount(): number {
    return this.watchers.size;
  }

  async get(name: string): Promise<T | undefined> {
    const v = this.items.get(name);
    return v && structuredClone(v);
  }

  async put(item: T): Promise<T> {
    const stored = structuredClone(item);
    if (!stored.name) {
      // Only endpoints get a name made up for them, as registry-k8s does with generateName "nse-".
      if (this.kind !== 'NetworkServiceEndpoint') throw invalidArgument(`${this.kind} without a name`);
      stored.name = `nse-${randomUUID()}`;
    }
    this.items.set(stored.name, stored);
    this.notify({ type: 'put', item: stored });
    return structuredClone(stored);
  }

  async delete(name: string): Promise<boolean> {
    const last = this.items.get(name);
    if (!last) return false;
    this.items.delete(name);
    this.notify({ type: 'delete', item: last });
    return true;
  }

  async list(): Promise<T[]> {
    return [...this.items.values()].map((v) => structuredClone(v));
  }

  async watch(signal: AbortSignal, onEvent: (ev: StoreEvent<T>) => void): Promise<void> {
    if (signal.aborted) return;
    // A distinct function per watch, so that one consumer watching twice gets two subscriptions.
    const w: Watcher<T> = (ev) => onEvent(ev);
    this.watchers.add(w);
    signal.addEventListener('abort', () => this.watchers.delete(w), { once: true });
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }

  private notify(ev: StoreEvent<T>): void {
    for (const w of [...this.watchers]) {
      try {
        w({ type: ev.type, item: structuredClone(ev.item) });
      } catch {
        // A failing consumer must not fail the writer nor starve the watchers after it.
      }
    }
  }
}

export const memoryNetworkServiceStore = () => new MemoryRegistryStore<NetworkService>('NetworkService');
export const memoryNetworkServiceEndpointStore = () => new MemoryRegistryStore<NetworkServiceEndpoint>('NetworkServiceEndpoint');
