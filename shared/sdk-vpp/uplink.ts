// The node's uplinks in VPP. `attachUplink` is one af_packet interface on a host link, under the host
// link's MAC, admin up, with an address when given (a VLAN uplink has none). `initAfPacket` is what
// NSM_VPP_INIT=AF_PACKET does (dataplane.md §11.2): it finds the host link holding the tunnel IP (or
// carrying the default route), attaches it, and copies into VPP its MTU, the tunnel address with the
// link's prefix length, its static and reachable neighbours and its routes through gateways, so VPP
// sources VXLAN and WireGuard from the node's own address. The host keeps its own IP stack as it was
// (the control plane, kubelet, ssh), as upstream's does; VPP sees a copy of the link's frames. Without
// the deny-all ACLs upstream adds (no ACL plugin in this VPP), VPP also answers ARP for the address
// with the same MAC, which is harmless. Both are idempotent: a forwarder restarting against a running
// VPP finds its uplinks there and keeps them.
import { exec, ipArgv, type NetnsRef } from '@nsm/sdk-kernel';
import { AF_PACKET_FLAG_QDISC_BYPASS, AF_PACKET_MODE_ETHERNET, IP_NEIGHBOR_FLAG_STATIC, VppApi } from './api';

export interface UplinkOptions {
  /** The host link (a NIC, or a veth in tests). */
  hostIfName: string;
  /** Its MAC: VPP answers ARP for the tunnel IP with it. */
  mac: string;
  /** Address with the link's prefix length, e.g. "10.99.0.1/24"; none for an uplink used only by VLANs. */
  address?: string;
}

export interface Uplink {
  swIfIndex: number;
  /** VPP's name for it: host-<host link>. */
  name: string;
  release(): Promise<void>;
}

/** An af_packet interface on `hostIfName` (the one already there, if any), up, holding `address`. */
export async function attachUplink(api: VppApi, o: UplinkOptions): Promise<Uplink> {
  const name = `host-${o.hostIfName}`;
  const have = (await api.afPacketDump()).find((x) => x.hostIfName === o.hostIfName);
  const swIfIndex = have?.swIfIndex ?? (await api.afPacketCreate({ hostIfName: o.hostIfName, hwAddr: o.mac, mode: AF_PACKET_MODE_ETHERNET, flags: AF_PACKET_FLAG_QDISC_BYPASS }));
  const release = () => api.afPacketDelete(o.hostIfName);
  try {
    if (o.address && !(await api.ipAddressDump(swIfIndex, o.address.includes(':'))).includes(o.address)) await api.interfaceAddress(swIfIndex, o.address, true);
    await api.setInterfaceState(swIfIndex, true);
  } catch (err) {
    if (!have) await release().catch(() => undefined);
    throw err;
  }
  return { swIfIndex, name, release };
}

/** What initAfPacket copies from the host link. */
export interface HostLink {
  name: string;
  mac: string;
  mtu: number;
  /** The tunnel address with the link's prefix length. */
  address: string;
  /** Routes through a gateway on this link: prefix ("0.0.0.0/0" for default) and gateway. */
  routes: Array<{ prefix: string; gateway: string }>;
  /** PERMANENT and REACHABLE neighbours on this link. */
  neighbors: Array<{ ip: string; mac: string }>;
}

interface IpAddrJson {
  ifname: string;
  address?: string;
  mtu: number;
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope?: string }>;
}

const json = async <T>(ns: NetnsRef, args: string[]): Promise<T> => JSON.parse((await exec(ipArgv(ns, '-j', ...args))).stdout || '[]') as T;

/**
 * The host link initAfPacket attaches: the one holding `tunnelIp`, or (none given) the one carrying
 * the default route, whose first global address becomes the tunnel IP. Undefined when `tunnelIp` is
 * on no link (upstream then skips the step); an error when neither is there.
 */
export async function findHostLink(ns: NetnsRef, tunnelIp?: string): Promise<HostLink | undefined> {
  const links = await json<IpAddrJson[]>(ns, ['addr', 'show']);
  let link: IpAddrJson | undefined;
  let addr: { local: string; prefixlen: number } | undefined;
  if (tunnelIp) {
    link = links.find((l) => l.addr_info?.some((a) => a.local === tunnelIp));
    addr = link?.addr_info?.find((a) => a.local === tunnelIp);
    if (!link) return undefined;
  } else {
    const dev = (await json<Array<{ dev?: string }>>(ns, ['route', 'show', 'default'])).find((r) => r.dev)?.dev;
    if (!dev) throw new Error('no tunnel IP given and no default route to find the uplink by');
    link = links.find((l) => l.ifname === dev);
    addr = link?.addr_info?.find((a) => a.scope === 'global');
    if (!link || !addr) throw new Error(`the default route's link ${dev} has no global address to use as tunnel IP`);
  }
  const v6 = addr!.local.includes(':');
  const routes = (await json<Array<{ dst: string; gateway?: string; dev?: string }>>(ns, [v6 ? '-6' : '-4', 'route', 'show', 'dev', link.ifname]))
    .filter((r) => r.gateway)
    .map((r) => ({ prefix: r.dst === 'default' ? (v6 ? '::/0' : '0.0.0.0/0') : r.dst.includes('/') ? r.dst : `${r.dst}/${v6 ? 128 : 32}`, gateway: r.gateway! }));
  const neighbors = (await json<Array<{ dst: string; lladdr?: string; state?: string[] }>>(ns, ['neigh', 'show', 'dev', link.ifname]))
    .filter((n) => n.lladdr && n.state?.some((s) => s === 'PERMANENT' || s === 'REACHABLE'))
    .map((n) => ({ ip: n.dst, mac: n.lladdr! }));
  return { name: link.ifname, mac: link.address ?? '', mtu: link.mtu, address: `${addr!.local}/${addr!.prefixlen}`, routes, neighbors };
}

/** NSM_VPP_INIT=AF_PACKET: the host link into VPP with its MTU, address, neighbours and routes. */
export async function initAfPacket(api: VppApi, link: HostLink): Promise<Uplink & { mtu: number }> {
  const up = await attachUplink(api, { hostIfName: link.name, mac: link.mac, address: link.address });
  // The L3 MTU (af_packet starts at 9000), not hw_interface_set_mtu: on af_packet that sets the host
  // link's MTU, plus VPP's own header allowance (1500 became 1544, and the node's big frames were lost).
  await api.setMtu(up.swIfIndex, [link.mtu, 0, 0, 0]);
  for (const n of link.neighbors) await api.ipNeighbor(up.swIfIndex, n.ip, n.mac, true, IP_NEIGHBOR_FLAG_STATIC);
  for (const r of link.routes) await api.ipRoute({ prefix: r.prefix, paths: [{ swIfIndex: up.swIfIndex, nextHop: r.gateway }] }, true);
  return { ...up, mtu: link.mtu };
}
