// connect (NS/NSE server): forwards every call to another registry (the central registry behind an
// nsmgr) through a registry client, then continues the chain with what the remote returned. The client
// is created on first use.
import type { RegistryElement, RegistryHandler } from '../../core/registry';

export function connectTo<T>(client: RegistryHandler<T> | (() => RegistryHandler<T>)): RegistryElement<T> {
  let c: RegistryHandler<T> | undefined = typeof client === 'function' ? undefined : client;
  const get = () => (c ??= (client as () => RegistryHandler<T>)());
  return {
    async register(ctx, item, next) {
      return next.register(ctx, await get().register(ctx, item));
    },
    async find(ctx, query, sink, next) {
      await get().find(ctx, query, sink);
      return next.find(ctx, query, sink);
    },
    async unregister(ctx, item, next) {
      await get().unregister(ctx, item);
      return next.unregister(ctx, item);
    },
  };
}
