// interdomainurl (server; nsmgr-proxy, sdk.md §3.28): a Request for an endpoint that this proxy's
// registry found in another domain (`nse@domain`, with the URL storeurl kept for it) goes to that URL,
// the other domain's nsmgr-proxy, under the endpoint's bare name, which is all the other domain knows
// it by; the full name is put back on the reply and after Close. The other way round, a Request from
// another domain for an endpoint of this one that registered under a floating domain's name arrives
// with the bare name: it goes to the endpoint's nsmgr under its full local name (floatingurls). Any
// other Request passes on to discover.
import type { Connection } from '@nsm/api';
import type { Context } from '../../core/context';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/networkservice';
import { splitDomain } from '../../input/interdomain';
import type { UrlBook } from '../../registry/storeurl';
import { clientUrlKey } from '../clienturl';

interface Route {
  url: string;
  /** The NSE name the next hop knows. */
  name: string;
}

function routeOf(book: UrlBook, nseName: string): Route | undefined {
  if (!nseName) return undefined;
  const remote = book.remote.get(nseName);
  if (remote) return { url: remote, name: splitDomain(nseName).name };
  const local = book.local.get(nseName);
  return local && { url: local.url, name: local.name };
}

async function routed<T>(ctx: Context, conn: Connection, book: UrlBook, go: (ctx: Context, name: string | undefined) => Promise<T>): Promise<T> {
  const route = routeOf(book, conn.networkServiceEndpointName);
  if (!route) return go(ctx, undefined);
  return go(ctx.with(clientUrlKey, route.url), route.name);
}

export function interdomainUrl(book: UrlBook): NetworkServiceElement {
  return {
    request(ctx, req, next: NetworkServiceHandler) {
      const conn = req.connection!;
      const asked = conn.networkServiceEndpointName;
      return routed(ctx, conn, book, async (c, name) => {
        if (name === undefined) return next.request(c, req);
        const out = await next.request(c, { ...req, connection: { ...conn, networkServiceEndpointName: name } });
        return { ...out, networkServiceEndpointName: asked };
      });
    },
    close(ctx, conn, next) {
      return routed(ctx, conn, book, (c, name) => next.close(c, name === undefined ? conn : { ...conn, networkServiceEndpointName: name }));
    },
  };
}
