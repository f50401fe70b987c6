// Host-side kernel operations a forwarder performs: links, veth pairs, IP contexts, offloads,
// neighbours, routes, rules and tc redirects over netlink (./netlink: no process per operation),
// plus namespace references, names, and `exec`/`ip -batch` for start-up work and tests.
export { exec, ExecError } from './exec';
export type { ExecOptions, ExecResult } from './exec';
export { netnsFromUrl, netnsByName, netnsFromPath, describeNetns, ipArgv, inNetnsArgv, daemonInNetnsArgv, ipNetnsArg, NETNS_RUN_DIR } from './netns';
export type { Netns, NetnsRef } from './netns';
export { inodeUrlOf, parseInodeUrl, identityOf } from './nsinode';
export type { NsIdentity } from './nsinode';
export { peerOfSocket, listenerOf } from './peer';
export type { SocketPeer } from './peer';
export { ipBatch, ip, IpBatchError } from './ipbatch';
export type { IpFailure, IpBatchOptions } from './ipbatch';
export { IF_NAME_MAX, TEMP_IF_PREFIX, isValidIfName, assertIfName, deriveIfName, hostIfName, tempIfName } from './names';
export { listLinks, getLink, linkExists, getMac, setMac, setLinkUp, deleteLink, deleteLinks } from './link';
export type { LinkInfo } from './link';
export { createVethPair, deleteVethPair } from './veth';
export type { VethPairSpec, VethPair } from './veth';
export { applyIpContext } from './ipcontext';
export type { IpContextSpec, RouteSpec, NeighborSpec } from './ipcontext';
export { disableOffloads, OVS_NETDEV_OFFLOADS_OFF } from './ethtool';
export { parseCidr, parseIp, networkOf, formatCidr } from './cidr';
export type { Cidr } from './cidr';
export { ipSpecFor } from './connectioncontext';
export type { Side } from './connectioncontext';
