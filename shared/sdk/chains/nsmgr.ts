// The nsmgr's NetworkService chain (sdk.md §5.3): the endpoint head, node labels, forwarder selection
// (the network service's record from a query cache kept current by a watch, not a round trip to the
// central registry per Request), the node's excluded prefixes, then a client chain (no refresh: only
// the NSC refreshes) to the chosen forwarder.
import type { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import type { Clock } from '../core/clock';
import type { NetworkServiceElement } from '../core/networkservice';
import { registryHandler, type RegistryHandler } from '../core/registry';
import { queryCache } from '../registry/querycache';
import { clientInfo } from '../elements/clientinfo';
import { connectServer } from '../elements/connect/server';
import { authorizeClient } from '../elements/authorizeclient';
import { discoverForwarder } from '../elements/discoverforwarder';
import type { Policy } from '../policy';
import type { X509Source } from '../spiffe/source';
import type { TokenGenerator } from '../token';
import { client } from './client';
import { endpoint, Endpoint } from './endpoint';
import { senderNetns, type SenderNetnsOptions } from '../elements/sendernetns';

export interface NsmgrOptions {
  name: string;
  tokens: TokenGenerator;
  /** The nsmgr's identity toward forwarders and remote nsmgrs. */
  source: X509Source;
  /** Server policies (default upstream's set). */
  policies?: readonly Policy[];
  clock?: Clock;
  /** NetworkService registry as the nsmgr sees it (local or through the central registry). */
  ns: RegistryHandler<NetworkService>;
  /** The nsmgr's local endpoint store: forwarders of this node. */
  localNse: RegistryHandler<NetworkServiceEndpoint>;
  forwarderServiceName?: string;
  dialTimeoutMs?: number;
  labels?: Record<string, string>;
  /** The node's excluded prefixes (excludedprefixes element), after forwarder selection. */
  excludedPrefixes?: NetworkServiceElement;
  /** Who may name which namespace (elements/sendernetns); the check is always on. */
  senderNetns?: SenderNetnsOptions;
}

export function nsmgr(opts: NsmgrOptions): Endpoint {
  return endpoint({
    name: opts.name,
    tokens: opts.tokens,
    clock: opts.clock,
    policies: opts.policies,
    additional: [
      // Before anything is chosen or made: a Request may only name its sender's own namespace.
      senderNetns(opts.senderNetns),
      clientInfo(opts.labels),
      discoverForwarder({ ns: registryHandler(queryCache<NetworkService>(), opts.ns), localNse: opts.localNse, serviceName: opts.forwarderServiceName, clock: opts.clock }),
      ...(opts.excludedPrefixes ? [opts.excludedPrefixes] : []),
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
        }),
      ),
    ],
  });
}
