// VPP binary-API client: codec from VPP's definitions, socket transport and handshake, typed calls.
export { ApiRegistry, apiDefsFromJson, parseFields } from './codec';
export type { ApiDefs, Field, Msg, MessageDef } from './codec';
export { VPP_DEFS } from './defs';
export { VppConnection, FrameReader, frame, HEADER_SIZE } from './connection';
export type { VppConnectOptions, VppEvent } from './connection';
export { VppApiError, VppConnectionError, VppUnsupportedError, VPP_ERRORS, vppErrorName } from './errors';
export * from './api';
export { address, prefix, mac, addressText, prefixText, macText, ip4Bytes, ip6Bytes, AF_IP4, AF_IP6 } from './addresses';
export type { VppAddress, VppPrefix } from './addresses';
export { VppProcess, vppStartupConf, vppSockets, waitForApi, freeHugepages } from './daemon';
export type { VppConfigOptions, VppProcessOptions } from './daemon';
export { attachUplink, findHostLink, initAfPacket } from './uplink';
export type { Uplink, UplinkOptions, HostLink } from './uplink';
