// What a forwarder finds of its predecessor. The veth pairs of local connections (OVS ports carrying
// NSM external-ids, devices still present) are kept with their rules, so the data path survives a
// forwarder restart; when a client heals through the new forwarder, its request finds them and
// adopts them. Those that nobody claims within the grace period are removed. Everything else (vxlan
// devices, routed veths, WireGuard devices whose wireguard-go died, policy rules) is removed at once:
// the clients' heal rebuilds it. `cleanupAll` removes everything, when the forwarder stops.
import { deleteLink, listLinks } from '@nsm/sdk-kernel';
import { log } from '@nsm/sdk/log';
import { cleanupDevices } from '@nsm/sdk-wireguard';
import { flowCookie } from '@nsm/sdk-ovs';
import { delRules, EXT_CONN, OvsBridge, VXLAN_DEV_PREFIX, WG_DEV_PREFIX } from '@nsm/sdk-ovs/elements';

const OURS = new RegExp(`^(tapsrc-|tapdst-|${VXLAN_DEV_PREFIX}[sd]-)`);
const VETH = /^tap(src|dst)-/;

export interface Recovery {
  /** Veth host ends kept for adoption, by name → connection id. */
  readonly pending: Map<string, string>;
  claim(hostName: string): void;
  stop(): void;
}

async function removeUnadoptable(br: OvsBridge, keep: Set<string>): Promise<string[]> {
  const ports = (await br.ovs.listPorts(br.bridge)).filter((p) => p.externalIds[EXT_CONN] && !keep.has(p.name));
  if (ports.length > 0) {
    await br.ovs.delPorts(br.bridge, ports.map((p) => p.name));
    for (const p of ports) if (p.type === '') await deleteLink(undefined, p.name);
  }
  const wg = await cleanupDevices(WG_DEV_PREFIX);
  const links = (await listLinks(undefined)).map((l) => l.name).filter((n) => OURS.test(n) && !keep.has(n));
  for (const n of links) await deleteLink(undefined, n).catch(() => undefined);
  const tables = await delRules();
  return [...ports.map((p) => p.name), ...wg, ...links, ...tables.map((t) => `table ${t}`)];
}

/** Keeps what can be adopted, removes the rest, and sweeps the unclaimed after `graceMs`. */
export async function recoverDataplane(br: OvsBridge, graceMs: number): Promise<Recovery> {
  const links = new Set((await listLinks(undefined)).map((l) => l.name));
  const pending = new Map<string, string>();
  for (const p of await br.ovs.listPorts(br.bridge)) {
    const id = p.externalIds[EXT_CONN];
    if (id && p.type === '' && VETH.test(p.name) && links.has(p.name)) pending.set(p.name, id);
  }
  const removed = await removeUnadoptable(br, new Set(pending.keys()));
  // Rules of kept connections stay (the data path keeps working); all others go.
  const keepCookies = new Set([...pending.values()].map((id) => BigInt(flowCookie(id))));
  const drop = new Set((await br.ovs.dumpFlows(br.bridge)).map((f) => BigInt(f.cookie)).filter((c) => !keepCookies.has(c)));
  for (const c of drop) await br.ovs.delFlows(br.bridge, `cookie=0x${c.toString(16)}/-1`);
  if (removed.length > 0 || pending.size > 0) {
    log.info({ removed, kept: [...pending.keys()], graceMs }, 'found dataplane state of a previous forwarder');
  }
  const removeUnclaimed = async () => {
    const unclaimed = [...pending.entries()];
    if (unclaimed.length === 0) return;
    log.info({ ports: unclaimed.map(([n]) => n) }, 'removing dataplane state nobody claimed after a restart');
    await br.ovs.delPorts(br.bridge, unclaimed.map(([n]) => n)).catch(() => undefined);
    for (const [name, id] of unclaimed) {
      await deleteLink(undefined, name).catch(() => undefined);
      await br.ovs.delFlows(br.bridge, { cookie: flowCookie(id) }).catch(() => undefined);
    }
    pending.clear();
  };
  const timer = setTimeout(() => void removeUnclaimed(), graceMs);
  timer.unref();
  return {
    pending,
    claim: (name) => void pending.delete(name),
    stop: () => clearTimeout(timer),
  };
}

/** Removes everything NSM made on this node (the forwarder is stopping). */
export async function cleanupAll(br: OvsBridge): Promise<number> {
  const removed = await removeUnadoptable(br, new Set());
  await br.ovs.delFlows(br.bridge);
  if (removed.length > 0) log.info({ removed }, 'removed dataplane state');
  return removed.length;
}
