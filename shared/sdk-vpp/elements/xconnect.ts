// The cross-connect between the caller side's VPP interface and the next hop's (dataplane.md §11.3).
//
// Ethernet payload, or an IP connection whose far end resolves addresses itself (a VLAN breakout or a
// VXLAN tunnel, `l2Path`): an L2 cross-connect each way, frames copied verbatim; or, toward a side
// that is a shared segment (a VLAN's bridge domain), the other side joins it.
//
// IP payload otherwise: L3, what upstream does with l3xc (not in this VPP build). Per address family
// each side's interface goes into a table of its own whose only route is a default route to the
// other side: via the endpoint's first address out of the next-hop side, via the client's first
// address out of the caller side. So whatever enters one side leaves by the other, for every prefix
// the connection routes, and connections with overlapping addresses never meet. Each interface needs
// IP processing on: IPv6 by sw_interface_ip6_enable_disable, router advertisements suppressed; IPv4
// by a link-local /32 of its own (unique here, although VPP only refuses one another interface of the
// same table holds: -105), since VPP 25.02's sw_interface_ip4_enable_disable has the opposite effect
// of its name (`enable: true` leaves the interface dropping everything as ip4-not-enabled). On an
// Ethernet interface to a pod, static neighbours on both ends replace ARP (record.staticNeighbors).
// Close undoes it all, in reverse, before the interfaces are removed.
import type { Context } from '@nsm/sdk/core/context';
import { failedPrecondition, internal, resourceExhausted } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { makeOrUndo, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { Payload } from '@nsm/api';
import type { IpRoute } from '../api';
import { hostOf, releaseAll } from './common';
import { clientIfKey, serverIfKey, VppDataplane, VppInterfaceRecord, xconnectKey } from './state';


/** First table id used for per-connection L3 cross-connects (two per connection). */
export const XCONNECT_TABLE_BASE = 0x4e534d00;
/** Where the /32s that switch IPv4 on for cross-connected interfaces come from (169.254.0.0/16 less
 *  its first and last address): two per IPv4 connection. */
export const XCONNECT_IP4_POOL = '169.254.0.0/16';
const POOL_SIZE = 0xfffe;

/** Link-local /32s handed out one per interface and taken back on Close. */
class LinkLocalPool {
  private readonly used = new Set<number>();
  private next = 0;
  take(): string {
    if (this.used.size >= POOL_SIZE) throw resourceExhausted(`no free address left in ${XCONNECT_IP4_POOL} for another IPv4 cross-connect`);
    while (this.used.has(this.next)) this.next = (this.next + 1) % POOL_SIZE;
    const n = this.next;
    this.used.add(n);
    const host = n + 1;
    return `169.254.${host >> 8}.${host & 0xff}/32`;
  }
  give(cidr: string): void {
    const [, , c, d] = cidr.split('/')[0].split('.').map(Number);
    this.used.delete(c * 256 + d - 1);
  }
}

const isV6 = (cidr: string) => hostOf(cidr).includes(':');

type Step = () => Promise<unknown>;

/** The interfaces of both sides, which the mechanism elements made further down the chain. */
function bothSides(ctx: Context): [VppInterfaceRecord, VppInterfaceRecord] {
  const a = serverMeta(ctx).get(serverIfKey);
  const b = clientMeta(ctx).get(clientIfKey);
  if (!a || !b) throw internal(`cannot cross-connect: the ${!a ? 'caller' : 'next hop'} side has no VPP interface`);
  return [a, b];
}

export function xconnect(dp: VppDataplane): NetworkServiceElement {
  let nextTable = XCONNECT_TABLE_BASE;
  const pool = new LinkLocalPool();
  const { api } = dp;

  const l2 = async (a: VppInterfaceRecord, b: VppInterfaceRecord) => {
    const segment = a.join ? [a, b] : b.join ? [b, a] : undefined;
    if (segment) return segment[0].join!(segment[1]);
    const l3only = [a, b].find((x) => x.l3);
    if (l3only) throw failedPrecondition(`cannot cross-connect ${a.describe} and ${b.describe} at L2: ${l3only.describe} carries IP only`);
    await api.l2Xconnect(a.swIfIndex, b.swIfIndex, true);
    await api.l2Xconnect(b.swIfIndex, a.swIfIndex, true);
    return () => releaseAll('l2 xconnect', [() => api.l2Xconnect(a.swIfIndex, b.swIfIndex, false), () => api.l2Xconnect(b.swIfIndex, a.swIfIndex, false)]);
  };

  const l3 = async (a: VppInterfaceRecord, b: VppInterfaceRecord, srcAddrs: string[], dstAddrs: string[]) => {
    const tables = [nextTable, nextTable + 1];
    nextTable += 2;
    const done: Step[] = [];
    const run = async (step: () => Promise<unknown>, undoIt: Step) => {
      await step();
      done.push(undoIt);
    };
    const undoAll = () => releaseAll(`l3 xconnect tables ${tables.join('/')}`, [...done].reverse());
    try {
      for (const v6 of [false, true]) {
        const src = srcAddrs.filter((x) => isV6(x) === v6);
        const dst = dstAddrs.filter((x) => isV6(x) === v6);
        // A family only one side has carries nothing.
        if (!src.length || !dst.length) continue;
        const sides: Array<[VppInterfaceRecord, number, string]> = [
          [a, tables[0], hostOf(dst[0])], // enters at the caller side: out of b toward the endpoint
          [b, tables[1], hostOf(src[0])],
        ];
        for (const [x, table] of sides) {
          await run(() => api.ipTable(table, v6, true), () => api.ipTable(table, v6, false));
          await run(() => api.setInterfaceTable(x.swIfIndex, table, v6), () => api.setInterfaceTable(x.swIfIndex, 0, v6));
          if (v6) {
            await run(() => api.enableIp(x.swIfIndex, true, true), () => api.enableIp(x.swIfIndex, true, false));
            // Else a pod behind it would take VPP as its IPv6 default router within minutes. (Only
            // Ethernet interfaces advertise; VPP refuses the call on WireGuard ones: -62.)
            if (!x.l3) await api.suppressRouterAdvertisements(x.swIfIndex);
          } else {
            const ip4 = pool.take();
            done.push(async () => pool.give(ip4));
            await run(() => api.interfaceAddress(x.swIfIndex, ip4, true), () => api.interfaceAddress(x.swIfIndex, ip4, false));
          }
        }
        for (const [x, table, nextHop] of sides) {
          const out = x === a ? b : a;
          const route: IpRoute = { prefix: v6 ? '::/0' : '0.0.0.0/0', tableId: table, paths: [{ swIfIndex: out.swIfIndex, nextHop }] };
          await run(() => api.ipRoute(route, true), () => api.ipRoute(route, false));
        }
      }
      for (const [x, own, remote] of [[a, srcAddrs, dstAddrs], [b, dstAddrs, srcAddrs]] as const) {
        if (x.staticNeighbors) done.push(await x.staticNeighbors(own, remote));
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
      const prev = serverMeta(ctx).get(xconnectKey);
      if (prev && prev.a === a.swIfIndex && prev.b === b.swIfIndex) return out;
      if (prev) await prev.undo();
      await makeOrUndo(ctx, next, out, async () => {
        const ip = out.context?.ipContext;
        const viaL3 = out.payload !== Payload.ETHERNET && !a.l2Path && !b.l2Path;
        const undoIt = viaL3 ? await l3(a, b, ip?.srcIpAddrs ?? [], ip?.dstIpAddrs ?? []) : await l2(a, b);
        serverMeta(ctx).set(xconnectKey, { a: a.swIfIndex, b: b.swIfIndex, undo: undoIt });
      });
      return out;
    },
    async close(ctx, conn, next) {
      await serverMeta(ctx).take(xconnectKey)?.undo();
      return next.close(ctx, conn);
    },
  };
}
