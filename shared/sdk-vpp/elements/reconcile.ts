// What a forwarder finds in VPP when it starts: a VPP that outlived its previous forwarder (killed,
// crashed) still holds that forwarder's interfaces, tunnels, cross-connects, tables and bridge
// domains, with no one left who knows which connection they were for. They are removed before the new
// forwarder serves, so its connections are rebuilt whole when their clients heal through it (no
// half-state); the uplinks, which carry no NSM tag, stay. Everything a dataplane element makes is
// tagged (interfaces and bridge domains: NSM_TAG_PREFIX) or numbered in the cross-connect's table
// range, and the veths' host ends are named server-*/client-* (kernel.ts).
//
// Order matters: VPP 25.02 crashed when an interface went while a route in a non-default table still
// pointed at it, so cross-connects, addresses and tables go first, interfaces last.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Netns } from '@nsm/sdk-kernel';
import { deleteLink, listLinks } from '@nsm/sdk-kernel';
import { ANY, L2_VTR_DISABLED, type VppApi } from '../api';
import { NSM_TAG_PREFIX } from './common';
import { XCONNECT_TABLE_BASE } from './xconnect';

export interface ReconcileOptions {
  /** Where the veths' host ends live (undefined: this process's namespace). */
  hostNetns?: Netns;
  /** The memif element's socket folder: sockets registered under it are removed with their folders. */
  memifDir?: string;
}

const HOST_END = /^(server|client)-/;
/** Tables the cross-connect numbers from XCONNECT_TABLE_BASE (two per connection). */
const isXconnectTable = (id: number) => id >= XCONNECT_TABLE_BASE && id < XCONNECT_TABLE_BASE + 0x1000000;

/** Removes what earlier forwarders left in VPP and on the host; returns what went, for the log. */
export async function reconcile(api: VppApi, o: ReconcileOptions = {}): Promise<string[]> {
  const removed: string[] = [];
  /** One removal; `what` is reported when it succeeded (undefined: a preparatory step). */
  const step = async (what: string | undefined, fn: () => Promise<unknown>) => {
    try {
      await fn();
      if (what) removed.push(what);
    } catch {
      // Already gone, or went with something removed before it.
    }
  };
  const ifs = await api.interfaceDump();
  const ours = ifs.filter((i) => i.tag.startsWith(NSM_TAG_PREFIX));

  for (const bd of (await api.bridgeDomainDump()).filter((b) => b.tag.startsWith(NSM_TAG_PREFIX))) {
    for (const sw of bd.swIfIndexes) await step(undefined, () => api.l2Bridge(sw, bd.bdId, false));
    await step(`bridge domain ${bd.bdId} (${bd.tag})`, () => api.bridgeDomain(bd.bdId, false));
  }
  // Static neighbours first: moved back to table 0 with their interface, VPP keeps them (and a /32
  // route) after the interface is gone.
  const mine = new Set(ours.map((i) => i.swIfIndex));
  for (const v6 of [false, true]) {
    for (const n of (await api.ipNeighborDump(v6)).filter((x) => mine.has(x.swIfIndex))) await step(undefined, () => api.ipNeighbor(n.swIfIndex, n.ip, n.mac, false));
  }
  // The cross-connects' routes one by one, as Close removes them: a table deleted with its routes in
  // it came back (same id, same FIB index) dropping everything.
  const tables = (await api.ipTableDump()).filter((x) => isXconnectTable(x.tableId));
  for (const t of tables) {
    for (const r of await api.ipRouteDump(t.tableId, t.ipv6)) {
      const paths = r.paths.filter((x) => x.swIfIndex !== ANY);
      if (paths.length) await step(undefined, () => api.ipRoute({ prefix: r.prefix, tableId: t.tableId, paths }, false));
    }
  }
  for (const i of ours) {
    await step(undefined, () => api.l2Xconnect(i.swIfIndex, i.swIfIndex, false));
    for (const v6 of [false, true]) {
      for (const a of await api.ipAddressDump(i.swIfIndex, v6)) await step(`${a} on ${i.name}`, () => api.interfaceAddress(i.swIfIndex, a, false));
      await step(undefined, () => api.setInterfaceTable(i.swIfIndex, 0, v6));
    }
  }
  for (const t of tables) {
    await step(`ip${t.ipv6 ? 6 : 4} table ${t.tableId}`, () => api.ipTable(t.tableId, t.ipv6, false));
  }

  const vxlan = new Map((await api.vxlanTunnelDump()).map((t) => [t.swIfIndex, t]));
  const peers = await api.wireguardPeersDump();
  const memifs = new Set((await api.memifDump()).map((m) => m.swIfIndex));
  // Sub-interfaces before their parents; everything else in any order.
  for (const i of [...ours].sort((x, y) => Number(y.supSwIfIndex !== y.swIfIndex) - Number(x.supSwIfIndex !== x.swIfIndex))) {
    const sw = i.swIfIndex;
    await step(undefined, () => api.setInterfaceState(sw, false));
    if (i.supSwIfIndex !== sw) {
      await step(undefined, () => api.vlanTagRewrite(sw, L2_VTR_DISABLED));
      await step(i.name, () => api.deleteSubif(sw));
    } else if (vxlan.has(sw)) {
      await step(i.name, () => api.vxlanTunnel(vxlan.get(sw)!, false));
    } else if (i.devType === 'wireguard' || i.name.startsWith('wg')) {
      for (const p of peers.filter((x) => x.swIfIndex === sw)) await step(`wireguard peer ${p.peerIndex}`, () => api.wireguardPeerRemove(p.peerIndex));
      await step(i.name, () => api.wireguardInterfaceDelete(sw));
    } else if (memifs.has(sw)) {
      await step(i.name, () => api.memifDelete(sw));
    } else if (i.name.startsWith('host-')) {
      await step(i.name, () => api.afPacketDelete(i.name.slice('host-'.length)));
    } else if (i.name.startsWith('tap')) {
      await step(i.name, () => api.tapDelete(sw));
    }
  }

  if (o.memifDir) {
    const dir = o.memifDir.replace(/\/+$/, '');
    for (const s of (await api.memifSocketDump()).filter((x) => x.path.startsWith(`${dir}/`))) {
      await step(`memif socket ${s.path}`, () => api.memifSocketDelete(s.socketId));
      rmSync(dirname(s.path), { recursive: true, force: true });
    }
  }
  // Host ends of veths (their pod ends go with them), also of a pair made just before a crash.
  for (const l of (await listLinks(o.hostNetns)).filter((x) => HOST_END.test(x.name))) {
    await step(`veth ${l.name}`, () => deleteLink(o.hostNetns, l.name));
  }
  return removed;
}
