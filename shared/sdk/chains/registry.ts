// The standard registry chains, as literal ordered lists (sdk.md §5.4-5.6). NSE registrations carry
// their owner's registration path (path_ids): each registry server checks it (ownership), and an
// nsmgr appends its own ID before passing a record to the central registry (relayPath).
import type { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { Clock, realClock } from '../core/clock';
import { registryChain, registryHandler, RegistryHandler } from '../core/registry';
import type { ServiceRegistration } from '../grpc/server';
import { clientInfo } from '../registry/clientinfo';
import { connectTo } from '../registry/connect';
import { expire, ExpireElement } from '../registry/expire';
import { nseRegistryClient, nsRegistryClient, registryServices, RegistryServiceStats } from '../grpc/registry';
import { heal, HealElement } from '../registry/heal';
import { interdomainProxies } from './interdomain';
import { nsKind, nseKind } from '../core/recordkinds';
import { localBypass } from '../registry/localbypass';
import { ownership } from '../registry/ownership';
import { relayPath } from '../registry/relaypath';
import { memoryNetworkServiceEndpointStore, memoryNetworkServiceStore } from '../registry/store/memory';
import { refresh, RefreshElement } from '../registry/refresh';
import { serialize } from '../registry/serialize';
import { setPayload } from '../registry/setpayload';
import { setRegistrationTime } from '../registry/setregistrationtime';
import { storeElement, StoreElement } from '../registry/store';
import type { NetworkServiceEndpointStore, NetworkServiceStore } from '../registry/store/backend';
import { unregisterOnClose } from '../registry/unregisteronclose';
import { validate } from '../registry/validate';
import type { X509Source } from '../spiffe/source';

const MINUTE = 60_000;

// ------------------------------------------------------------------------------------------------
// Registry server (cmd-registry-k8s; also a memory registry)

export interface RegistryServerOptions {
  /** The stores; memory stores when left out. */
  stores?: { ns: NetworkServiceStore; nse: NetworkServiceEndpointStore } | (() => { ns: NetworkServiceStore; nse: NetworkServiceEndpointStore });
  /** Longest NSE lifetime without refresh (REGISTRY_K8S_EXPIRE_PERIOD); default 1 minute. */
  expiryMs?: number;
  clock?: Clock;
  /**
   * Where interdomain names (`name@domain`) go on to, after this registry kept them (the domain's
   * nsmgr-proxy; REGISTRY_K8S_PROXY_REGISTRY_URL). Without it they are kept here only.
   */
  proxy?: { url: string; source: X509Source };
}

export interface RegistryServer {
  ns: RegistryHandler<NetworkService>;
  nse: RegistryHandler<NetworkServiceEndpoint>;
  nsStore: StoreElement<NetworkService>;
  nseStore: StoreElement<NetworkServiceEndpoint>;
  expire: ExpireElement;
  stats: { ns: RegistryServiceStats; nse: RegistryServiceStats };
  /** Both gRPC services, for startServer. */
  services(): ServiceRegistration[];
  /** Starts the expiry of NSEs already in a persistent store (left by an earlier run); returns how many. */
  adoptExisting(): Promise<number>;
  /** Ends all watches and expiry timers, then closes the stores. */
  close(): Promise<void>;
}

export function registryServer(opts: RegistryServerOptions = {}): RegistryServer {
  const clock = opts.clock ?? realClock;
  const stores =
    typeof opts.stores === 'function' ? opts.stores() : (opts.stores ?? { ns: memoryNetworkServiceStore(), nse: memoryNetworkServiceEndpointStore() });
  const nsStore = storeElement(nsKind, stores.ns);
  const nseStore = storeElement(nseKind, stores.nse);
  const nseSerialize = serialize<NetworkServiceEndpoint>();
  const nseExpire = expire({ maxMs: opts.expiryMs ?? MINUTE, clock });
  const onward = opts.proxy ? interdomainProxies(opts.proxy.url, opts.proxy.source) : undefined;

  const ns = registryHandler(
    registryChain<NetworkService>(
      validate(nsKind), //
      serialize(),
      setPayload(),
      nsStore,
      ...(onward ? [onward.ns] : []),
    ),
  );
  const nse = registryHandler(
    registryChain<NetworkServiceEndpoint>(
      validate(nseKind),
      nseSerialize,
      ownership({ lookup: (name) => stores.nse.get(name) }),
      setRegistrationTime(clock),
      nseExpire,
      nseStore,
      ...(onward ? [onward.nse] : []),
    ),
  );
  const afterExpire = registryHandler(registryChain<NetworkServiceEndpoint>(nseStore));
  const stats = { ns: { activeFinds: 0 }, nse: { activeFinds: 0 } };

  return {
    ns,
    nse,
    nsStore,
    nseStore,
    expire: nseExpire,
    stats,
    services: () => registryServices(ns, nse, stats),
    async adoptExisting() {
      const existing = await stores.nse.list();
      for (const item of existing) {
        const adopted = nseExpire.adopt(item, afterExpire, nseSerialize.executor);
        if (adopted.expirationTime?.seconds !== item.expirationTime?.seconds) await stores.nse.put(adopted);
      }
      return existing.length;
    },
    async close() {
      nsStore.close();
      nseStore.close();
      nseExpire.stop();
      onward?.close();
      await Promise.all([stores.ns.close?.(), stores.nse.close?.()]);
    },
  };
}

// ------------------------------------------------------------------------------------------------
// nsmgr

export interface NsmgrRegistryOptions {
  /** The nsmgr's public URL: what the central registry is told for local NSEs. */
  nsmgrUrl: string;
  /** The nsmgr's identity toward the central registry; its ID joins the path_ids of what it relays. */
  source: X509Source;
  /** The central registry; without it the nsmgr registry is purely local. */
  registryUrl?: string;
  /** NSE lifetime without refresh; default 1 minute. */
  expiryMs?: number;
  clock?: Clock;
  /** Source of NODE_NAME / POD_NAME / CLUSTER_NAME; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface NsmgrRegistry {
  ns: RegistryHandler<NetworkService>;
  nse: RegistryHandler<NetworkServiceEndpoint>;
  /** Finds in the local in-memory NSE store only (forwarder discovery). */
  localNse: RegistryHandler<NetworkServiceEndpoint>;
  nseStore: StoreElement<NetworkServiceEndpoint>;
  nsStore?: StoreElement<NetworkService>;
  expire: ExpireElement;
  services(): ServiceRegistration[];
  close(): Promise<void>;
}

export function nsmgrRegistry(opts: NsmgrRegistryOptions): NsmgrRegistry {
  const clock = opts.clock ?? realClock;
  const remote = opts.registryUrl || undefined;
  const clients: { close(): void }[] = [];
  const track = <C extends { close(): void }>(c: C): C => (clients.push(c), c);
  const nsStore = remote ? undefined : storeElement(nsKind, memoryNetworkServiceStore());
  const nseBackend = memoryNetworkServiceEndpointStore();
  const nseStore = storeElement(nseKind, nseBackend);
  const nseExpire = expire({ maxMs: opts.expiryMs ?? MINUTE, clock });

  const ns = registryHandler(
    registryChain<NetworkService>(
      validate(nsKind),
      serialize(),
      // NetworkServices live in the central registry when there is one, else here.
      ...(remote ? [connectTo(() => track(nsRegistryClient(remote, opts.source)))] : [nsStore!]),
    ),
  );
  const nse = registryHandler(
    registryChain<NetworkServiceEndpoint>(
      validate(nseKind),
      clientInfo(opts.env),
      serialize(),
      ownership({ lookup: (name) => nseBackend.get(name) }),
      nseExpire,
      nseStore, // the local store: real URLs of the NSEs and forwarders of this node
      ...(remote ? [relayPath(() => opts.source.current()?.svid.id), localBypass(opts.nsmgrUrl), connectTo(() => track(nseRegistryClient(remote, opts.source)))] : [localBypass(opts.nsmgrUrl)]),
    ),
  );
  const localNse = registryHandler(registryChain<NetworkServiceEndpoint>(validate(nseKind), nseStore));

  return {
    ns,
    nse,
    localNse,
    nseStore,
    nsStore,
    expire: nseExpire,
    services: () => registryServices(ns, nse),
    async close() {
      nsStore?.close();
      nseStore.close();
      nseExpire.stop();
      for (const c of clients) c.close();
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Registration client (NSEs and forwarders, through their nsmgr)

export interface RegistrationClientOptions {
  url: string;
  /** The registrant's identity: what owns its registrations. */
  source: X509Source;
  clock?: Clock;
  /** Also unregister the NetworkServices registered through this client on close(); default false. */
  unregisterServicesOnClose?: boolean;
  /** Pause between heal attempts; default 200 ms. */
  healRetryMs?: number;
}

export interface RegistrationClient {
  ns: RegistryHandler<NetworkService>;
  nse: RegistryHandler<NetworkServiceEndpoint>;
  refresh: RefreshElement;
  heal: { ns: HealElement<NetworkService>; nse: HealElement<NetworkServiceEndpoint> };
  /** Unregisters every NSE registered through this client (and NSs if asked), then closes the connections. */
  close(): Promise<void>;
}

export function registrationClient(opts: RegistrationClientOptions): RegistrationClient {
  const clock = opts.clock ?? realClock;
  const nsGrpc = nsRegistryClient(opts.url, opts.source);
  const nseGrpc = nseRegistryClient(opts.url, opts.source);
  const nseClose = unregisterOnClose<NetworkServiceEndpoint>();
  const nsClose = unregisterOnClose<NetworkService>();
  const nseRefresh = refresh({ clock });
  const nseHeal = heal(nseKind, { clock, retryMs: opts.healRetryMs });
  const nsHeal = heal(nsKind, { clock, retryMs: opts.healRetryMs });

  const nse = registryHandler(
    registryChain<NetworkServiceEndpoint>(
      serialize(), //
      nseClose,
      nseRefresh,
      nseHeal,
    ),
    nseGrpc,
  );
  const ns = registryHandler(
    registryChain<NetworkService>(
      nsClose, //
      nsHeal,
    ),
    nsGrpc,
  );
  nseHeal.setTop(nse);
  nsHeal.setTop(ns);

  return {
    ns,
    nse,
    refresh: nseRefresh,
    heal: { ns: nsHeal, nse: nseHeal },
    async close() {
      await nseClose.unregisterAll(nse);
      if (opts.unregisterServicesOnClose) await nsClose.unregisterAll(ns);
      nseRefresh.stop();
      nseHeal.stop();
      nsHeal.stop();
      nsGrpc.close();
      nseGrpc.close();
    },
  };
}
