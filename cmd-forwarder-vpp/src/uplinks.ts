// The node's links in VPP: the tunnel uplink (NSM_VPP_INIT=AF_PACKET, or the VPP interface already
// holding the tunnel IP with NONE), which gives the tunnel IP and the MTU tunnels are clamped to, and
// the VLAN uplinks (NSM_VLAN_UPLINK and the device selector's NICs), each an af_packet interface
// without an address. All of them outlive connections and are kept across forwarder restarts.
import { log } from '@nsm/sdk/log';
import { getMac } from '@nsm/sdk-kernel';
import { readDeviceSelector } from '@nsm/sdk-ovs/deviceselector';
import { attachUplink, findHostLink, initAfPacket, type VppApi } from '@nsm/sdk-vpp';
import type { VppVlanUplinks } from '@nsm/sdk-vpp/elements';
import type { Config } from './config';
import { defaultTunnelIp } from './tunnelip';

export interface NodeLinks {
  tunnelIp: string;
  underlayMtu: number;
  vlan?: VppVlanUplinks;
}

/** MTU of the VPP interface holding `ip` (NSM_VPP_INIT=NONE), 1500 when none does. */
async function vppMtuOf(api: VppApi, ip: string): Promise<number> {
  for (const i of await api.interfaceDump()) {
    const addrs = await api.ipAddressDump(i.swIfIndex, ip.includes(':'));
    if (addrs.some((a) => a.split('/')[0] === ip)) return i.mtu[0] || i.linkMtu || 1500;
  }
  log.warn({ tunnelIp: ip }, 'no VPP interface holds the tunnel IP (NSM_VPP_INIT=NONE): tunnels will not carry traffic until one does');
  return 1500;
}

export async function setUpLinks(api: VppApi, cfg: Config): Promise<NodeLinks> {
  let tunnelIp = cfg.tunnelIp;
  let underlayMtu: number;
  if (cfg.vppInit === 'AF_PACKET') {
    const link = await findHostLink(undefined, tunnelIp || undefined);
    if (link) {
      const up = await initAfPacket(api, link);
      tunnelIp ||= link.address.split('/')[0];
      underlayMtu = up.mtu;
      log.info({ link: link.name, vpp: up.name, address: link.address, mtu: link.mtu, routes: link.routes, neighbors: link.neighbors.length }, 'uplink attached to VPP (NSM_VPP_INIT=AF_PACKET)');
    } else {
      // Upstream skips the step when no host link holds the given address.
      log.warn({ tunnelIp }, 'no host link holds NSM_TUNNEL_IP: uplink initialisation skipped');
      underlayMtu = await vppMtuOf(api, tunnelIp);
    }
  } else {
    tunnelIp ||= await defaultTunnelIp();
    underlayMtu = await vppMtuOf(api, tunnelIp);
  }

  const selector = cfg.deviceSelectorFile ? readDeviceSelector(cfg.deviceSelectorFile) : new Map<string, string>();
  const nics = [...new Set([...(cfg.vlanUplink ? [cfg.vlanUplink] : []), ...selector.values()])];
  if (nics.length === 0) return { tunnelIp, underlayMtu };
  const names = new Map<string, string>();
  for (const nic of nics) names.set(nic, (await attachUplink(api, { hostIfName: nic, mac: await getMac(undefined, nic) })).name);
  const vlan: VppVlanUplinks = {
    default: cfg.vlanUplink ? names.get(cfg.vlanUplink) : undefined,
    byVia: new Map([...selector.entries()].map(([via, nic]) => [via, names.get(nic)!])),
  };
  log.info({ default: vlan.default, byVia: Object.fromEntries(vlan.byVia!) }, 'VLAN uplinks attached to VPP');
  return { tunnelIp, underlayMtu, vlan };
}
