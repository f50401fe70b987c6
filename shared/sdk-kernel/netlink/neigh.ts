// Neighbour (ARP/NDP) entries over rtnetlink: static entries so that no resolution is needed on a
// point-to-point path, and a per-device flush.
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { describeNetns, NetnsRef } from '../netns';
import { parseIp } from '../cidr';
import { Attrs, ipBytes, ipText, macText, message, NlMessage } from './codec';
import { AF_INET, AF_UNSPEC, NDA_DST, NDA_IFINDEX, NDA_LLADDR, NLM_F_CREATE, NLM_F_REPLACE, NUD_NOARP, NUD_PERMANENT, NUD_REACHABLE, NUD_STALE, RTM_DELNEIGH, RTM_GETNEIGH, RTM_NEWNEIGH } from './consts';
import { afOf } from './addr';
import { errnoIs, NetlinkError } from './errors';
import { defaultNetlink, NetlinkCache } from './handles';
import { linkIndexes, macBytes } from './link';
import { REQ } from './socket';

export type NeighborState = 'reachable' | 'permanent' | 'noarp' | 'stale';

const STATES: Record<NeighborState, number> = { reachable: NUD_REACHABLE, permanent: NUD_PERMANENT, noarp: NUD_NOARP, stale: NUD_STALE };

export interface NeighborChange {
  dev: string;
  ip: string;
  mac: string;
  /** Default reachable (as upstream NSM adds them); static entries are permanent. */
  state?: NeighborState;
}

export interface NeighborInfo {
  family: 4 | 6;
  index: number;
  ip: string;
  mac?: string;
  state: number;
}

function ndmsg(w: Parameters<Parameters<typeof message>[2]>[0], family: number, index: number, state: number): void {
  // ndmsg: family, pad1, pad2, ifindex, state, flags, type
  w.u8(family).u8(0).u16(0).i32(index).u16(state).u8(0).u8(0);
}

/** RTM_NEWNEIGH (replace) messages; device names must already be resolved to `index`. */
export function neighborMessage(n: NeighborChange, index: number): Buffer {
  const ip = parseIp(n.ip);
  const mac = macBytes(n.mac);
  const state = STATES[n.state ?? 'reachable'];
  if (state === undefined) throw new StatusError(Code.INVALID_ARGUMENT, `invalid neighbour state "${n.state}"`);
  return message(RTM_NEWNEIGH, REQ | NLM_F_CREATE | NLM_F_REPLACE, (w) => {
    ndmsg(w, afOf(ip.family), index, state);
    w.attrBytes(NDA_DST, ipBytes(ip.ip, ip.family));
    w.attrBytes(NDA_LLADDR, mac);
  });
}

export async function replaceNeighbors(ns: NetnsRef, entries: readonly NeighborChange[], nl: NetlinkCache = defaultNetlink()): Promise<void> {
  if (entries.length === 0) return;
  const devs = [...new Set(entries.map((e) => e.dev))];
  const idx = new Map((await linkIndexes(ns, devs, nl)).map((x, i) => [devs[i], x]));
  const outcomes = await nl.route(ns).exchange(entries.map((e) => neighborMessage(e, idx.get(e.dev)!)));
  outcomes.forEach((o, i) => {
    if (o.errno) throw new NetlinkError(o.errno, `neighbour ${entries[i].ip} lladdr ${entries[i].mac} dev ${entries[i].dev} in netns ${describeNetns(ns)}`, o.extack);
  });
}

function parseNeighbor(m: NlMessage): NeighborInfo | undefined {
  const a = new Attrs(m.body, 12);
  const dst = a.get(NDA_DST);
  if (!dst) return undefined;
  const info: NeighborInfo = { family: m.body.readUInt8(0) === AF_INET ? 4 : 6, index: m.body.readInt32LE(4), ip: ipText(dst), state: m.body.readUInt16LE(8) };
  const ll = a.get(NDA_LLADDR);
  if (ll && ll.length === 6) info.mac = macText(ll);
  return info;
}

/** Neighbour entries of one device (both families). */
export async function listNeighbors(ns: NetnsRef, dev: string, nl: NetlinkCache = defaultNetlink()): Promise<NeighborInfo[]> {
  const [index] = await linkIndexes(ns, [dev], nl);
  const msgs = await nl.route(ns).dump(
    RTM_GETNEIGH,
    (w) => {
      ndmsg(w, AF_UNSPEC, 0, 0);
      w.attrU32(NDA_IFINDEX, index);
    },
    `list neighbours of ${dev} in netns ${describeNetns(ns)}`,
  );
  return msgs
    .filter((m) => m.type === RTM_NEWNEIGH)
    .map(parseNeighbor)
    .filter((n): n is NeighborInfo => n !== undefined && n.index === index);
}

/** Removes every neighbour entry of `dev` (static ones too) except the kernel's own NOARP ones. */
export async function flushNeighbors(ns: NetnsRef, dev: string, nl: NetlinkCache = defaultNetlink()): Promise<number> {
  const entries = (await listNeighbors(ns, dev, nl)).filter((n) => !(n.state & NUD_NOARP));
  if (entries.length === 0) return 0;
  const msgs = entries.map((n) =>
    message(RTM_DELNEIGH, REQ, (w) => {
      ndmsg(w, afOf(n.family), n.index, 0);
      w.attrBytes(NDA_DST, ipBytes(n.ip, n.family));
    }),
  );
  const outcomes = await nl.route(ns).exchange(msgs);
  const bad = outcomes.find((o) => o.errno && !errnoIs(o.errno, 'ENOENT', 'ESRCH'));
  if (bad) throw new NetlinkError(bad.errno, `flush neighbours of ${dev} in netns ${describeNetns(ns)}`, bad.extack);
  return entries.length;
}
