// swapip (NSE server; nsmgr-proxy, sdk.md §4.14): the host of an endpoint URL crosses the domain's
// edge through the address map: an internal address becomes its external one, and an external one
// (from the other side) its internal one, on a Register (in and out), an Unregister, a Find query and
// every Find result. Hosts that are not IP literals, and IPs the map does not know, stay as they are.
import type { NetworkServiceEndpoint } from '@nsm/api';
import type { RegistryElement } from '../../core/registry';
import type { IpSwap } from '../../input/ipmap';

const HOST = /^(tcp:\/\/)?(\[[0-9A-Fa-f:.]+\]|[0-9.]+)(:\d+)$/;

export function swapUrl(url: string, swap: IpSwap): string {
  const m = HOST.exec(url);
  if (!m) return url;
  const bracketed = m[2].startsWith('[');
  const ip = bracketed ? m[2].slice(1, -1) : m[2];
  const to = swap.toExternal(ip) ?? swap.toInternal(ip);
  if (!to) return url;
  return `${m[1] ?? ''}${bracketed ? `[${to}]` : to}${m[3]}`;
}

export function swapIpRegistry(swap: IpSwap): RegistryElement<NetworkServiceEndpoint> {
  const swapped = (nse: NetworkServiceEndpoint): NetworkServiceEndpoint => (nse.url ? { ...nse, url: swapUrl(nse.url, swap) } : nse);
  return {
    async register(ctx, nse, next) {
      return swapped(await next.register(ctx, swapped(nse)));
    },
    unregister: (ctx, nse, next) => next.unregister(ctx, swapped(nse)),
    find: (ctx, query, sink, next) => next.find(ctx, { ...query, item: swapped(query.item) }, (r) => sink({ ...r, item: swapped(r.item) })),
  };
}
