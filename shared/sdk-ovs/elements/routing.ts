// L3 cross-connect by the node's kernel (for WireGuard, which carries IP only): per connection a
// routing table and policy rules keyed by incoming interface. Packets from the tunnel device go to
// the pod's addresses on the veth (static neighbours, no ARP/ND needed); packets from the veth go to
// the tunnel by default route. Tables keep connections with overlapping pod addresses apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { exec, ipBatch } from '@nsm/sdk-kernel';
import { parseCidr } from '@nsm/sdk-kernel/cidr';
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

/** `ip -batch` lines, and the IPv6 policy rules that need `ip -6 -batch` (rules take no family from "::/0"). */
export function routedLines(x: RoutedXconnect): { lines: string[]; rules6: string[] } {
  const lines: string[] = [];
  const rules6: string[] = [];
  for (const dev of [x.veth, x.tunnel]) {
    lines.push(`rule add iif ${dev} lookup ${x.table} pref ${RULE_PREF}`);
    rules6.push(`rule add iif ${dev} lookup ${x.table} pref ${RULE_PREF}`);
  }
  lines.push(`route replace 0.0.0.0/0 dev ${x.tunnel} table ${x.table}`, `route replace ::/0 dev ${x.tunnel} table ${x.table}`);
  for (const a of x.podAddrs.map(host)) {
    lines.push(`route replace ${a.prefix} dev ${x.veth} table ${x.table}`);
    lines.push(`neigh replace ${a.ip} lladdr ${x.podMac} dev ${x.veth} nud permanent`);
  }
  return { lines, rules6 };
}

export async function addRouted(x: RoutedXconnect): Promise<void> {
  enableIpv6(x.veth);
  enableIpv6(x.tunnel);
  const { lines, rules6 } = routedLines(x);
  await ipBatch(undefined, lines);
  await exec(['ip', '-6', '-batch', '-'], { input: rules6.join('\n') + '\n' });
}

/** Removes the rules of one table (routes and neighbours go with the devices). */
export async function delRouted(table: number): Promise<void> {
  await delRules((r) => r.table === String(table));
  for (const fam of ['-4', '-6']) await exec(['ip', fam, 'route', 'flush', 'table', String(table)]).catch(() => undefined);
}

interface IpRule {
  priority?: number;
  table?: string;
  iif?: string;
}

/** Deletes NSM policy rules (pref RULE_PREF) matching `pick`, both families; returns the tables. */
export async function delRules(pick: (r: IpRule) => boolean = () => true): Promise<string[]> {
  const tables = new Set<string>();
  for (const fam of ['-4', '-6']) {
    const { stdout } = await exec(['ip', fam, '-j', 'rule', 'show']).catch(() => ({ stdout: '[]' }));
    const rules = (JSON.parse(stdout || '[]') as IpRule[]).filter((r) => r.priority === RULE_PREF && pick(r));
    for (const r of rules) {
      tables.add(String(r.table));
      await exec(['ip', fam, 'rule', 'del', 'pref', String(RULE_PREF), ...(r.iif ? ['iif', r.iif] : []), 'lookup', String(r.table)]).catch(() => undefined);
    }
  }
  return [...tables];
}
