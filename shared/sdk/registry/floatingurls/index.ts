// floatingurls (NSE server; nsmgr-proxy, before seturl): an endpoint of this domain that registers
// under another domain's name (`nse@floating`, a floating registry) is found there as `nse`, at this
// proxy's URL. When a Request for `nse` comes back from the other side, this proxy must know the full
// local name and the endpoint's URL inside the domain (its nsmgr): remembered here on Register,
// forgotten on Unregister. (Upstream's nsmgr-proxy has no such element; see README, Interdomain.)
import type { NetworkServiceEndpoint } from '@nsm/api';
import type { RegistryElement } from '../../core/registry';
import { isInterdomain, splitDomain } from '../../input/interdomain';
import type { UrlBook } from '../storeurl';

export function floatingUrls(book: UrlBook): RegistryElement<NetworkServiceEndpoint> {
  return {
    async register(ctx, nse, next) {
      const out = await next.register(ctx, nse);
      if (isInterdomain(nse.name) && nse.url) book.local.set(splitDomain(nse.name).name, { name: nse.name, url: nse.url });
      return out;
    },
    async unregister(ctx, nse, next) {
      if (isInterdomain(nse.name)) book.local.delete(splitDomain(nse.name).name);
      return next.unregister(ctx, nse);
    },
  };
}
