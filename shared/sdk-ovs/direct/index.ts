// Open vSwitch without processes: OVSDB JSON-RPC for ports, OpenFlow for rules, and DirectOvs, the
// Ovs interface on top of them (a drop-in for BatchingOvs; not wired into the forwarder yet).
export { DirectOvs } from './ovs';
export type { DirectOvsOptions } from './ovs';
export { GroupCommit } from './groupcommit';
export type { Outcome } from './groupcommit';
export { OvsdbClient, TransactError } from '../ovsdb/client';
export type { OvsdbClientOptions, Monitor, MonitorRequest } from '../ovsdb/client';
export { VswitchDb } from '../ovsdb/vswitch';
export type { BridgeOptions, PortGroupResult, VswitchDbOptions } from '../ovsdb/vswitch';
export { OpenFlowClient, OpenFlowError } from '../openflow/client';
export type { OpenFlowClientOptions } from '../openflow/client';
export {
  checkFlowSpec,
  crossConnectSpecs,
  vlanSpecs,
  vlanUplinkMemberSpec,
  vlanUplinkDownSpec,
  vxlanSpecs,
  parseFlowText,
  parseFlowFilter,
  formatMatch,
  formatActions,
  formatFlowText,
  toCookie,
} from '../openflow/flowspec';
export type { FlowSpec, FlowMatch, FlowAction, FlowFilter, FlowTextLine } from '../openflow/flowspec';
export type { FlowMod, FlowStats } from '../openflow/wire';
