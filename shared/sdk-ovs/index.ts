// Open vSwitch for the OVS forwarder: a private daemon pair, and ports/flows on its bridge.
export { OvsDaemon, DEFAULT_SCHEMA } from './daemon';
export type { OvsDaemonOptions } from './daemon';
export { Ovs } from './ovs';
export type { OvsEndpoint, PortSpec, OvsPort, VxlanPortSpec, FlowSelector } from './ovs';
export { flowCookie, crossConnectFlows, vlanFlows, vxlanFlows, parseDumpFlows, assertVlan, NSM_FLOW_PRIORITY } from './flows';
export type { Flow, PortRef } from './flows';
export { decodeDatum, decodeTable } from './vsctl-json';
export { BatchingOvs, OvsBatcher } from './batch';
