// trimpath (sdk.md §3.9): the last hop cuts off stale segments beyond itself; a hop that has a client
// chain after it marks the connection so that its own server side keeps the downstream path.
import { createKey } from '../../core/context';
import { clientMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';

const keepKey = createKey<boolean>('trimpath.keep');

export function trimPathServer(): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      const keep = clientMeta(ctx).take(keepKey);
      if (!keep && out.path) out.path.pathSegments = out.path.pathSegments.slice(0, out.path.index + 1);
      return out;
    },
  };
}

export function trimPathClient(): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      clientMeta(ctx).set(keepKey, true);
      return out;
    },
  };
}
