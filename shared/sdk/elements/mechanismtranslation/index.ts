// mechanismtranslation client (sdk.md §3.22): a forwarder does not pass on the mechanism it agreed
// with its caller. Downstream gets a fresh preference list (filled by the client mechanism elements
// after this one) and the mechanism agreed downstream last time; the caller gets its own back.
import { createKey } from '../../core/context';
import { clone } from '../../core/conn';
import { clientMeta } from '../../core/metadata';
import type { Mechanism } from '@nsm/api';
import type { NetworkServiceElement } from '../../core/networkservice';

const downstreamKey = createKey<Mechanism>('mechanismtranslation.downstream');

export function mechanismTranslation(): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const upstream = req.connection!.mechanism;
      const out = clone(req);
      out.mechanismPreferences = [];
      out.connection!.mechanism = clientMeta(ctx).get(downstreamKey);
      const conn = await next.request(ctx, out);
      if (conn.mechanism) clientMeta(ctx).set(downstreamKey, clone(conn.mechanism));
      conn.mechanism = upstream;
      return conn;
    },
    async close(ctx, conn, next) {
      const down = clientMeta(ctx).take(downstreamKey);
      const out = clone(conn);
      out.mechanism = down;
      return next.close(ctx, out);
    },
  };
}

export { downstreamKey as downstreamMechanismKey };
