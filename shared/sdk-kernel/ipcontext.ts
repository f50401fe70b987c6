// Applies an NSM IP context to one interface inside a namespace: one rtnetlink batch
// (./netlink/ipcontext.ts). Everything uses "replace" semantics so that a refresh, or a restarted
// forwarder re-applying the same context, is a no-op rather than a "File exists" failure. IPv6
// addresses are added without duplicate address detection, so they are usable at once.
export { applyIpContext } from './netlink/ipcontext';

export interface RouteSpec {
  /** Destination, e.g. "172.16.1.100/32"; host bits are masked off. */
  prefix: string;
  /** Gateway; empty or absent = on-link route through the interface. */
  via?: string;
}

export interface NeighborSpec {
  ip: string;
  mac: string;
  /** Neighbour state; upstream adds REACHABLE entries, static ones are PERMANENT. Default reachable. */
  state?: 'reachable' | 'permanent' | 'noarp' | 'stale';
}

export interface IpContextSpec {
  /** Addresses with prefix length, e.g. "172.16.1.101/32", "fd00::1/64". */
  addrs?: string[];
  routes?: RouteSpec[];
  neighbors?: NeighborSpec[];
  /** Set when non-zero. */
  mtu?: number;
  /** Set the interface up (default true); false leaves its state alone. */
  up?: boolean;
}
