// clienturl (sdk.md §3.15): the next hop's URL travels in the context; this element sets a fixed one.
import { createKey } from '../../core/context';
import type { NetworkServiceElement } from '../../core/networkservice';

export const clientUrlKey = createKey<string>('clientURL');

/** With no URL it does nothing, so a URL chosen earlier (by discovery) survives. */
export function clientUrl(url?: string): NetworkServiceElement {
  if (!url) return {};
  return {
    request: (ctx, req, next) => next.request(ctx.with(clientUrlKey, url), req),
    close: (ctx, conn, next) => next.close(ctx.with(clientUrlKey, url), conn),
  };
}
