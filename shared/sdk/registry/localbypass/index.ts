// localbypass (NSE server; nsmgr): what an nsmgr forwards upstream carries the nsmgr's own URL, while
// local parties keep seeing the endpoint's real (usually unix socket) URL. Results of a Find that name
// a local endpoint get its real URL back; upstream records pointing at this nsmgr that are not local
// (stale registrations of a previous life) are dropped.
import type { NetworkServiceEndpoint } from '@nsm/api';
import { invalidArgument } from '../../core/errors';
import type { RegistryElement } from '../../core/registry';

export function localBypass(nsmgrUrl: string): RegistryElement<NetworkServiceEndpoint> & { size(): number } {
  const real = new Map<string, string>();
  const upstream = (nse: NetworkServiceEndpoint) => (nsmgrUrl ? { ...nse, url: nsmgrUrl } : nse);
  return {
    size: () => real.size,
    async register(ctx, nse, next) {
      if (!nse.url) throw invalidArgument('network_service_endpoint.url must not be empty');
      const before = real.get(nse.name);
      real.set(nse.name, nse.url);
      let out: NetworkServiceEndpoint;
      try {
        out = await next.register(ctx, upstream(nse));
      } catch (err) {
        if (before === undefined) real.delete(nse.name);
        else real.set(nse.name, before);
        throw err;
      }
      if (out.name !== nse.name) real.delete(nse.name);
      real.set(out.name, nse.url);
      return { ...out, url: nse.url };
    },
    find(ctx, query, sink, next) {
      return next.find(ctx, query, (r) => {
        const url = real.get(r.item.name);
        if (url !== undefined) return sink({ item: { ...r.item, url }, deleted: r.deleted });
        if (nsmgrUrl && r.item.url === nsmgrUrl && !r.deleted) return;
        return sink(r);
      });
    },
    async unregister(ctx, nse, next) {
      if (!real.has(nse.name)) return;
      await next.unregister(ctx, upstream(nse));
      real.delete(nse.name);
    },
  };
}
