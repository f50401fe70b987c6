// Per-connection storage. Each connection id gets two halves, so that the client and the server
// element of one package never collide; values are stored under typed keys owned by the element.
import { Connection } from '@nsm/api';
import { Context, createKey, Key } from './context';
import { internal } from './errors';
import type { NetworkServiceElement } from './networkservice';

export class Half {
  private readonly values = new Map<Key<unknown>, unknown>();
  get<T>(key: Key<T>): T | undefined {
    return this.values.get(key as Key<unknown>) as T | undefined;
  }
  set<T>(key: Key<T>, value: T): void {
    this.values.set(key as Key<unknown>, value);
  }
  delete<T>(key: Key<T>): T | undefined {
    const v = this.get(key);
    this.values.delete(key as Key<unknown>);
    return v;
  }
  /** Read-and-delete. */
  take<T>(key: Key<T>): T | undefined {
    return this.delete(key);
  }
}

export interface MetadataEntry {
  readonly client: Half;
  readonly server: Half;
}

const entryKey = createKey<MetadataEntry>('metadata');

function entryOf(ctx: Context, who: string): MetadataEntry {
  const e = ctx.get(entryKey);
  if (!e) throw internal(`${who} needs the metadata element earlier in its chain`);
  return e;
}

/** This connection's server half; the metadata element must have run. */
export const serverMeta = (ctx: Context): Half => entryOf(ctx, 'server element').server;
export const clientMeta = (ctx: Context): Half => entryOf(ctx, 'client element').client;
export const hasMetadata = (ctx: Context): boolean => ctx.get(entryKey) !== undefined;

/**
 * The metadata element (sdk.md §2.5): finds or creates the entry of the connection id as seen here.
 * A failed first Request leaves nothing; Close removes the entry whatever the outcome.
 */
export function metadata(): NetworkServiceElement & { size(): number } {
  const entries = new Map<string, MetadataEntry>();
  return {
    size: () => entries.size,
    async request(ctx, req, next) {
      if (ctx.get(entryKey)) return next.request(ctx, req);
      const id = req.connection?.id ?? '';
      let entry = entries.get(id);
      const isNew = !entry;
      if (!entry) {
        entry = { client: new Half(), server: new Half() };
        entries.set(id, entry);
      }
      try {
        return await next.request(ctx.with(entryKey, entry), req);
      } catch (err) {
        if (isNew && entries.get(id) === entry) entries.delete(id);
        throw err;
      }
    },
    async close(ctx, conn: Connection, next) {
      if (ctx.get(entryKey)) return next.close(ctx, conn);
      const entry = entries.get(conn.id) ?? { client: new Half(), server: new Half() };
      entries.delete(conn.id);
      return next.close(ctx.with(entryKey, entry), conn);
    },
  };
}
