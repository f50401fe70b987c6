// Applies an NSM IP context to one interface inside a namespace with a single `ip -batch`.
//
// Everything uses "replace" semantics so that a refresh, or a restarted forwarder re-applying the
// same context, is a no-op rather than a "File exists" failure. IPv6 addresses are added with
// `nodad`, so they are usable at once and no wait for the TENTATIVE flag to clear is needed.
import { writeFileSync } from 'node:fs';
import { invalidArgument } from '@nsm/sdk/core/errors';
import { exec } from './exec';
import { ipBatch } from './ipbatch';
import { assertIfName } from './names';
import { formatCidr, networkOf, parseCidr, parseIp } from './cidr';
import { inNetnsArgv, NetnsRef } from './netns';

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

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** The batch lines for `spec` (exported for tests and for callers that merge batches). */
export function ipContextCommands(ifName: string, spec: IpContextSpec): string[] {
  assertIfName(ifName);
  const lines: string[] = [];
  if (spec.mtu) {
    if (!Number.isInteger(spec.mtu) || spec.mtu < 68 || spec.mtu > 65535) throw invalidArgument(`invalid MTU ${spec.mtu}`);
    lines.push(`link set dev ${ifName} mtu ${spec.mtu}`);
  }
  // Up before routes: the kernel refuses routes through a link that is down.
  if (spec.up ?? true) lines.push(`link set dev ${ifName} up`);
  for (const a of spec.addrs ?? []) {
    const c = parseCidr(a);
    lines.push(`addr replace ${formatCidr(c)} dev ${ifName}${c.family === 6 ? ' nodad' : ''}`);
  }
  for (const r of spec.routes ?? []) {
    const dst = networkOf(parseCidr(r.prefix));
    if (r.via) {
      const gw = parseIp(r.via);
      if (gw.family !== dst.family) throw invalidArgument(`route ${r.prefix} via ${r.via}: address families differ`);
      // onlink: the gateway need not be inside any prefix on the link (NSM contexts use /32s).
      lines.push(`route replace ${formatCidr(dst)} via ${gw.ip} dev ${ifName} onlink`);
    } else {
      lines.push(`route replace ${formatCidr(dst)} dev ${ifName}`);
    }
  }
  for (const n of spec.neighbors ?? []) {
    const addr = parseIp(n.ip);
    if (!MAC_RE.test(n.mac)) throw invalidArgument(`invalid MAC address "${n.mac}"`);
    lines.push(`neigh replace ${addr.ip} lladdr ${n.mac.toLowerCase()} dev ${ifName} nud ${n.state ?? 'reachable'}`);
  }
  return lines;
}

export async function applyIpContext(ns: NetnsRef, ifName: string, spec: IpContextSpec): Promise<void> {
  const lines = ipContextCommands(ifName, spec);
  if ((spec.addrs ?? []).some((a) => parseCidr(a).family === 6)) await enableIpv6(ns, ifName);
  await ipBatch(ns, lines);
}

/**
 * IPv6 can be disabled per interface (e.g. by a host-wide default); adding an address then fails.
 * /proc/sys/net reflects the namespace of whoever opens it, so write it from inside `ns`.
 * Failure is ignored: if IPv6 is unavailable altogether, the address itself fails with a clear error.
 */
async function enableIpv6(ns: NetnsRef, ifName: string): Promise<void> {
  const file = `/proc/sys/net/ipv6/conf/${ifName}/disable_ipv6`;
  try {
    if (!ns) writeFileSync(file, '0');
    else await exec(inNetnsArgv(ns, ['tee', file]), { input: '0\n' });
  } catch {
    // see above
  }
}
