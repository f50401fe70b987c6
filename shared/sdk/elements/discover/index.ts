// discover + round robin (sdk.md §3.12, §3.13), in the forwarder: finds the endpoint for a connection,
// by name when the connection names one (refresh, remote hop), otherwise by matching the network
// service's rules, and tries candidates in turn until one accepts.
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import type { Clock } from '../../core/clock';
import { realClock } from '../../core/clock';
import { clone } from '../../core/conn';
import { invalidArgument, notFound, StatusError } from '../../core/errors';
import type { NetworkServiceElement } from '../../core/networkservice';
import type { RegistryHandler } from '../../core/registry';
import { clientUrlKey } from '../clienturl';
import { findEndpointByName, findEndpointsFor, findNetworkService } from './lookup';
import { explainNoCandidates, matchEndpoints } from './match';
import { log } from '../../log';

export interface DiscoverOptions {
  ns: RegistryHandler<NetworkService>;
  nse: RegistryHandler<NetworkServiceEndpoint>;
  clock?: Clock;
}

export function discover(opts: DiscoverOptions): NetworkServiceElement {
  const clock = opts.clock ?? realClock;
  const counters = new Map<string, number>();
  return {
    async request(ctx, req, next) {
      if (ctx.get(clientUrlKey)) return next.request(ctx, req);
      const conn = req.connection!;
      if (conn.networkServiceEndpointName) {
        const nse = await findEndpointByName(ctx, opts.nse, conn.networkServiceEndpointName);
        if (!nse) throw notFound(`network service endpoint "${conn.networkServiceEndpointName}" is not found`);
        // A retried or healing Request names its endpoint but may not carry the payload; the mechanisms
        // offered next (WireGuard only for IP) depend on it.
        if (!conn.payload) {
          const ns = await findNetworkService(ctx, opts.ns, conn.networkService).catch(() => undefined);
          if (ns?.payload) conn.payload = ns.payload;
        }
        return next.request(ctx.with(clientUrlKey, nse.url), req);
      }
      const ns = await findNetworkService(ctx, opts.ns, conn.networkService);
      const all = await findEndpointsFor(ctx, opts.nse, ns.name);
      const candidates = matchEndpoints(conn.labels, ns, all, clock.now());
      if (candidates.length === 0) {
        throw notFound(explainNoCandidates(conn.labels, ns, all, clock.now()));
      }
      if (ns.payload) conn.payload = ns.payload;
      const start = counters.get(ns.name) ?? 0;
      const errors: string[] = [];
      let lastErr: unknown;
      for (let i = 0; i < candidates.length; i++) {
        const nse = candidates[(start + i) % candidates.length];
        counters.set(ns.name, start + i + 1);
        const attempt = clone(req);
        attempt.connection!.networkServiceEndpointName = nse.name;
        try {
          return await next.request(ctx.with(clientUrlKey, nse.url), attempt);
        } catch (err) {
          lastErr = err;
          log.debug({ nse: nse.name, err: String(err) }, 'endpoint failed the request');
          errors.push(`${nse.name}: ${(err as Error).message}`);
        }
      }
      if (candidates.length === 1) throw lastErr;
      throw new StatusError(StatusError.from(lastErr).code, `all endpoints failed: ${errors.join('; ')}`);
    },
    async close(ctx, conn, next) {
      if (ctx.get(clientUrlKey)) return next.close(ctx, conn);
      if (!conn.networkServiceEndpointName) throw invalidArgument('connection.network_service_endpoint_name is not set');
      const nse = await findEndpointByName(ctx, opts.nse, conn.networkServiceEndpointName).catch(() => undefined);
      return next.close(nse ? ctx.with(clientUrlKey, nse.url) : ctx, conn);
    },
  };
}
