// discoverforwarder (sdk.md §3.11, §9): the nsmgr picks a local forwarder for a new connection by the
// network service's match metadata (default {p2p: true}), tries candidates in order, and sticks to
// the one that worked. If that forwarder disappears the call fails and the client heals.
import { NetworkService, NetworkServiceEndpoint, DefaultForwarderServiceName } from '@nsm/api';
import { createKey } from '../../core/context';
import type { Clock } from '../../core/clock';
import { realClock } from '../../core/clock';
import { clone } from '../../core/conn';
import { unavailable } from '../../core/errors';
import { serverMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';
import type { RegistryHandler } from '../../core/registry';
import { clientUrlKey } from '../clienturl';
import { matchForwarders } from '../discover/match';
import { findEndpointByName, findEndpointsFor, findNetworkService } from '../discover/lookup';
import { log } from '../../log';

const forwarderKey = createKey<string>('discoverforwarder.name');

export interface DiscoverForwarderOptions {
  ns: RegistryHandler<NetworkService>;
  /** The nsmgr's local store: only forwarders on this node. */
  localNse: RegistryHandler<NetworkServiceEndpoint>;
  serviceName?: string;
  clock?: Clock;
}

export function discoverForwarder(opts: DiscoverForwarderOptions): NetworkServiceElement {
  const service = opts.serviceName ?? DefaultForwarderServiceName;
  const clock = opts.clock ?? realClock;
  const live = (f: NetworkServiceEndpoint) => !f.expirationTime || f.expirationTime.seconds * 1000 > clock.now();
  return {
    async request(ctx, req, next) {
      const meta = serverMeta(ctx);
      const chosen = meta.get(forwarderKey);
      if (chosen) {
        const f = await findEndpointByName(ctx, opts.localNse, chosen);
        if (!f) {
          meta.delete(forwarderKey);
          throw unavailable(`forwarder "${chosen}" is gone; the client should reselect`);
        }
        return next.request(ctx.with(clientUrlKey, f.url), req);
      }
      const conn = req.connection!;
      const ns = await findNetworkService(ctx, opts.ns, conn.networkService);
      const all = (await findEndpointsFor(ctx, opts.localNse, service)).filter(live);
      const candidates = matchForwarders(conn.labels, ns, all, service);
      if (candidates.length === 0) {
        throw unavailable(`no forwarder found for network service "${conn.networkService}" (${all.length} registered on this node)`);
      }
      const errors: string[] = [];
      for (const f of candidates) {
        try {
          const out = await next.request(ctx.with(clientUrlKey, f.url), clone(req));
          meta.set(forwarderKey, f.name);
          return out;
        } catch (err) {
          log.debug({ forwarder: f.name, err: String(err) }, 'forwarder failed the request');
          errors.push(`${f.name}: ${(err as Error).message}`);
          if (candidates.length === 1) throw err;
        }
      }
      throw unavailable(`all forwarders failed: ${errors.join('; ')}`);
    },
    async close(ctx, conn, next) {
      // A restarted nsmgr has no record of the forwarder; the connection's path names it (the next
      // segment). Passing the Close on lets the forwarder and the endpoint free what the connection
      // held (its addresses, above all) when a client that healed by reselecting closes its old path.
      const chosen = serverMeta(ctx).get(forwarderKey) ?? conn.path?.pathSegments[conn.path.index + 1]?.name;
      const f = chosen ? await findEndpointByName(ctx, opts.localNse, chosen) : undefined;
      if (!f) {
        log.debug({ id: conn.id, forwarder: chosen }, 'no forwarder to pass the Close to');
        return;
      }
      return next.close(ctx.with(clientUrlKey, f.url), conn);
    },
  };
}
