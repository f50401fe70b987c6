// Kernel configuration without processes: rtnetlink and ethtool's generic netlink spoken from Node
// through a small addon (addon/nsm_netlink.c) that opens sockets inside namespaces and runs each
// exchange on the libuv threadpool. veth.ts, ipcontext.ts, ethtool.ts and link.ts mirror the
// spawn-based functions of ../ with the same signatures (plus an optional cache argument).
export { addon, ADDON_FILE } from './addon';
export type { NetlinkAddon } from './addon';
export { NetlinkCache, defaultNetlink, netnsKey } from './handles';
export type { NetlinkCacheOptions } from './handles';
export { NetlinkSocket } from './socket';
export { NetlinkError, codeForErrno, errnoName, isErrno } from './errors';
export { getLink, getLinkByIndex, findLinkIndexes, linkIndexes, listLinks, linkExists, getMac, setMac, setLink, setLinkUp, deleteLink, deleteLinks, addVeth, addVxlan } from './link';
export type { NlLinkInfo, LinkChange, VethSpec, VxlanSpec } from './link';
export { createVethPair, deleteVethPair } from './veth';
export type { NlVethPairSpec } from './veth';
export { applyIpContext } from './ipcontext';
export { replaceAddress, deleteAddress, listAddresses } from './addr';
export type { AddressInfo } from './addr';
export { replaceRoute, deleteRoute, listRoutes, flushTable } from './route';
export type { RouteChange, RouteInfo } from './route';
export { addRules, deleteRules, listRules } from './rule';
export type { RuleSpec, RuleInfo } from './rule';
export { replaceNeighbors, listNeighbors, flushNeighbors } from './neigh';
export type { NeighborChange, NeighborInfo, NeighborState } from './neigh';
export { addRedirects, removeRedirects, listRedirects, REDIRECT_PRIO } from './tc';
export type { Redirect, RedirectInfo } from './tc';
export { disableOffloads, setFeatures, getFeatures, expandFeatures, OVS_NETDEV_OFFLOADS_OFF } from './ethtool';
export type { DeviceFeatures } from './ethtool';
export { readSysctl, writeSysctl, sysctlPath } from './sysctl';
