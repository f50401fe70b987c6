// querycache (registry client side; the forwarder's discovery): answers a repeated plain Find from
// memory instead of a round trip through the nsmgr to the central registry (two hops, for every
// Request and Close). The first Find of a query goes through and is answered as usual; its results
// seed an entry that a watch Find with the same query keeps current (registrations, refreshes and
// deletions arrive within milliseconds), so later Finds of that query read the entry. An entry ends
// when its watch ends (the registry or nsmgr went away: the next Find goes through again) or when it
// has not been used for `idleMs`. An entry with no record is not trusted: that Find goes through, so
// a registration the watch has not delivered yet is never missed. Watch Finds pass through.
import type { Context } from '../../core/context';
import { Context as Ctx } from '../../core/context';
import type { FindResult, RegistryElement, RegistryHandler } from '../../core/registry';

export interface QueryCacheOptions {
  /** Drop an entry (and its watch) unused for this long (default 60 s). */
  idleMs?: number;
}

interface Entry<T> {
  records: Map<string, T>;
  lastUsed: number;
  cancel(): void;
}

export interface QueryCache<T> extends RegistryElement<T> {
  /** Queries answered from memory now (tests, figures). */
  readonly size: number;
  /** Ends every watch. */
  close(): void;
}

export function queryCache<T extends { name: string }>(opts: QueryCacheOptions = {}): QueryCache<T> {
  const idleMs = opts.idleMs ?? 60_000;
  const entries = new Map<string, Entry<T>>();
  let timer: NodeJS.Timeout | undefined;

  const sweep = () => {
    const now = Date.now();
    for (const e of [...entries.values()]) if (now - e.lastUsed >= idleMs) e.cancel();
    if (entries.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  /** Seeds an entry with a Find's results and keeps it current with a watch of the same query. */
  const open = (key: string, item: T, results: FindResult<T>[], next: RegistryHandler<T>) => {
    const records = new Map<string, T>();
    for (const r of results) if (!r.deleted) records.set(r.item.name, r.item);
    const { ctx, cancel } = Ctx.background().withCancel();
    const entry: Entry<T> = { records, lastUsed: Date.now(), cancel: () => (entries.get(key) === entry && entries.delete(key), cancel()) };
    entries.set(key, entry);
    next
      .find(ctx, { item, watch: true }, (r) => {
        if (r.deleted) records.delete(r.item.name);
        else records.set(r.item.name, r.item);
      })
      .catch(() => undefined)
      .finally(() => entry.cancel());
    timer ??= setInterval(sweep, Math.max(1000, idleMs / 2));
    timer.unref();
  };

  return {
    get size() {
      return entries.size;
    },
    close() {
      for (const e of [...entries.values()]) e.cancel();
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    async find(ctx: Context, query, sink, next) {
      if (query.watch) return next.find(ctx, query, sink);
      const key = JSON.stringify(query.item);
      const hit = entries.get(key);
      if (hit && hit.records.size > 0) {
        hit.lastUsed = Date.now();
        for (const item of [...hit.records.values()]) await sink({ item, deleted: false });
        return;
      }
      const results: FindResult<T>[] = [];
      await next.find(ctx, query, (r) => (results.push(r), sink(r)));
      if (hit) {
        hit.lastUsed = Date.now();
        for (const r of results) if (!r.deleted) hit.records.set(r.item.name, r.item);
      } else {
        open(key, query.item, results, next);
      }
    },
  };
}
