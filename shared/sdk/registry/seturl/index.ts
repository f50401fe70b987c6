// seturl (NSE server; nsmgr-proxy, sdk.md §4.14): what leaves the domain names the nsmgr-proxy as the
// endpoint's URL, since only the proxy is reachable from outside: Register and Unregister go on
// with the fixed URL (the caller gets its own URL back), and every Find result gets it, so the local
// forwarders reach a remote endpoint through this proxy.
import type { NetworkServiceEndpoint } from '@nsm/api';
import type { RegistryElement } from '../../core/registry';

export function setUrl(url: string): RegistryElement<NetworkServiceEndpoint> {
  return {
    async register(ctx, nse, next) {
      const out = await next.register(ctx, { ...nse, url });
      return { ...out, url: nse.url };
    },
    unregister: (ctx, nse, next) => next.unregister(ctx, { ...nse, url }),
    find: (ctx, query, sink, next) => next.find(ctx, query, (r) => sink({ ...r, item: { ...r.item, url } })),
  };
}
