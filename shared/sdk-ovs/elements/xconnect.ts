// The cross-connect. Two OVS ports (veth/veth or veth/vxlan): two OpenFlow rules joining them, under
// a cookie derived from the connection so that exactly they can be removed. A routed side (WireGuard
// device): kernel policy routing between the veth and the tunnel (routing.ts).
import type { Connection } from '@nsm/api';
import { Context, createKey } from '@nsm/sdk/core/context';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { internal } from '@nsm/sdk/core/errors';
import { makeOrUndo, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { crossConnectFlows, flowCookie, vlanFlows } from '../flows';
import { addRouted, allocTable, delRouted, freeTable } from './routing';
import { clientPortKey, OvsBridge, PortRecord, serverPortKey } from './state';
import { log } from '@nsm/sdk/log';

type Made =
  | { kind: 'flows'; cookie: string; a: number; b: number; vlan?: number; undo?: () => Promise<void> }
  | { kind: 'routed'; table: number; a: string; b: string; sig: string };
const flowsKey = createKey<Made>('ovs.xconnect');

async function unmake(br: OvsBridge, m: Made | undefined): Promise<void> {
  if (!m) return;
  if (m.kind === 'flows') {
    if (m.undo) await m.undo();
    else await br.ovs.delFlows(br.bridge, { cookie: m.cookie });
  } else {
    await delRouted(m.table);
    freeTable(m.table);
  }
}

/** The veth side's pod addresses: the caller's (src) for the server half, the endpoint's (dst) for the client half. */
function routedSpec(conn: Connection, a: PortRecord, b: PortRecord) {
  const vethIsA = !!a.routed?.podMac;
  const veth = vethIsA ? a : b;
  const tunnel = vethIsA ? b : a;
  if (!veth.routed?.podMac) throw internal('cannot cross-connect two routed tunnel devices');
  const ipc = conn.context?.ipContext;
  const podAddrs = (vethIsA ? ipc?.srcIpAddrs : ipc?.dstIpAddrs) ?? [];
  return { veth: veth.name, tunnel: tunnel.name, podMac: veth.routed.podMac, podAddrs };
}

/** The ports of both sides, which the mechanism elements made further down the chain. */
function bothSides(ctx: Context): [PortRecord, PortRecord] {
  const a = serverMeta(ctx).get(serverPortKey);
  const b = clientMeta(ctx).get(clientPortKey);
  if (!a || !b) throw internal(`cannot cross-connect: ${!a ? 'caller' : 'next hop'} side has no port`);
  return [a, b];
}

/** Lets both pods resolve their peers at once (PortRecord.settle); a failure only costs that second. */
async function settle(a: PortRecord, b: PortRecord): Promise<void> {
  await Promise.all([a.settle?.(), b.settle?.()]).catch((err) => log.debug({ err: String(err) }, 'clearing neighbour entries failed'));
}

export function xconnect(br: OvsBridge): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      const [a, b] = await makeOrUndo(ctx, next, out, async () => bothSides(ctx));
      const prev = serverMeta(ctx).get(flowsKey);
      // A refresh that fails keeps the path it had (the client's heal or the expiry deals with it).
      await makeOrUndo(
        ctx,
        next,
        out,
        async () => {
          if (a.routed || b.routed) {
            const spec = routedSpec(out, a, b);
            const sig = `${spec.veth} ${spec.tunnel} ${spec.podMac} ${spec.podAddrs.join(',')}`;
            if (prev?.kind === 'routed' && prev.sig === sig) return;
            await unmake(br, prev);
            serverMeta(ctx).delete(flowsKey);
            const table = allocTable();
            try {
              await addRouted({ table, ...spec });
            } catch (e) {
              await delRouted(table).catch(() => undefined);
              freeTable(table);
              throw e;
            }
            serverMeta(ctx).set(flowsKey, { kind: 'routed', table, a: a.name, b: b.name, sig });
            return;
          }
          if (prev?.kind === 'flows' && prev.a === a.ofport && prev.b === b.ofport && prev.vlan === b.vlan) return;
          const cookie = flowCookie(out.id);
          await unmake(br, prev);
          if (b.crossConnect) {
            // A port shared by several connections knows how to join them itself.
            const undo = await b.crossConnect(a.ofport, cookie);
            serverMeta(ctx).set(flowsKey, { kind: 'flows', cookie, a: a.ofport, b: b.ofport, vlan: b.vlan, undo });
            await settle(a, b);
            return;
          }
          // A next hop on a trunk (VLAN trunking to an endpoint): tag toward it, untag from it.
          await br.ovs.addFlows(br.bridge, b.vlan ? vlanFlows(b.ofport, a.ofport, b.vlan, cookie) : crossConnectFlows(a.ofport, b.ofport, cookie));
          serverMeta(ctx).set(flowsKey, { kind: 'flows', cookie, a: a.ofport, b: b.ofport, vlan: b.vlan });
          await settle(a, b);
        },
        { undo: !prev },
      );
      return out;
    },
    async close(ctx, conn, next) {
      const m = serverMeta(ctx).take(flowsKey);
      await unmake(br, m).catch(() => undefined);
      return next.close(ctx, conn);
    },
  };
}
