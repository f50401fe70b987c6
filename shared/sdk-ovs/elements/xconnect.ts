// The cross-connect: two OpenFlow rules joining the caller side's port and the next hop's port, under
// a cookie derived from the connection so that exactly they can be removed.
import { createKey } from '@nsm/sdk/core/context';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { Code, StatusError } from '@nsm/sdk/core/errors';
import type { NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { clone } from '@nsm/sdk/core/conn';
import { crossConnectFlows, flowCookie } from '../flows';
import { clientPortKey, OvsBridge, serverPortKey } from './state';

const flowsKey = createKey<{ cookie: string; a: number; b: number }>('ovs.xconnect');

export function xconnect(br: OvsBridge): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      const a = serverMeta(ctx).get(serverPortKey);
      const b = clientMeta(ctx).get(clientPortKey);
      if (!a || !b) {
        const { ctx: c, cancel } = ctx.detached();
        await next.close(c, clone(out)).catch(() => undefined);
        cancel();
        throw new StatusError(Code.INTERNAL, `cannot cross-connect: ${!a ? 'caller' : 'next hop'} side has no OVS port`);
      }
      const prev = serverMeta(ctx).get(flowsKey);
      if (prev && prev.a === a.ofport && prev.b === b.ofport) return out;
      const cookie = flowCookie(out.id);
      if (prev) await br.ovs.delFlows(br.bridge, { cookie: prev.cookie });
      await br.ovs.addFlows(br.bridge, crossConnectFlows(a.ofport, b.ofport, cookie));
      serverMeta(ctx).set(flowsKey, { cookie, a: a.ofport, b: b.ofport });
      return out;
    },
    async close(ctx, conn, next) {
      const f = serverMeta(ctx).take(flowsKey);
      if (f) await br.ovs.delFlows(br.bridge, { cookie: f.cookie }).catch(() => undefined);
      return next.close(ctx, conn);
    },
  };
}
