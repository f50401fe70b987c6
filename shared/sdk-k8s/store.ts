// The registry store of cmd-registry-k8s: each record is a NetworkService or NetworkServiceEndpoint
// custom resource in one namespace, the registry message being its `spec` (codec.ts). Writes are
// read-modify-write with the resourceVersion, so that concurrent registries never overwrite each
// other blindly; a 409 means someone else won the race, and we read again.
import { CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import type { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { invalidArgument } from '@nsm/sdk/core/errors';
import type { RegistryKind } from '@nsm/sdk/core/recordkinds';
import type { RegistryStore, StoreEvent } from '@nsm/sdk/registry/store/backend';
import { httpCode, toStatusError } from './api-errors';
import { CrdCodec, GROUP, networkServiceCodec, networkServiceEndpointCodec, VERSION } from './codec';
import { CustomObject, ResumingWatch, WatchSource } from './resuming-watch';

export interface K8sStoreOptions {
  /** Where records are created, read and deleted (REGISTRY_K8S_NAMESPACE); default "default". */
  namespace?: string;
  /** Read-modify-write attempts of one put before it fails; each 409 Conflict costs one. */
  maxAttempts?: number;
  /** First delay before re-opening a failed watch; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** The client objects the store talks through; tests may hand in their own. */
export interface K8sClients {
  api: CustomObjectsApi;
  watch: Watch;
}

const clientsOf = (kc: KubeConfig | K8sClients): K8sClients =>
  kc instanceof KubeConfig ? { api: kc.makeApiClient(CustomObjectsApi), watch: new Watch(kc) } : kc;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class K8sRegistryStore<T extends { name: string }> implements RegistryStore<T> {
  readonly kind: RegistryKind;
  readonly namespace: string;
  private readonly api: CustomObjectsApi;
  private readonly watcher: Watch;
  private readonly maxAttempts: number;
  private readonly backoff: { backoffMs: number; maxBackoffMs: number };
  /** Aborts every watch on close(). */
  private readonly closer = new AbortController();

  constructor(
    private readonly codec: CrdCodec<T>,
    kc: KubeConfig | K8sClients,
    opts: K8sStoreOptions = {},
  ) {
    const clients = clientsOf(kc);
    this.api = clients.api;
    this.watcher = clients.watch;
    this.kind = codec.kind;
    this.namespace = opts.namespace || 'default';
    this.maxAttempts = opts.maxAttempts ?? 20;
    this.backoff = { backoffMs: opts.backoffMs ?? 100, maxBackoffMs: opts.maxBackoffMs ?? 5000 };
  }

  private get where() {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural: this.codec.plural };
  }

  private decode = (obj: CustomObject): T => this.codec.fromSpec(obj.spec, obj.metadata.name);

  private async read(name: string): Promise<CustomObject | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject({ ...this.where, name })) as CustomObject;
    } catch (err) {
      if (httpCode(err) === 404) return undefined;
      throw err;
    }
  }

  private async create(metadata: { name?: string; generateName?: string }, item: T): Promise<CustomObject> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: this.kind, metadata, spec: this.codec.toSpec(item) };
    return (await this.api.createNamespacedCustomObject({ ...this.where, body })) as CustomObject;
  }

  async get(name: string): Promise<T | undefined> {
    if (!name) return undefined;
    try {
      const obj = await this.read(name);
      return obj && this.decode(obj);
    } catch (err) {
      throw toStatusError(err, `get ${this.kind} ${name}`);
    }
  }

  async put(item: T): Promise<T> {
    if (!item.name) {
      if (!this.codec.generatePrefix) throw invalidArgument(`${this.kind} without a name`);
      try {
        return this.decode(await this.create({ generateName: this.codec.generatePrefix }, item));
      } catch (err) {
        throw toStatusError(err, `put ${this.kind}`);
      }
    }
    for (let attempt = 1; ; attempt++) {
      let replacing = false;
      try {
        const current = await this.read(item.name);
        if (!current) return this.decode(await this.create({ name: item.name }, item));
        // Only the spec is ours; labels and annotations someone put on the resource stay.
        const body = { ...current, spec: this.codec.toSpec(item) };
        replacing = true;
        return this.decode((await this.api.replaceNamespacedCustomObject({ ...this.where, name: item.name, body })) as CustomObject);
      } catch (err) {
        // 409: created or changed by someone else since our read; 404 on replace: deleted since our
        // read. (A 404 on create means a missing namespace, which no retry cures.)
        const code = httpCode(err);
        if ((code === 409 || (code === 404 && replacing)) && attempt < this.maxAttempts) {
          await pause(Math.random() * 5 * attempt);
          continue;
        }
        throw toStatusError(err, `put ${this.kind} ${item.name}`);
      }
    }
  }

  async delete(name: string): Promise<boolean> {
    if (!name) return false;
    try {
      await this.api.deleteNamespacedCustomObject({ ...this.where, name });
      return true;
    } catch (err) {
      if (httpCode(err) === 404) return false;
      throw toStatusError(err, `delete ${this.kind} ${name}`);
    }
  }

  private async listRaw(): Promise<{ items: CustomObject[]; resourceVersion: string }> {
    const res = (await this.api.listNamespacedCustomObject(this.where)) as { items?: CustomObject[]; metadata?: { resourceVersion?: string } };
    return { items: res.items ?? [], resourceVersion: res.metadata?.resourceVersion ?? '' };
  }

  async list(): Promise<T[]> {
    try {
      return (await this.listRaw()).items.map(this.decode);
    } catch (err) {
      throw toStatusError(err, `list ${this.kind}`);
    }
  }

  async watch(signal: AbortSignal, onEvent: (ev: StoreEvent<T>) => void): Promise<void> {
    const merged = AbortSignal.any([signal, this.closer.signal]);
    if (merged.aborted) return;
    const w = this.where;
    const src: WatchSource = {
      list: () => this.listRaw(),
      open: (resourceVersion, cb, done) =>
        this.watcher.watch(
          `/apis/${w.group}/${w.version}/namespaces/${encodeURIComponent(w.namespace)}/${w.plural}`,
          { resourceVersion, allowWatchBookmarks: true },
          (type: string, obj: unknown) => cb(type, obj as CustomObject),
          done,
        ),
    };
    try {
      await new ResumingWatch(src, this.decode, merged, onEvent, this.backoff).start();
    } catch (err) {
      throw toStatusError(err, `watch ${this.kind}`);
    }
  }

  async close(): Promise<void> {
    this.closer.abort();
  }
}

export const k8sNetworkServiceStore = (kc: KubeConfig | K8sClients, opts?: K8sStoreOptions) =>
  new K8sRegistryStore<NetworkService>(networkServiceCodec, kc, opts);

export const k8sNetworkServiceEndpointStore = (kc: KubeConfig | K8sClients, opts?: K8sStoreOptions) =>
  new K8sRegistryStore<NetworkServiceEndpoint>(networkServiceEndpointCodec, kc, opts);
