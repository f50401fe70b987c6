// interdomainurl (server; nsmgr-proxy, sdk.md §3.28): a Request for an endpoint that this proxy's
// registry found in another domain (`nse@domain`, with the URL storeurl kept for it) goes to that URL,
// the other domain's nsmgr-proxy, under the endpoint's bare name, which is all the other domain knows
// it by; the full name is put back on the reply and after Close. The other way round, a Request from
// another domain for an endpoint of this one that registered under a floating domain's name arrives
// with the bare name: it goes to the endpoint's nsmgr under its full local name (floatingurls). Any
// other Request passes on to discover. A `name@domain` the book does not know (this proxy restarted
// since the Find that taught it: a refresh, a heal, a Close) is looked up once through the proxy's
// own registry, which fills the book as any Find does.
import type { Connection } from '@nsm/api';
import type { Context } from '../../core/context';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/networkservice';
import { isInterdomain, splitDomain } from '../../input/interdomain';
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

/** Finds an endpoint by its full name through the proxy's registry (filling the book). */
export type EndpointLookup = (ctx: Context, name: string) => Promise<void>;

async function routed<T>(ctx: Context, conn: Connection, book: UrlBook, lookup: EndpointLookup | undefined, go: (ctx: Context, name: string | undefined) => Promise<T>): Promise<T> {
  const name = conn.networkServiceEndpointName;
  if (lookup && isInterdomain(name) && !routeOf(book, name)) await lookup(ctx, name);
  const route = routeOf(book, name);
  if (!route) return go(ctx, undefined);
  return go(ctx.with(clientUrlKey, route.url), route.name);
}

export function interdomainUrl(book: UrlBook, lookup?: EndpointLookup): NetworkServiceElement {
  return {
    request(ctx, req, next: NetworkServiceHandler) {
      const conn = req.connection!;
      const asked = conn.networkServiceEndpointName;
      return routed(ctx, conn, book, lookup, async (c, name) => {
        if (name === undefined) return next.request(c, req);
        const out = await next.request(c, { ...req, connection: { ...conn, networkServiceEndpointName: name } });
        return { ...out, networkServiceEndpointName: asked };
      });
    },
    close(ctx, conn, next) {
      return routed(ctx, conn, book, lookup, (c, name) => next.close(c, name === undefined ? conn : { ...conn, networkServiceEndpointName: name }));
    },
  };
}
