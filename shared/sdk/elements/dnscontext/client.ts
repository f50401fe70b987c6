// dnscontext client (sdk.md §3.26, NSC side): puts the DNS context the endpoint returned into the
// pod's resolver (files.ts: the resolver file, or the CoreDNS sidecar's Corefile) once the rest of the
// path answered, and takes it out again on Close. A reply whose DNS context may not be written is
// refused and its path closed again, as a dataplane element does with a part it cannot make.
import { closeThenRelease, makeOrUndo, type NetworkServiceElement } from '../../core/networkservice';
import type { DnsFiles } from './files';

export function dnsContextClient(files: DnsFiles): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      // A refresh refused this way closes the path, so what an earlier reply put in the resolver goes too.
      await makeOrUndo(ctx, next, out, () => files.set(out.id, out.context?.dnsContext?.configs ?? []), { forget: () => files.remove(out.id) });
      return out;
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, () => files.remove(conn.id));
    },
  };
}
