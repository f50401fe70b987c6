// store (NS/NSE server): keeps records in a RegistryStore (memory or Kubernetes) and answers Finds.
// Register calls next first and stores what it returned; Unregister removes the record (watchers get a
// deleted event, for NetworkServices too) and then calls next. Find sends the current matches, sorted
// by name, then (watch) every later matching change until the caller's context ends; whatever the rest
// of the chain finds (a remote registry) is sent as well, concurrently for a watch.
//
// All watch Finds share one store watch, opened with the first watcher and closed with the last, so a
// Kubernetes-backed registry keeps one API watch whatever the number of clients.
import type { Context } from '../../core/context';
import { resourceExhausted, StatusError, unavailable } from '../../core/errors';
import type { FindResult, FindSink, RegistryElement } from '../../core/registry';
import type { RecordKind } from '../../core/recordkinds';
import type { RegistryStore, StoreEvent } from './backend';

export interface StoreElementOptions {
  /** Changes a slow watcher may lag behind before its Find fails with RESOURCE_EXHAUSTED. */
  maxBacklog?: number;
}

export interface StoreElement<T extends { name: string }> extends RegistryElement<T> {
  readonly store: RegistryStore<T>;
  /** Watch Finds being served (including those still sending their initial matches). */
  readonly watchers: number;
  /** Watch Finds past their initial matches: every later change reaches them. */
  readonly streaming: number;
  /** Whether the shared store watch is open. */
  readonly storeWatchOpen: boolean;
  /** Ends every watch Find (they resolve, so their streams end cleanly); later watches end at once. */
  close(): void;
}

class Subscriber<T extends { name: string }> {
  readonly queue: FindResult<T>[] = [];
  failure?: StatusError;
  private wake?: () => void;

  constructor(
    private readonly kind: RecordKind<T>,
    private readonly query: T,
    private readonly maxBacklog: number,
  ) {}

  push(ev: StoreEvent<T>): void {
    if (this.failure || !this.kind.matches(this.query, ev.item)) return;
    if (this.queue.length >= this.maxBacklog) {
      this.failure = resourceExhausted(`watcher fell more than ${this.maxBacklog} changes behind`);
      this.queue.length = 0;
    } else {
      this.queue.push({ item: ev.item, deleted: ev.type === 'delete' });
    }
    this.wake?.();
  }

  /** Resolves on the next push or when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || this.queue.length > 0 || this.failure) return resolve();
      const done = () => {
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async pump(ctx: Context, sink: FindSink<T>): Promise<void> {
    while (!ctx.done) {
      if (this.failure) throw this.failure;
      const next = this.queue.shift();
      if (next) await sink(next);
      else await this.wait(ctx.signal);
    }
  }
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function storeElement<T extends { name: string }>(kind: RecordKind<T>, store: RegistryStore<T>, opts: StoreElementOptions = {}): StoreElement<T> {
  const maxBacklog = opts.maxBacklog ?? 10_000;
  const subs = new Set<Subscriber<T>>();
  let streaming = 0;
  let shared: { ac: AbortController; ready: Promise<void> } | undefined;
  const closer = new AbortController();

  const subscribe = async (sub: Subscriber<T>) => {
    subs.add(sub);
    if (!shared) {
      const ac = new AbortController();
      const s = {
        ac,
        ready: store.watch(ac.signal, (ev) => {
          for (const x of subs) x.push(ev);
        }),
      };
      shared = s;
      s.ready.catch(() => {
        if (shared === s) shared = undefined;
      });
    }
    await shared.ready;
  };
  const unsubscribe = (sub: Subscriber<T>) => {
    subs.delete(sub);
    if (subs.size === 0 && shared) {
      shared.ac.abort();
      shared = undefined;
    }
  };

  const snapshot = async (query: T, sink: FindSink<T>) => {
    // Names match exactly, so a query by name reads one record instead of listing them all.
    const candidates = query.name ? [await store.get(query.name)].filter((x): x is T => x !== undefined) : await store.list();
    const items = candidates.filter((x) => kind.matches(query, x)).sort(byName);
    for (const item of items) await sink({ item, deleted: false });
  };

  return {
    store,
    get watchers() {
      return subs.size;
    },
    get streaming() {
      return streaming;
    },
    get storeWatchOpen() {
      return shared !== undefined;
    },
    close: () => closer.abort(unavailable('registry is stopping')),
    async register(ctx, item, next) {
      const out = await next.register(ctx, item);
      return store.put(out);
    },
    async unregister(ctx, item, next) {
      await store.delete(item.name);
      await next.unregister(ctx, item);
    },
    async find(ctx, query, sink, next) {
      if (!query.watch) {
        await snapshot(query.item, sink);
        return next.find(ctx, query, sink);
      }
      const sub = new Subscriber(kind, query.item, maxBacklog);
      const { ctx: inner, cancel } = ctx.withSignal(closer.signal).withCancel();
      let counted = false;
      const fail = (err: unknown): never => {
        cancel(err);
        throw err;
      };
      try {
        await subscribe(sub);
        await snapshot(query.item, sink);
        streaming++;
        counted = true;
        await Promise.all([sub.pump(inner, sink).catch(fail), next.find(inner, query, sink).catch(fail)]);
      } finally {
        if (counted) streaming--;
        unsubscribe(sub);
        cancel();
      }
    },
  };
}
