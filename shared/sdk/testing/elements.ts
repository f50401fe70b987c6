// Small in-process building blocks for element unit tests: segments, recorders and failures.
import { Connection, NetworkServiceRequest, PathSegment } from '@nsm/api';
import { Context } from '../core/context';
import { clone, toTimestamp } from '../core/conn';
import type { NetworkServiceElement } from '../core/networkservice';
import { FindQuery, FindSink, RegistryHandler, registryTail } from '../core/registry';
import { jwtTokenGenerator } from '../token';

export const bg = () => Context.background();

/**
 * A token issued by `sub` as a hop stores it in a segment (unsigned: for tests where only who is on
 * the path matters, e.g. which connections a Monitor subscriber may see).
 */
export const tokenOf = (sub: string): string => jwtTokenGenerator({ subject: sub, lifetimeMs: 600_000 })().token;

export function seg(name: string, id: string, expiresMs?: number, token = ''): PathSegment {
  return { name, id, token, expires: expiresMs === undefined ? undefined : toTimestamp(expiresMs), metrics: {} };
}

export function conn(partial: Partial<Connection> = {}): Connection {
  return Connection.fromPartial({ networkService: 'svc', ...partial });
}

export function req(c: Connection, prefs: NetworkServiceRequest['mechanismPreferences'] = []): NetworkServiceRequest {
  return { connection: c, mechanismPreferences: prefs };
}

/** Records clones of what reaches it (and the context), then continues. */
export function recorder() {
  const requests: NetworkServiceRequest[] = [];
  const closes: Connection[] = [];
  const contexts: Context[] = [];
  const el: NetworkServiceElement = {
    async request(ctx, r, next) {
      requests.push(clone(r));
      contexts.push(ctx);
      return next.request(ctx, r);
    },
    async close(ctx, c, next) {
      closes.push(clone(c));
      contexts.push(ctx);
      return next.close(ctx, c);
    },
  };
  return { el, requests, closes, contexts };
}

/** Fails the next `n` Requests (or every one while `always`), otherwise continues. */
export function failer(err: () => Error = () => new Error('injected failure')) {
  const s = { requestFailures: 0, closeFailures: 0, always: false };
  const el: NetworkServiceElement = {
    async request(ctx, r, next) {
      if (s.always || s.requestFailures > 0) {
        s.requestFailures = Math.max(0, s.requestFailures - 1);
        throw err();
      }
      return next.request(ctx, r);
    },
    async close(ctx, c, next) {
      if (s.closeFailures > 0) {
        s.closeFailures--;
        throw err();
      }
      return next.close(ctx, c);
    },
  };
  return Object.assign(s, { el });
}

/** An element that modifies the returned connection, e.g. to stamp an expiry like a downstream hop. */
export function onReturn(f: (c: Connection) => void): NetworkServiceElement {
  return {
    async request(ctx, r, next) {
      const out = await next.request(ctx, r);
      f(out);
      return out;
    },
  };
}

/** A registry that answers Finds by exact name and by contained service names, in insertion order. */
export function fakeRegistry<T extends { name: string; networkServiceNames?: string[] }>(items: T[]): RegistryHandler<T> {
  return {
    ...registryTail<T>(),
    async find(_ctx, q: FindQuery<T>, sink: FindSink<T>) {
      for (const it of items) {
        if (q.item.name && it.name !== q.item.name) continue;
        if (q.item.networkServiceNames?.some((s) => !it.networkServiceNames?.includes(s))) continue;
        await sink({ item: it, deleted: false });
      }
    },
  };
}
