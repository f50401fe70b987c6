// Where a registry keeps its records. The store element (index.ts) talks to this interface only; the
// memory store (memory.ts) and the Kubernetes custom-resource store (shared/sdk-k8s) both implement it
// and both pass the same conformance suite (shared/sdk/testing/store.suite.ts).
import type { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import type { RegistryKind } from '../../core/recordkinds';

export interface StoreEvent<T> {
  type: 'put' | 'delete';
  /** For 'delete', the last known record. */
  item: T;
}

export interface RegistryStore<T extends { name: string }> {
  readonly kind: RegistryKind;
  get(name: string): Promise<T | undefined>;
  /**
   * Creates or replaces the record under item.name and returns it as stored. An empty name gets a
   * generated one (`nse-<random>` for endpoints, as registry-k8s does). Concurrent writers are
   * resolved inside the store (a Kubernetes 409 conflict is retried).
   */
  put(item: T): Promise<T>;
  /** Removes the record; false when there was none. */
  delete(name: string): Promise<boolean>;
  list(): Promise<T[]>;
  /**
   * Calls `onEvent` for every later change until `signal` aborts. Resolves once the watch is
   * established, so that a change made after it resolves is always seen. A store whose backend drops
   * the stream resumes it on its own without losing or duplicating deletions.
   */
  watch(signal: AbortSignal, onEvent: (ev: StoreEvent<T>) => void): Promise<void>;
  close?(): Promise<void>;
}

export type NetworkServiceStore = RegistryStore<NetworkService>;
export type NetworkServiceEndpointStore = RegistryStore<NetworkServiceEndpoint>;
