// Input checks: every field a peer sends is parsed and bounded here before anything uses it (the
// validate elements at the server edge and on replies, the gRPC edge before decoding, the registry).
export { Limits, MAX_MESSAGE_BYTES, MAX_TIMESTAMP_SECONDS, MAX_WIRE_FIELDS } from './limits';
export { checkClose, checkConnection, checkLabels, checkName, checkRequest, checkSelector, checkTokenMetadata } from './connection';
export { checkContext, checkDnsConfigs } from './context';
export { checkMechanism, checkPreferences, MECHANISM_SCHEMAS } from './mechanism';
export type { ParamKind } from './mechanism';
export { checkNetworkService, checkNetworkServiceEndpoint } from './registry';
export type { RecordUse } from './registry';
export { checkWire } from './wire';
export type { WireMessage } from './wire';
export * as formats from './formats';
