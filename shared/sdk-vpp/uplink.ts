// The node's uplink in VPP (dataplane.md §11.2, the core of NSM_VPP_INIT=AF_PACKET): an af_packet
// interface on the host link, under the host link's MAC, holding the tunnel IP, admin up. VXLAN and
// WireGuard tunnels are sourced from that address and VLAN sub-interfaces hang off that interface.
// (The ACLs, and copying the host's neighbours and routes, are not done here.)
import { AF_PACKET_FLAG_QDISC_BYPASS, AF_PACKET_MODE_ETHERNET, VppApi } from './api';

export interface UplinkOptions {
  /** The host link (a NIC, or a veth in tests). */
  hostIfName: string;
  /** Its MAC: VPP answers ARP for the tunnel IP with it. */
  mac: string;
  /** Tunnel IP with the link's prefix length, e.g. "10.99.0.1/24"; none for an uplink used only by VLANs. */
  address?: string;
}

export interface Uplink {
  swIfIndex: number;
  /** VPP's name for it: host-<host link>. */
  name: string;
  release(): Promise<void>;
}

export async function attachUplink(api: VppApi, o: UplinkOptions): Promise<Uplink> {
  const swIfIndex = await api.afPacketCreate({ hostIfName: o.hostIfName, hwAddr: o.mac, mode: AF_PACKET_MODE_ETHERNET, flags: AF_PACKET_FLAG_QDISC_BYPASS });
  const release = () => api.afPacketDelete(o.hostIfName);
  try {
    if (o.address) await api.interfaceAddress(swIfIndex, o.address, true);
    await api.setInterfaceState(swIfIndex, true);
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
  return { swIfIndex, name: `host-${o.hostIfName}`, release };
}
