// The OVS forwarder's dataplane elements (the Open vSwitch counterparts of sdk-vpp/elements), and what
// a forwarder needs to set them up.
export { kernelServer, kernelClient } from './kernel';
export { vxlanServer, vxlanClient, vxlanDevName, VXLAN_OVERHEAD, VXLAN_DEV_PREFIX } from './vxlan';
export type { VxlanOptions } from './vxlan';
export { wireguardServer, wireguardClient, PortPool, wgDevName, WG_OVERHEAD, WG_DEV_PREFIX } from './wireguard';
export type { WireguardOptions } from './wireguard';
export { vlanClient } from './vlan';
export type { VlanUplink, VlanUplinks } from './vlan';
export { vlanTrunkEndpoint } from './trunkendpoint';
export { xconnect } from './xconnect';
export { VniAllocator } from './vni';
export { underlayMtuOf } from './tunnel';
export type { TunnelOptions } from './tunnel';
export { enableForwarding, delRules } from './routing';
export { serverPortKey, clientPortKey, routedKey, EXT_CONN, EXT_SIDE } from './state';
export type { OvsBridge, PortRecord } from './state';
