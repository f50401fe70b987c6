// The local runtime's pods as Kubernetes Pod objects: one resourceVersion counter, a bounded event
// history for watches that resume (older versions get 410 Expired, as after etcd compaction), label
// and field selectors. The mesh writes status here as its processes start and exit; the pod API
// (apiserver.ts) reads and watches it. Pod names are unique across namespaces here: they name the
// pods' network namespaces.
import { randomUUID } from 'node:crypto';
import { expired, KubeError, rfc3339, status, Status } from '@nsm/sdk-k8s/api-status';
import { matchFields, matchLabels, Selector } from './selectors';
import type { Pod } from './types';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type WatchEvent = { type: EventType | 'BOOKMARK'; object: unknown } | { type: 'ERROR'; object: Status };

interface HistoryEvent {
  rv: number;
  type: EventType;
  pod: Pod;
}

export interface WatchFilter {
  namespace?: string;
  labels?: Selector;
  fields?: Selector;
}

interface Watcher {
  filter: WatchFilter;
  send: (ev: WatchEvent) => void;
}

const clone = <T>(v: T): T => structuredClone(v);

export const podNotFound = (name: string) => new KubeError(status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));

export class PodStore {
  private rv = 1;
  private readonly pods = new Map<string, Pod>();
  private history: HistoryEvent[] = [];
  private compactedRv = 0;
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly historyLimit = 1000) {}

  get resourceVersion(): string {
    return String(this.rv);
  }

  get(namespace: string, name: string): Pod {
    const p = this.pods.get(name);
    if (!p || p.metadata.namespace !== namespace) throw podNotFound(name);
    return clone(p);
  }

  /** The pod of this name in any namespace (names are unique in the runtime). */
  byName(name: string): Pod | undefined {
    const p = this.pods.get(name);
    return p && clone(p);
  }

  has(name: string): boolean {
    return this.pods.has(name);
  }

  list(filter: WatchFilter = {}): { items: Pod[]; resourceVersion: string } {
    return { items: [...this.pods.values()].filter((p) => selected(filter, p)).map(clone), resourceVersion: String(this.rv) };
  }

  /** Stores a new pod (metadata from the server: uid, version, creation time). */
  add(pod: Pod): Pod {
    const name = pod.metadata.name;
    if (this.pods.has(name)) {
      throw new KubeError(status(409, 'AlreadyExists', `pods "${name}" already exists`, { name, kind: 'pods' }));
    }
    const obj = clone(pod);
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = rfc3339();
    obj.metadata.resourceVersion = String(++this.rv);
    this.pods.set(name, obj);
    this.record('ADDED', obj);
    return clone(obj);
  }

  /** Changes a pod in place (status, deletion mark); a change that changes nothing is no event. */
  update(name: string, change: (pod: Pod) => void): Pod | undefined {
    const cur = this.pods.get(name);
    if (!cur) return undefined;
    const next = clone(cur);
    change(next);
    if (JSON.stringify(next) === JSON.stringify(cur)) return clone(cur);
    next.metadata.resourceVersion = String(++this.rv);
    this.pods.set(name, next);
    this.record('MODIFIED', next);
    return clone(next);
  }

  remove(name: string): void {
    const cur = this.pods.get(name);
    if (!cur) return;
    this.pods.delete(name);
    const gone = clone(cur);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record('DELETED', gone);
  }

  /**
   * Streams changes after `fromRv` (events from history), or, without a version, the current pods as
   * ADDED first. Returns the stop function; an expired version sends one ERROR and stops.
   */
  watch(filter: WatchFilter, fromRv: string, send: (ev: WatchEvent) => void): () => void {
    if (fromRv !== '' && !/^\d+$/.test(fromRv)) throw new KubeError(status(400, 'BadRequest', `invalid resource version: ${fromRv}`));
    const w: Watcher = { filter, send };
    if (fromRv === '' || fromRv === '0') {
      for (const p of this.list(filter).items) send({ type: 'ADDED', object: p });
    } else if (Number(fromRv) < this.compactedRv) {
      send({ type: 'ERROR', object: expired(Number(fromRv), this.compactedRv) });
      return () => undefined;
    } else {
      for (const ev of this.history) if (ev.rv > Number(fromRv) && selected(filter, ev.pod)) send({ type: ev.type, object: clone(ev.pod) });
    }
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  /** A BOOKMARK with the current version, for watchers that asked for bookmarks. */
  bookmark(): WatchEvent {
    return { type: 'BOOKMARK', object: { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: String(this.rv) } } };
  }

  private record(type: EventType, pod: Pod): void {
    const ev: HistoryEvent = { rv: this.rv, type, pod: clone(pod) };
    this.history.push(ev);
    while (this.history.length > this.historyLimit) this.compactedRv = (this.history.shift() as HistoryEvent).rv;
    for (const w of this.watchers) if (selected(w.filter, pod)) w.send({ type, object: clone(pod) });
  }
}

function selected(f: WatchFilter, p: Pod): boolean {
  if (f.namespace !== undefined && p.metadata.namespace !== f.namespace) return false;
  if (f.labels && !matchLabels(f.labels, p.metadata.labels ?? {})) return false;
  if (f.fields && !matchFields(f.fields, p)) return false;
  return true;
}
