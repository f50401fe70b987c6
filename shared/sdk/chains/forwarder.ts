// The forwarder chain (sdk.md §5.7): the endpoint head, endpoint discovery through the local nsmgr's
// registry (its answers kept current in a query cache, so a Request or Close does not wait for a
// round trip to the central registry), the dataplane's server elements, then a client chain (no
// refresh) toward the endpoint or the remote nsmgr, with a fresh mechanism preference list filtered
// by the next hop's class.
import type { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import type { Clock } from '../core/clock';
import type { NetworkServiceElement } from '../core/networkservice';
import { registryHandler, type RegistryHandler } from '../core/registry';
import { queryCache } from '../registry/querycache';
import { connectServer } from '../elements/connect/server';
import { discover } from '../elements/discover';
import { filterMechanisms } from '../elements/filtermechanisms';
import { authorizeClient } from '../elements/authorizeclient';
import { mechanismTranslation } from '../elements/mechanismtranslation';
import type { Policy } from '../policy';
import type { X509Source } from '../spiffe/source';
import type { TokenGenerator } from '../token';
import { client } from './client';
import { endpoint, Endpoint } from './endpoint';

export interface ForwarderDataplane {
  /** Server-side elements, after discovery (cross-connect, then the mechanisms server). */
  server: NetworkServiceElement[];
  /** Client-side elements: each offers its mechanism and sets it up once selected. */
  client: NetworkServiceElement[];
  /** Checks of the next hop's answer that run before the client-side elements use it (the endpoint's namespace). */
  replyChecks?: NetworkServiceElement[];
  /** Runs when a next hop's monitor stream breaks, before DOWN goes upstream (monitor's onDownstreamBroken). */
  downstreamBroken?: () => void;
}

export interface ForwarderOptions {
  name: string;
  tokens: TokenGenerator;
  /** The forwarder's identity toward its next hops. */
  source: X509Source;
  /** Server policies (default upstream's set). */
  policies?: readonly Policy[];
  clock?: Clock;
  /** Registry clients pointed at the local nsmgr. */
  ns: RegistryHandler<NetworkService>;
  nse: RegistryHandler<NetworkServiceEndpoint>;
  dataplane: ForwarderDataplane;
  dialTimeoutMs?: number;
  /** Ask the registry on every Request instead of keeping its answers current (default false). */
  noDiscoveryCache?: boolean;
}

export function forwarder(opts: ForwarderOptions): Endpoint {
  return endpoint({
    name: opts.name,
    tokens: opts.tokens,
    clock: opts.clock,
    policies: opts.policies,
    monitor: { onDownstreamBroken: opts.dataplane.downstreamBroken },
    additional: [
      opts.noDiscoveryCache
        ? discover({ ns: opts.ns, nse: opts.nse, clock: opts.clock })
        : discover({ ns: registryHandler(queryCache<NetworkService>(), opts.ns), nse: registryHandler(queryCache<NetworkServiceEndpoint>(), opts.nse), clock: opts.clock }),
      ...opts.dataplane.server,
      connectServer(
        client({
          name: opts.name,
          tokens: opts.tokens,
          source: opts.source,
          clock: opts.clock,
          refresh: false,
          // Every hop checks the reply of the next (upstream: only the NSC), see README. Not its own
          // Close: updatetoken has just stamped this hop's segment for its caller, so the path it
          // sends on is not chained until the next hop stamps it; the next hop checks that Close.
          authorize: authorizeClient({ clock: opts.clock, closePolicies: [] }),
          dialTimeoutMs: opts.dialTimeoutMs,
          additional: [mechanismTranslation(), ...opts.dataplane.client, ...(opts.dataplane.replyChecks ?? []), filterMechanisms()],
        }),
      ),
    ],
  });
}
