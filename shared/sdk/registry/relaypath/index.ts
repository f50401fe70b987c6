// relaypath (NSE server; nsmgr, before the records go upstream): appends this hop's own SPIFFE ID to
// the registration path of what it passes on, so the next registry learns both the registrant and
// the relay it came through (api.md §8.8); what comes back is given its path as it arrived, so the
// local store keeps the registrant's path.
import type { NetworkServiceEndpoint } from '@nsm/api';
import { unavailable } from '../../core/errors';
import type { RegistryElement } from '../../core/registry';

export function relayPath(ownId: () => string | undefined): RegistryElement<NetworkServiceEndpoint> {
  const extend = (nse: NetworkServiceEndpoint): NetworkServiceEndpoint => {
    const me = ownId();
    if (!me) throw unavailable('cannot pass a registration on: this registry has no SPIFFE ID yet');
    const ids = nse.pathIds ?? [];
    return ids[ids.length - 1] === me ? nse : { ...nse, pathIds: [...ids, me] };
  };
  return {
    async register(ctx, nse, next) {
      const out = await next.register(ctx, extend(nse));
      return { ...out, pathIds: nse.pathIds };
    },
    async unregister(ctx, nse, next) {
      return next.unregister(ctx, extend(nse));
    },
  };
}
