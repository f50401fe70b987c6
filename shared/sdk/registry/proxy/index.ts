// proxy (NS/NSE server; registry chains, sdk.md §4.10): a registry hands interdomain names
// (`name@domain`) to its proxy registry (the nsmgr-proxy, then the registry-proxy-dns) and answers
// nothing for the rest: a Register returns its input, an Unregister succeeds, a Find finds nothing,
// and the rest of the chain is not called. It sits last, after the registry's own store, so a
// registry keeps what passes through it and also forwards it.
import type { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import type { RegistryElement, RegistryHandler } from '../../core/registry';
import { isInterdomain } from '../../input/interdomain';

export type InterdomainTest<T> = (item: T, op: 'register' | 'unregister' | 'find') => boolean;

export const nsIsInterdomain: InterdomainTest<NetworkService> = (ns) => isInterdomain(ns.name);

/** An NSE Register/Unregister by its name; a Find also by any of the queried service names. */
export const nseIsInterdomain: InterdomainTest<NetworkServiceEndpoint> = (nse, op) =>
  isInterdomain(nse.name) || (op === 'find' && (nse.networkServiceNames ?? []).some(isInterdomain));

export function proxy<T>(isInterdomainRecord: InterdomainTest<T>, client: () => RegistryHandler<T>): RegistryElement<T> {
  let c: RegistryHandler<T> | undefined;
  const get = () => (c ??= client());
  return {
    async register(ctx, item, next) {
      if (!isInterdomainRecord(item, 'register')) return item;
      return next.register(ctx, await get().register(ctx, item));
    },
    async unregister(ctx, item, next) {
      if (!isInterdomainRecord(item, 'unregister')) return;
      await get().unregister(ctx, item);
      return next.unregister(ctx, item);
    },
    async find(ctx, query, sink, next) {
      if (!isInterdomainRecord(query.item, 'find')) return;
      await get().find(ctx, query, sink);
      return next.find(ctx, query, sink);
    },
  };
}
