// dnsresolve (NS/NSE server; registry-proxy-dns, sdk.md §4.11): an interdomain call goes to the
// registry of the domain its name carries, found through DNS (resolver.ts), with the domain taken off
// every name on the way (the other registry knows its records by their own names) and put back on
// what returns. Find results are also pointed at the other domain's nsmgr-proxy when it has one (a
// floating domain has only a registry: its records keep the URL they were registered with).
import type { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import type { Context } from '../../core/context';
import { invalidArgument } from '../../core/errors';
import type { RegistryElement } from '../../core/registry';
import { checkDomain, isInterdomain } from '../../input/interdomain';
import { registryUrlKey } from '../connecturl';
import { DomainResolver, NSMGR_PROXY_SERVICE, REGISTRY_SERVICE } from './resolver';

export interface DnsResolveOptions {
  resolver: DomainResolver;
  registryService?: string;
  nsmgrProxyService?: string;
}

const strip = (name: string, domain: string) => (name.endsWith(`@${domain}`) ? name.slice(0, -domain.length - 1) : name);
const append = (name: string, domain: string) => (name && !name.endsWith(`@${domain}`) ? `${name}@${domain}` : name);

function mapLabels<V>(labels: Record<string, V> | undefined, f: (k: string) => string): Record<string, V> | undefined {
  if (!labels) return labels;
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [f(k), v]));
}

function nseNames(nse: NetworkServiceEndpoint, f: (n: string) => string): NetworkServiceEndpoint {
  return {
    ...nse,
    name: f(nse.name),
    networkServiceNames: (nse.networkServiceNames ?? []).map(f),
    networkServiceLabels: mapLabels(nse.networkServiceLabels, f) ?? {},
  };
}

/** The domain of an NSE call: its name's, else the first interdomain service name's. */
function nseDomain(nse: NetworkServiceEndpoint): string {
  const named = [nse.name, ...(nse.networkServiceNames ?? [])].find(isInterdomain);
  if (!named) throw invalidArgument('network_service_endpoint: domain cannot be empty (no name or network service name has "@domain")');
  return checkDomain(named === nse.name ? 'network_service_endpoint.name' : 'network_service_endpoint.network_service_names', named).domain;
}

function nsDomain(ns: NetworkService): string {
  if (!isInterdomain(ns.name)) throw invalidArgument(`network_service.name: domain cannot be empty ("${ns.name}" has no "@domain")`);
  return checkDomain('network_service.name', ns.name).domain;
}

function resolving(opts: DnsResolveOptions) {
  const registryService = opts.registryService ?? REGISTRY_SERVICE;
  const proxyService = opts.nsmgrProxyService ?? NSMGR_PROXY_SERVICE;
  return {
    registry: async (ctx: Context, domain: string) => ctx.with(registryUrlKey, await opts.resolver.resolve(registryService, domain)),
    /** The other domain's nsmgr-proxy, or undefined when it has none (a floating domain). */
    nsmgrProxy: (domain: string) => opts.resolver.resolve(proxyService, domain).catch(() => undefined),
  };
}

export function dnsResolveNs(opts: DnsResolveOptions): RegistryElement<NetworkService> {
  const r = resolving(opts);
  return {
    async register(ctx, ns, next) {
      const domain = nsDomain(ns);
      const out = await next.register(await r.registry(ctx, domain), { ...ns, name: strip(ns.name, domain) });
      return { ...out, name: append(out.name, domain) };
    },
    async unregister(ctx, ns, next) {
      const domain = nsDomain(ns);
      return next.unregister(await r.registry(ctx, domain), { ...ns, name: strip(ns.name, domain) });
    },
    async find(ctx, query, sink, next) {
      const domain = nsDomain(query.item);
      const remote = await r.registry(ctx, domain);
      return next.find(remote, { ...query, item: { ...query.item, name: strip(query.item.name, domain) } }, (res) =>
        sink({ ...res, item: { ...res.item, name: append(res.item.name, domain) } }),
      );
    },
  };
}

export function dnsResolveNse(opts: DnsResolveOptions): RegistryElement<NetworkServiceEndpoint> {
  const r = resolving(opts);
  return {
    async register(ctx, nse, next) {
      const domain = nseDomain(nse);
      const out = await next.register(await r.registry(ctx, domain), nseNames(nse, (n) => strip(n, domain)));
      return nseNames(out, (n) => append(n, domain));
    },
    async unregister(ctx, nse, next) {
      const domain = nseDomain(nse);
      return next.unregister(await r.registry(ctx, domain), nseNames(nse, (n) => strip(n, domain)));
    },
    async find(ctx, query, sink, next) {
      const domain = nseDomain(query.item);
      const remote = await r.registry(ctx, domain);
      const proxyUrl = await r.nsmgrProxy(domain);
      return next.find(remote, { ...query, item: nseNames(query.item, (n) => strip(n, domain)) }, (res) => {
        const item = nseNames(res.item, (n) => append(n, domain));
        return sink({ ...res, item: proxyUrl ? { ...item, url: proxyUrl } : item });
      });
    },
  };
}
