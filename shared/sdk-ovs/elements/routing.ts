// L3 cross-connect by the node's kernel (for WireGuard, which carries IP only): per connection a
// routing table and policy rules keyed by incoming interface. Packets from the tunnel device go to
// the pod's addresses on the veth (static neighbours, no ARP/ND needed); packets from the veth go to
// the tunnel by default route. Tables keep connections with overlapping pod addresses apart.
// All of it is rtnetlink (sdk-kernel/netlink): one exchange per kind of object, no process.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseCidr } from '@nsm/sdk-kernel/cidr';
import { addRules, defaultNetlink, deleteRules, flushTable, listRules, NetlinkError, replaceNeighbors } from '@nsm/sdk-kernel/netlink';
import type { NeighborChange, RouteChange, RuleSpec } from '@nsm/sdk-kernel/netlink';
import { routeMessages } from '@nsm/sdk-kernel/netlink/route';
import { log } from '@nsm/sdk/log';

/** Priority of every NSM policy rule; how a restarted forwarder finds its predecessor's. */
export const RULE_PREF = 1100;
const TABLE_BASE = 1100;

const used = new Set<number>();

export function allocTable(): number {
  for (let t = TABLE_BASE; ; t++) {
    if (!used.has(t)) {
      used.add(t);
      return t;
    }
  }
}

export function freeTable(t: number): void {
  used.delete(t);
}

function writeSysctl(path: string, value: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() !== value) writeFileSync(path, value);
  } catch (e) {
    log.debug({ path, err: String(e) }, 'sysctl not written');
  }
}

/** Forwarding on, reverse-path filtering off, in this process's namespace (the node's). */
export function enableForwarding(): void {
  writeSysctl('/proc/sys/net/ipv4/ip_forward', '1');
  writeSysctl('/proc/sys/net/ipv6/conf/all/forwarding', '1');
  for (const d of ['all', 'default']) writeSysctl(`/proc/sys/net/ipv4/conf/${d}/rp_filter`, '0');
}

/** IPv6 on for a device of this namespace (routing v6 through a device needs it). */
export function enableIpv6(dev: string): void {
  writeSysctl(`/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`, '0');
  writeSysctl(`/proc/sys/net/ipv4/conf/${dev}/rp_filter`, '0');
}

export interface RoutedXconnect {
  table: number;
  veth: string;
  podMac: string;
  /** The pod's addresses (with or without prefix length). */
  podAddrs: string[];
  tunnel: string;
}

const host = (a: string) => {
  const c = parseCidr(a.includes('/') ? a : `${a}/${a.includes(':') ? 128 : 32}`);
  return { ip: c.ip, family: c.family, prefix: `${c.ip}/${c.family === 6 ? 128 : 32}` };
};

/** The rules, routes and neighbours of one routed cross-connect (both families' rules). */
export function routedChanges(x: RoutedXconnect): { rules: RuleSpec[]; routes: RouteChange[]; neighbors: NeighborChange[] } {
  const rules = ([4, 6] as const).flatMap((family) => [x.veth, x.tunnel].map((iif) => ({ family, iif, table: x.table, pref: RULE_PREF })));
  const routes: RouteChange[] = [
    { dst: '0.0.0.0/0', dev: x.tunnel, table: x.table },
    { dst: '::/0', dev: x.tunnel, table: x.table },
  ];
  const neighbors: NeighborChange[] = [];
  for (const a of x.podAddrs.map(host)) {
    routes.push({ dst: a.prefix, dev: x.veth, table: x.table });
    neighbors.push({ dev: x.veth, ip: a.ip, mac: x.podMac, state: 'permanent' });
  }
  return { rules, routes, neighbors };
}

export async function addRouted(x: RoutedXconnect): Promise<void> {
  enableIpv6(x.veth);
  enableIpv6(x.tunnel);
  const { rules, routes, neighbors } = routedChanges(x);
  const nl = defaultNetlink();
  // The route messages need the devices' indexes: one lookup, then one batch for all routes.
  const msgs = await routeMessages(undefined, 'replace', routes, nl);
  const outcomes = await nl.route(undefined).exchange(msgs);
  outcomes.forEach((o, i) => {
    if (o.errno) throw new NetlinkError(o.errno, `route ${routes[i].dst} dev ${routes[i].dev} table ${x.table}`, o.extack);
  });
  await replaceNeighbors(undefined, neighbors, nl);
  await addRules(undefined, rules, nl);
}

/** Removes one routed cross-connect's rules and table (routes and neighbours also go with the devices). */
export async function delRouted(x: Pick<RoutedXconnect, 'table' | 'veth' | 'tunnel'>): Promise<void> {
  await deleteRules(undefined, ([4, 6] as const).flatMap((family) => [x.veth, x.tunnel].map((iif) => ({ family, iif, table: x.table, pref: RULE_PREF }))));
  await flushTable(undefined, x.table);
}

/** Deletes NSM policy rules (pref RULE_PREF) and their tables' routes, both families; returns the tables. */
export async function delRules(): Promise<string[]> {
  const tables = new Set<number>();
  for (const family of [4, 6] as const) {
    const rules = (await listRules(undefined, family)).filter((r) => r.pref === RULE_PREF && r.iif);
    for (const r of rules) tables.add(r.table);
    await deleteRules(undefined, rules.map((r) => ({ family, iif: r.iif!, table: r.table, pref: RULE_PREF })));
  }
  for (const t of tables) await flushTable(undefined, t).catch(() => undefined);
  return [...tables].map(String);
}
