// What a forwarder finds of its predecessor: OVS ports carrying NSM external-ids (veth ends, vxlan
// devices), routed veth ends and vxlan devices that never made it into OVS, WireGuard devices (their
// wireguard-go exits with the device), policy rules and the flows. Nothing of it is adopted: the
// clients' heal re-requests, which rebuilds it all; removing it first means no stale interface
// blocks the rebuild and nothing leaks. Also run when the forwarder stops.
import { deleteLink, listLinks } from '@nsm/sdk-kernel';
import { log } from '@nsm/sdk/log';
import { cleanupDevices } from '@nsm/sdk-wireguard';
import { delRules } from '@nsm/sdk-ovs/elements/routing';
import { EXT_CONN, OvsBridge } from '@nsm/sdk-ovs/elements/state';
import { VXLAN_DEV_PREFIX } from '@nsm/sdk-ovs/elements/vxlan';
import { WG_DEV_PREFIX } from '@nsm/sdk-ovs/elements/wireguard';

const OURS = new RegExp(`^(tapsrc-|tapdst-|${VXLAN_DEV_PREFIX}[sd]-)`);

export async function cleanupStale(br: OvsBridge): Promise<number> {
  const ports = (await br.ovs.listPorts(br.bridge)).filter((p) => p.externalIds[EXT_CONN]);
  if (ports.length > 0) {
    await br.ovs.delPorts(br.bridge, ports.map((p) => p.name));
    for (const p of ports) if (p.type === '') await deleteLink(undefined, p.name);
  }
  const wg = await cleanupDevices(WG_DEV_PREFIX);
  const links = (await listLinks(undefined)).map((l) => l.name).filter((n) => OURS.test(n));
  for (const n of links) await deleteLink(undefined, n).catch(() => undefined);
  const tables = await delRules();
  const removed = ports.length + wg.length + links.length + tables.length;
  if (removed > 0) log.info({ ports: ports.map((p) => p.name), wireguard: wg, links, tables }, 'removed dataplane state left by a previous forwarder');
  await br.ovs.delFlows(br.bridge);
  return removed;
}
