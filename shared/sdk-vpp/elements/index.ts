// The VPP forwarder's dataplane elements (the VPP counterparts of sdk-ovs/elements).
export { kernelServer, kernelClient, defaultKernelMode } from './kernel';
export type { KernelMode, KernelOptions } from './kernel';
export { vxlanServer, vxlanClient, DEFAULT_VXLAN_PORT } from './vxlan';
export { wireguardServer, wireguardClient, generateWgKey, wgPublicKey, WIREGUARD_PORT, WIREGUARD_KEEPALIVE } from './wireguard';
export type { WireguardOptions } from './wireguard';
export { xconnect, XCONNECT_TABLE_BASE, XCONNECT_IP4_POOL } from './xconnect';
export { vlanClient, vlanTag } from './vlan';
export { reconcile } from './reconcile';
export type { ReconcileOptions } from './reconcile';
export { connTag, NSM_TAG_PREFIX } from './common';
export { VXLAN_OVERHEAD, WIREGUARD_OVERHEAD } from './mtu';
export type { VppVlanUplinks } from './vlan';
export { memifServer, memifClient, memifSocketPath } from './memif';
export type { MemifOptions } from './memif';
export { serverIfKey, clientIfKey } from './state';
export type { VppDataplane, VppInterfaceRecord } from './state';
export { linuxHost, linuxHostIn } from './host';
export type { HostOps } from './host';
