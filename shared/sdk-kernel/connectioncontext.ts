// What one side of a connection gets on its interface (api.md §9.1): the client side uses the src_*
// fields, the endpoint side the dst_*; a route without nextHop goes on-link when its prefix is within
// the peer's addresses, else via the peer's first address of the same family.
import type { ConnectionContext } from '@nsm/api';
import type { IpContextSpec, RouteSpec } from './ipcontext';

export type Side = 'src' | 'dst';

const family = (cidr: string) => (cidr.includes(':') ? 6 : 4);
const addrOf = (cidr: string) => cidr.split('/')[0];

export function ipSpecFor(side: Side, ctx: ConnectionContext | undefined, mtu?: number): IpContextSpec {
  const ip = ctx?.ipContext;
  const own = (side === 'src' ? ip?.srcIpAddrs : ip?.dstIpAddrs) ?? [];
  const peer = (side === 'src' ? ip?.dstIpAddrs : ip?.srcIpAddrs) ?? [];
  const routes = (side === 'src' ? ip?.srcRoutes : ip?.dstRoutes) ?? [];
  const out: RouteSpec[] = routes.map((r) => {
    if (r.nextHop) return { prefix: r.prefix, via: r.nextHop };
    const peerSame = peer.filter((p) => family(p) === family(r.prefix));
    const onLink = peerSame.some((p) => addrOf(p) === addrOf(r.prefix)) || peerSame.length === 0;
    return onLink ? { prefix: r.prefix } : { prefix: r.prefix, via: addrOf(peerSame[0]) };
  });
  // Every peer address must be reachable over this interface.
  for (const p of peer) {
    const host = `${addrOf(p)}/${family(p) === 6 ? 128 : 32}`;
    if (!out.some((r) => r.prefix === host || r.prefix === p)) out.push({ prefix: host });
  }
  return {
    addrs: own,
    routes: out,
    neighbors: (ip?.ipNeighbors ?? []).map((n) => ({ ip: n.ip, mac: n.hardwareAddress })),
    mtu: mtu || ctx?.MTU || undefined,
    up: true,
  };
}
