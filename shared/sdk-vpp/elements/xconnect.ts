// The cross-connect between the caller side's VPP interface and the next hop's (dataplane.md §11.3).
// Two Ethernet interfaces: an L2 cross-connect each way. With an L3-only side (WireGuard), which has
// no Ethernet to copy, both interfaces go into a table of their own holding one route per address:
// the client's addresses toward the caller side, the endpoint's toward the next hop (upstream uses
// l3xc for this; VPP's l3xc is not among the definitions this client ships). Close undoes it before
// the interfaces are removed.
import { Context, createKey } from '@nsm/sdk/core/context';
import { internal } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { makeOrUndo, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import type { IpRoute } from '../api';
import { hostOf, releaseAll } from './common';
import { clientIfKey, serverIfKey, VppDataplane, VppInterfaceRecord } from './state';

const doneKey = createKey<{ a: number; b: number; undo(): Promise<void> }>('vpp.xconnect');

/** First table id used for per-connection L3 cross-connects. */
export const XCONNECT_TABLE_BASE = 0x4e534d00;

/** The interfaces of both sides, which the mechanism elements made further down the chain. */
function bothSides(ctx: Context): [VppInterfaceRecord, VppInterfaceRecord] {
  const a = serverMeta(ctx).get(serverIfKey);
  const b = clientMeta(ctx).get(clientIfKey);
  if (!a || !b) throw internal(`cannot cross-connect: the ${!a ? 'caller' : 'next hop'} side has no VPP interface`);
  return [a, b];
}

export function xconnect(dp: VppDataplane): NetworkServiceElement {
  let nextTable = XCONNECT_TABLE_BASE;
  const l2 = async (a: VppInterfaceRecord, b: VppInterfaceRecord) => {
    await dp.api.l2Xconnect(a.swIfIndex, b.swIfIndex, true);
    await dp.api.l2Xconnect(b.swIfIndex, a.swIfIndex, true);
    return () => releaseAll('l2 xconnect', [() => dp.api.l2Xconnect(a.swIfIndex, b.swIfIndex, false), () => dp.api.l2Xconnect(b.swIfIndex, a.swIfIndex, false)]);
  };
  const l3 = async (a: VppInterfaceRecord, b: VppInterfaceRecord, srcAddrs: string[], dstAddrs: string[]) => {
    const table = nextTable++;
    const route = (cidr: string, to: VppInterfaceRecord): IpRoute => {
      const ip = hostOf(cidr);
      return { prefix: `${ip}/${ip.includes(':') ? 128 : 32}`, tableId: table, paths: [{ swIfIndex: to.swIfIndex, nextHop: to.l3 ? undefined : ip }] };
    };
    const routes = [...srcAddrs.map((s) => route(s, a)), ...dstAddrs.map((d) => route(d, b))];
    const families = [false, true].filter((v6) => routes.some((r) => r.prefix.includes(':') === v6));
    const steps: Array<() => Promise<unknown>> = [];
    const undoAll = () => releaseAll(`l3 xconnect table ${table}`, [...steps].reverse());
    try {
      for (const v6 of families) {
        await dp.api.ipTable(table, v6, true);
        steps.push(() => dp.api.ipTable(table, v6, false));
        for (const x of [a, b]) {
          await dp.api.setInterfaceTable(x.swIfIndex, table, v6);
          steps.push(() => dp.api.setInterfaceTable(x.swIfIndex, 0, v6));
          await dp.api.enableIp(x.swIfIndex, v6, true);
          steps.push(() => dp.api.enableIp(x.swIfIndex, v6, false));
        }
      }
      for (const r of routes) {
        await dp.api.ipRoute(r, true);
        steps.push(() => dp.api.ipRoute(r, false));
      }
    } catch (err) {
      await undoAll();
      throw err;
    }
    return undoAll;
  };

  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      const [a, b] = await makeOrUndo(ctx, next, out, async () => bothSides(ctx));
      const prev = serverMeta(ctx).get(doneKey);
      if (prev && prev.a === a.swIfIndex && prev.b === b.swIfIndex) return out;
      if (prev) await prev.undo();
      await makeOrUndo(ctx, next, out, async () => {
        const ip = out.context?.ipContext;
        const undoIt = a.l3 || b.l3 ? await l3(a, b, ip?.srcIpAddrs ?? [], ip?.dstIpAddrs ?? []) : await l2(a, b);
        serverMeta(ctx).set(doneKey, { a: a.swIfIndex, b: b.swIfIndex, undo: undoIt });
      });
      return out;
    },
    async close(ctx, conn, next) {
      await serverMeta(ctx).take(doneKey)?.undo();
      return next.close(ctx, conn);
    },
  };
}
