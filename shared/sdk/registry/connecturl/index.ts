// connecturl (NS/NSE server; proxy registries): forwards each call to the registry whose URL an
// earlier element put in the context (dnsresolve: the other domain's registry), with one client per
// URL, made on first use and kept for the next call. Without a URL the call is refused: a proxy
// registry has nowhere of its own to answer from.
import { createKey } from '../../core/context';
import { failedPrecondition } from '../../core/errors';
import type { RegistryElement, RegistryHandler } from '../../core/registry';

/** The registry URL a call goes to (upstream: the registry's client URL in the context). */
export const registryUrlKey = createKey<string>('registry.clientURL');

export interface ConnectUrl<T> extends RegistryElement<T> {
  /** Clients made so far, by URL. */
  readonly urls: string[];
  close(): void;
}

export function connectUrl<T>(client: (url: string) => RegistryHandler<T> & { close(): void }): ConnectUrl<T> {
  const clients = new Map<string, RegistryHandler<T> & { close(): void }>();
  const get = (url: string | undefined) => {
    if (!url) throw failedPrecondition('no registry URL for this call (an interdomain name is needed)');
    let c = clients.get(url);
    if (!c) clients.set(url, (c = client(url)));
    return c;
  };
  return {
    get urls() {
      return [...clients.keys()];
    },
    async register(ctx, item, next) {
      return next.register(ctx, await get(ctx.get(registryUrlKey)).register(ctx, item));
    },
    async unregister(ctx, item, next) {
      await get(ctx.get(registryUrlKey)).unregister(ctx, item);
      return next.unregister(ctx, item);
    },
    async find(ctx, query, sink, next) {
      await get(ctx.get(registryUrlKey)).find(ctx, query, sink);
      return next.find(ctx, query, sink);
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
