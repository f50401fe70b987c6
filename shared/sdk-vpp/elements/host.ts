// The host operations the KERNEL mechanism needs besides VPP, behind one interface so tests can run
// the elements without root or network namespaces.
import type { IpContextSpec, Netns } from '@nsm/sdk-kernel';
import { applyIpContext, createVethPair, deleteLink, disableOffloads, getMac, netnsFromUrl, setMac } from '@nsm/sdk-kernel';

export interface HostOps {
  /** Opens the target namespace named by a mechanism's inodeURL. */
  netns(url: string): Netns;
  /** A veth pair: `hostName` in the forwarder's namespace, `podName` in `netns` (with `podMac`). */
  createVeth(hostName: string, podName: string, netns: Netns, mtu?: number, podMac?: string): Promise<void>;
  deleteHostLink(name: string): Promise<void>;
  /** MAC of a link; `netns` undefined means the forwarder's own namespace. */
  mac(netns: Netns | undefined, name: string): Promise<string>;
  /** Addresses, routes, neighbours and MTU on the pod interface, and sets it up. */
  applyIpContext(netns: Netns, name: string, spec: IpContextSpec): Promise<void>;
}

/** Host operations with the forwarder's side of each veth in `node` (undefined: this process's namespace,
 *  where a forwarder runs; tests put VPP and its veths in a simulated node's namespace). */
export function linuxHostIn(node?: Netns): HostOps {
  return {
    netns: netnsFromUrl,
    async createVeth(hostName, podName, netns, mtu, podMac) {
      await createVethPair({ hostName, hostNetns: node, peerName: podName, peerNetns: netns, mtu });
      if (podMac) await setMac(netns, podName, podMac);
      // TX and RX checksum offload off on both ends: af_packet hands VPP frames with partial checksums
      // otherwise, and VPP's frames back carry none.
      await disableOffloads(node, hostName, ['tx', 'rx']);
      await disableOffloads(netns, podName, ['tx', 'rx']);
    },
    deleteHostLink: (name) => deleteLink(node, name),
    mac: (ns, name) => getMac(ns ?? node, name),
    applyIpContext,
  };
}

export const linuxHost: HostOps = linuxHostIn(undefined);
