// callerpath (NSE server; registry proxies): a proxy passes a registration on under the path the
// next registry will check ownership against (api.md §8.8), so it first makes sure its caller may
// speak for the path it claims (the claim ends with the caller, or is the caller alone) before
// relayPath appends the proxy's own ID. Calls from this process (no TLS peer) keep their path.
import type { NetworkServiceEndpoint } from '@nsm/api';
import type { RegistryElement } from '../../core/registry';
import { callerPath } from '../ownership';

export function checkCallerPath(): RegistryElement<NetworkServiceEndpoint> {
  return {
    register: (ctx, nse, next) => next.register(ctx, { ...nse, pathIds: callerPath(ctx, nse) ?? nse.pathIds }),
    unregister: (ctx, nse, next) => next.unregister(ctx, { ...nse, pathIds: callerPath(ctx, nse) ?? nse.pathIds }),
  };
}
