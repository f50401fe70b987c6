// What the VPP forwarder made for each side of a connection, kept in the connection's metadata: the
// caller side (server half) and the next-hop side (client half), each one VPP interface.
import { createKey } from '@nsm/sdk/core/context';
import type { VppApi } from '../api';

export interface VppInterfaceRecord {
  swIfIndex: number;
  /** What it is, for messages and logs ("af_packet host-server-1a2b", "vxlan vni 42"). */
  describe: string;
  /** An L3-only interface (WireGuard, TUN, memif in IP mode): no Ethernet, so no L2 cross-connect. */
  l3?: boolean;
  /** The far end sits on an Ethernet segment and resolves addresses itself (VLAN breakout, VXLAN): IP
   *  payload crosses it as Ethernet frames (L2 cross-connect), the local pod answering ARP itself. */
  l2Path?: boolean;
  /** For an L3 cross-connect through an Ethernet interface to a pod: static entries so nobody needs ARP
   *  (VPP: the pod's own addresses at the pod's MAC; the pod: the far side's addresses at VPP's MAC,
   *  permanent). Returns the undo. */
  staticNeighbors?(own: string[], remote: string[]): Promise<() => Promise<void>>;
  /** Instead of an L2 cross-connect: joins the other side's interface to this one's segment (a VLAN's
   *  bridge domain, which several connections share). Returns the undo. */
  join?(other: VppInterfaceRecord): Promise<() => Promise<void>>;
  /** What the interface was made from (peer, key, VNI); a refresh with other values makes it again. */
  sig?: string;
  /** Removes what was made for this side, in VPP and on the host. */
  release(): Promise<void>;
}

export const serverIfKey = createKey<VppInterfaceRecord>('vpp.serverInterface');
export const clientIfKey = createKey<VppInterfaceRecord>('vpp.clientInterface');

/** The VPP a forwarder drives, and its node's address for tunnels. */
export interface VppDataplane {
  api: VppApi;
  /** This node's tunnel endpoint address (already on a VPP interface). */
  tunnelIp: string;
  /** MTU of the VPP interface holding the tunnel address (1500 when unknown): tunnels carry 50
   *  (VXLAN) or 80 (WireGuard) bytes less. */
  underlayMtu?: number;
}

/** The cross-connect the xconnect element made for a connection (server half of its metadata). */
export const xconnectKey = createKey<{ a: number; b: number; undo(): Promise<void> }>('vpp.xconnect');
