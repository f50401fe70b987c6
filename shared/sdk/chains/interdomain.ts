// The interdomain products as literal ordered lists (sdk.md §5.5, §5.10): the nsmgr-proxy, which
// carries Requests and registry calls across a domain's edge, and the registry proxy, which finds
// another domain's registry through DNS. Both sit between this domain's registry (whose `proxy`
// element hands them interdomain names) and the other domain.
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import type { Clock } from '../core/clock';
import { findAll, registryChain, registryHandler, RegistryHandler } from '../core/registry';
import { nsKind, nseKind } from '../core/recordkinds';
import { authorizeClient } from '../elements/authorizeclient';
import { connectServer } from '../elements/connect/server';
import { discover } from '../elements/discover';
import { interdomainUrl } from '../elements/interdomainurl';
import { swapIp } from '../elements/swapip';
import type { ServiceRegistration } from '../grpc/server';
import { nseRegistryClient, nsRegistryClient, registryServices } from '../grpc/registry';
import type { IpSwap } from '../input/ipmap';
import type { Policy } from '../policy';
import { checkCallerPath } from '../registry/callerpath';
import { connectUrl } from '../registry/connecturl';
import { dnsResolveNs, dnsResolveNse } from '../registry/dnsresolve';
import type { DomainResolver } from '../registry/dnsresolve/resolver';
import { floatingUrls } from '../registry/floatingurls';
import { nseIsInterdomain, nsIsInterdomain, proxy } from '../registry/proxy';
import { relayPath } from '../registry/relaypath';
import { setUrl } from '../registry/seturl';
import { storeUrl, UrlBook } from '../registry/storeurl';
import { swapIpRegistry } from '../registry/swapip';
import { validate } from '../registry/validate';
import type { X509Source } from '../spiffe/source';
import type { TokenGenerator } from '../token';
import { client } from './client';
import { endpoint, Endpoint } from './endpoint';

const NO_SWAP: IpSwap = { toExternal: () => undefined, toInternal: () => undefined };

/** The registry elements a domain's registry (or nsmgr-proxy) ends with to hand interdomain names on. */
export function interdomainProxies(proxyUrl: string, source: X509Source) {
  const clients: { close(): void }[] = [];
  const track = <C extends { close(): void }>(c: C): C => (clients.push(c), c);
  return {
    ns: proxy<NetworkService>(nsIsInterdomain, () => track(nsRegistryClient(proxyUrl, source))),
    nse: registryChain<NetworkServiceEndpoint>(
      checkCallerPath(),
      relayPath(() => source.current()?.svid.id),
      proxy(nseIsInterdomain, () => track(nseRegistryClient(proxyUrl, source))),
    ),
    close: () => clients.forEach((c) => c.close()),
  };
}

// ------------------------------------------------------------------------------------------------
// nsmgr-proxy

export interface NsmgrProxyOptions {
  name: string;
  tokens: TokenGenerator;
  source: X509Source;
  policies?: readonly Policy[];
  clock?: Clock;
  /** This domain's registry: where the endpoints behind this proxy are found by name. */
  registryUrl: string;
  /** The registry proxy (cmd-registry-proxy-dns) that interdomain registry calls go on to. */
  proxyRegistryUrl: string;
  /** What other domains are told to dial for this proxy (seturl); the address map applies to it. */
  publicUrl: string;
  /** Internal ↔ external addresses (the address map file); default none. */
  swap?: IpSwap;
  dialTimeoutMs?: number;
}

export interface NsmgrProxy extends Endpoint {
  /** Both registries, for startServer beside the NetworkService services. */
  registryServices(): ServiceRegistration[];
  book: UrlBook;
  close(): void;
}

export function nsmgrProxy(opts: NsmgrProxyOptions): NsmgrProxy {
  const swap = opts.swap ?? NO_SWAP;
  const book = new UrlBook();
  const localNs = nsRegistryClient(opts.registryUrl, opts.source);
  const localNse = nseRegistryClient(opts.registryUrl, opts.source);
  const onward = interdomainProxies(opts.proxyRegistryUrl, opts.source);

  const ep = endpoint({
    name: opts.name,
    tokens: opts.tokens,
    clock: opts.clock,
    policies: opts.policies,
    additional: [
      interdomainUrl(book, async (ctx, name) => void (await findAll(nse, ctx, NetworkServiceEndpoint.fromPartial({ name })))),
      discover({ ns: localNs, nse: localNse, clock: opts.clock }),
      swapIp(swap),
      connectServer(
        client({
          name: opts.name,
          tokens: opts.tokens,
          source: opts.source,
          clock: opts.clock,
          refresh: false,
          authorize: authorizeClient({ clock: opts.clock, closePolicies: [] }),
          dialTimeoutMs: opts.dialTimeoutMs,
        }),
      ),
    ],
  });

  const ns = registryHandler(registryChain<NetworkService>(validate(nsKind), onward.ns));
  // The endpoint chain above looks endpoints up through this (interdomainurl), once requests come.
  const nse: RegistryHandler<NetworkServiceEndpoint> = registryHandler(
    registryChain<NetworkServiceEndpoint>(
      validate(nseKind), //
      floatingUrls(book),
      setUrl(opts.publicUrl),
      swapIpRegistry(swap),
      storeUrl(book),
      onward.nse,
    ),
  );
  return {
    name: ep.name,
    handler: ep.handler,
    monitor: ep.monitor,
    begin: ep.begin,
    services: () => ep.services(),
    book,
    registryServices: () => registryServices(ns, nse),
    close() {
      onward.close();
      localNs.close();
      localNse.close();
    },
  };
}

// ------------------------------------------------------------------------------------------------
// registry-proxy-dns

export interface RegistryProxyDnsOptions {
  resolver: DomainResolver;
  source: X509Source;
  registryService?: string;
  nsmgrProxyService?: string;
}

export interface RegistryProxyDns {
  ns: RegistryHandler<NetworkService>;
  nse: RegistryHandler<NetworkServiceEndpoint>;
  services(): ServiceRegistration[];
  close(): void;
}

export function registryProxyDns(opts: RegistryProxyDnsOptions): RegistryProxyDns {
  const names = { resolver: opts.resolver, registryService: opts.registryService, nsmgrProxyService: opts.nsmgrProxyService };
  const nsConnect = connectUrl<NetworkService>((url) => nsRegistryClient(url, opts.source));
  const nseConnect = connectUrl<NetworkServiceEndpoint>((url) => nseRegistryClient(url, opts.source));
  const ns = registryHandler(registryChain<NetworkService>(validate(nsKind), dnsResolveNs(names), nsConnect));
  const nse = registryHandler(
    registryChain<NetworkServiceEndpoint>(
      validate(nseKind), //
      checkCallerPath(),
      relayPath(() => opts.source.current()?.svid.id),
      dnsResolveNse(names),
      nseConnect,
    ),
  );
  return {
    ns,
    nse,
    services: () => registryServices(ns, nse),
    close() {
      nsConnect.close();
      nseConnect.close();
    },
  };
}
