// unregister-on-close (NS/NSE client): remembers every record registered through it so that closing
// the client unregisters them all (an NSE going away removes itself instead of waiting for expiry).
import { Context } from '../../core/context';
import type { RegistryElement, RegistryHandler } from '../../core/registry';
import { log } from '../../log';

export interface UnregisterOnCloseElement<T> extends RegistryElement<T> {
  readonly registered: string[];
  /** Unregisters every remembered record through `via` (the whole client chain). */
  unregisterAll(via: RegistryHandler<T>, timeoutMs?: number): Promise<void>;
}

export function unregisterOnClose<T extends { name: string }>(): UnregisterOnCloseElement<T> {
  const items = new Map<string, T>();
  return {
    get registered() {
      return [...items.keys()];
    },
    async register(ctx, item, next) {
      const out = await next.register(ctx, item);
      items.set(out.name, out);
      return out;
    },
    async unregister(ctx, item, next) {
      await next.unregister(ctx, item);
      items.delete(item.name);
    },
    async unregisterAll(via, timeoutMs = 5000) {
      await Promise.all(
        [...items.values()].map(async (item) => {
          const { ctx, cancel } = Context.background().withTimeout(timeoutMs);
          try {
            await via.unregister(ctx, item);
          } catch (err) {
            log.warn({ name: item.name, err: String(err) }, 'unregister on close failed');
            items.delete(item.name);
          } finally {
            cancel();
          }
        }),
      );
    },
  };
}
