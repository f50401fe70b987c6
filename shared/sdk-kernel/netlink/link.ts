// Links over rtnetlink: query, change, delete, and create veth pairs and VXLAN devices. The names and
// signatures of the query/change/delete functions match ../link.ts, so that module can be
// re-implemented on top of these (each takes an optional cache as its last argument).
import { randomInt } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { Code, StatusError } from '@nsm/sdk/core/errors';
import type { LinkInfo } from '../link';
import { assertIfName } from '../names';
import { describeNetns, Netns, NetnsRef } from '../netns';
import { parseIp } from '../cidr';
import { Attrs, ipBytes, macText, message, MessageWriter, NlMessage } from './codec';
import {
  AF_UNSPEC,
  IFALIAS_MAX,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_GROUP,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_LINKINFO,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFLA_OPERSTATE,
  IFLA_VXLAN_GROUP,
  IFLA_VXLAN_GROUP6,
  IFLA_VXLAN_ID,
  IFLA_VXLAN_LEARNING,
  IFLA_VXLAN_LINK,
  IFLA_VXLAN_LOCAL,
  IFLA_VXLAN_LOCAL6,
  IFLA_VXLAN_PORT,
  IFLA_VXLAN_TTL,
  NLM_F_CREATE,
  NLM_F_ECHO,
  NLM_F_EXCL,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWLINK,
  VETH_INFO_PEER,
} from './consts';
import { GroupCommit, mergedOrOneByOne } from '@nsm/sdk/core/groupcommit';
import { errnoIs, isErrno, NetlinkError } from './errors';
import { defaultNetlink, NetlinkCache, netnsKey } from './handles';
import { REQ } from './socket';
import { log } from '@nsm/sdk/log';

/** What ../link.ts reports, plus what netlink tells without extra cost. */
export interface NlLinkInfo extends LinkInfo {
  /** IFLA_LINK as the kernel gives it (a veth's peer, a VXLAN device's underlay), when not itself. */
  link?: number;
  /** Set when `link` lives in another namespace (that namespace's id as seen from this one). */
  linkNetnsId?: number;
  /** RFC 2863 operational state (6 = up). */
  operState?: number;
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function assertMtu(mtu: number): number {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new StatusError(Code.INVALID_ARGUMENT, `invalid MTU ${mtu}`);
  return mtu;
}

export function assertAlias(alias: string): string {
  if (typeof alias !== 'string' || Buffer.byteLength(alias) > IFALIAS_MAX || alias.includes('\0')) {
    throw new StatusError(Code.INVALID_ARGUMENT, `invalid interface alias (at most ${IFALIAS_MAX} bytes, no NUL)`);
  }
  return alias;
}

export function macBytes(mac: string): Buffer {
  if (!MAC_RE.test(mac)) throw new StatusError(Code.INVALID_ARGUMENT, `invalid MAC address "${mac}"`);
  return Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));
}

/** ifinfomsg: family, type, index, flags, change. */
function ifinfo(w: MessageWriter, index = 0, up?: boolean): void {
  w.u8(AF_UNSPEC).u8(0).u16(0).i32(index);
  w.u32(up ? IFF_UP : 0).u32(up === undefined ? 0 : IFF_UP);
}

/** Sets (or, with "", removes) the alias of the link named `name`. */
function aliasMessage(name: string, alias: string): Buffer {
  return message(RTM_NEWLINK, REQ, (w) => {
    ifinfo(w);
    w.attrString(IFLA_IFNAME, name);
    w.attrBytes(IFLA_IFALIAS, Buffer.from(alias, 'utf8'));
  });
}

function upMessage(name: string): Buffer {
  return message(RTM_NEWLINK, REQ, (w) => {
    ifinfo(w, 0, true);
    w.attrString(IFLA_IFNAME, name);
  });
}

export function parseLink(m: NlMessage): NlLinkInfo {
  const index = m.body.readInt32LE(4);
  const flags = m.body.readUInt32LE(8);
  const a = new Attrs(m.body, 16);
  const info: NlLinkInfo = { name: a.string(IFLA_IFNAME) ?? '', index, mac: '', mtu: a.u32(IFLA_MTU) ?? 0, up: (flags & IFF_UP) !== 0 };
  const mac = a.get(IFLA_ADDRESS);
  if (mac) info.mac = macText(mac);
  const kind = a.nested(IFLA_LINKINFO)?.string(IFLA_INFO_KIND);
  if (kind) info.kind = kind;
  const alias = a.string(IFLA_IFALIAS);
  if (alias) info.alias = alias;
  const link = a.u32(IFLA_LINK);
  const nsid = a.i32(IFLA_LINK_NETNSID);
  // Indexes are per namespace: a peer elsewhere may have our own index.
  if (link !== undefined && link !== 0 && (link !== index || nsid !== undefined)) info.link = link;
  if (nsid !== undefined) info.linkNetnsId = nsid;
  // ../link.ts semantics: a peer elsewhere is known by index, a peer here by name (set by callers).
  if (info.link !== undefined && nsid !== undefined) info.peerIndex = info.link;
  const oper = a.u8(IFLA_OPERSTATE);
  if (oper !== undefined) info.operState = oper;
  return info;
}

function getLinkMessage(name: string): Buffer {
  return message(RTM_GETLINK, REQ, (w) => {
    ifinfo(w);
    w.attrString(IFLA_IFNAME, name);
  });
}

/** The link, or undefined when there is none with that name. */
export async function getLink(ns: NetnsRef, name: string, nl: NetlinkCache = defaultNetlink()): Promise<NlLinkInfo | undefined> {
  assertIfName(name);
  try {
    const [m] = await nl.route(ns).request(getLinkMessage(name), `get link ${name} in netns ${describeNetns(ns)}`);
    const info = m ? parseLink(m) : undefined;
    if (info?.link !== undefined && info.linkNetnsId === undefined && info.kind === 'veth') {
      const peer = await getLinkByIndex(ns, info.link, nl);
      if (peer) info.peerName = peer.name;
    }
    return info;
  } catch (e) {
    if (isErrno(e, 'ENODEV', 'ENOENT')) return undefined;
    throw e;
  }
}

export async function getLinkByIndex(ns: NetnsRef, index: number, nl: NetlinkCache = defaultNetlink()): Promise<NlLinkInfo | undefined> {
  if (!Number.isInteger(index) || index <= 0 || index > 0x7fffffff) throw new StatusError(Code.INVALID_ARGUMENT, `invalid interface index ${index}`);
  try {
    const [m] = await nl.route(ns).request(message(RTM_GETLINK, REQ, (w) => ifinfo(w, index)), `get link #${index} in netns ${describeNetns(ns)}`);
    return m ? parseLink(m) : undefined;
  } catch (e) {
    if (isErrno(e, 'ENODEV', 'ENOENT')) return undefined;
    throw e;
  }
}

/** Indexes of several links in one exchange; undefined for those that do not exist. */
export async function findLinkIndexes(ns: NetnsRef, names: readonly string[], nl: NetlinkCache = defaultNetlink()): Promise<(number | undefined)[]> {
  names.forEach(assertIfName);
  const outcomes = await nl.route(ns).exchange(names.map(getLinkMessage));
  return outcomes.map((o, i) => {
    if (o.errno && errnoIs(o.errno, 'ENODEV', 'ENOENT')) return undefined;
    if (o.errno) throw new NetlinkError(o.errno, `get link ${names[i]} in netns ${describeNetns(ns)}`, o.extack);
    return parseLink(o.replies[0]).index;
  });
}

/** Indexes of several links in one exchange; NOT_FOUND naming the first that is missing. */
export async function linkIndexes(ns: NetnsRef, names: readonly string[], nl: NetlinkCache = defaultNetlink()): Promise<number[]> {
  const found = await findLinkIndexes(ns, names, nl);
  return found.map((idx, i) => {
    if (idx === undefined) throw new StatusError(Code.NOT_FOUND, `interface ${names[i]} not found in netns ${describeNetns(ns)}`);
    return idx;
  });
}

export async function listLinks(ns: NetnsRef, nl: NetlinkCache = defaultNetlink()): Promise<NlLinkInfo[]> {
  const msgs = await nl.route(ns).dump(RTM_GETLINK, (w) => ifinfo(w), `list links in netns ${describeNetns(ns)}`);
  const links = msgs.filter((m) => m.type === RTM_NEWLINK).map(parseLink);
  const byIndex = new Map(links.map((l) => [l.index, l]));
  for (const l of links) {
    if (l.kind === 'veth' && l.link !== undefined && l.linkNetnsId === undefined) {
      const peer = byIndex.get(l.link);
      if (peer) l.peerName = peer.name;
    }
  }
  return links;
}

export async function linkExists(ns: NetnsRef, name: string, nl: NetlinkCache = defaultNetlink()): Promise<boolean> {
  return (await getLink(ns, name, nl)) !== undefined;
}

export async function getMac(ns: NetnsRef, name: string, nl: NetlinkCache = defaultNetlink()): Promise<string> {
  const link = await getLink(ns, name, nl);
  if (!link) throw new StatusError(Code.NOT_FOUND, `interface ${name} not found in netns ${describeNetns(ns)}`);
  return link.mac;
}

export interface LinkChange {
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** IFLA_IFALIAS; "" removes it. */
  alias?: string;
  /** A new name (needs the link's index first: one more round trip). */
  name?: string;
}

/** Changes a link found by name; NOT_FOUND when it does not exist. */
export async function setLink(ns: NetnsRef, name: string, change: LinkChange, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  assertIfName(name);
  if (change.mtu !== undefined) assertMtu(change.mtu);
  if (change.alias !== undefined) assertAlias(change.alias);
  const mac = change.mac !== undefined ? macBytes(change.mac) : undefined;
  if (change.name !== undefined) assertIfName(change.name);
  const index = change.name !== undefined && change.name !== name ? (await linkIndexes(ns, [name], nl))[0] : 0;
  const msg = message(RTM_NEWLINK, REQ, (w) => {
    ifinfo(w, index, change.up);
    // With index 0 the kernel finds the link by IFLA_IFNAME; with an index, IFLA_IFNAME renames.
    w.attrString(IFLA_IFNAME, index ? change.name! : name);
    if (change.mtu !== undefined) w.attrU32(IFLA_MTU, change.mtu);
    if (mac) w.attrBytes(IFLA_ADDRESS, mac);
    if (change.alias !== undefined) w.attrBytes(IFLA_IFALIAS, Buffer.from(change.alias, 'utf8'));
  });
  try {
    await nl.route(ns).request(msg, `set link ${name} in netns ${describeNetns(ns)}`);
  } catch (e) {
    if (isErrno(e, 'ENODEV')) throw new StatusError(Code.NOT_FOUND, `interface ${name} not found in netns ${describeNetns(ns)}`, { cause: e });
    throw e;
  }
}

export async function setMac(ns: NetnsRef, name: string, mac: string, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  await setLink(ns, name, { mac: mac.toLowerCase() }, nl);
}

export async function setLinkUp(ns: NetnsRef, name: string, up = true, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  await setLink(ns, name, { up }, nl);
}

/** Deletes the link (for a veth, both ends). Missing link, or a namespace that has gone, is success. */
export async function deleteLink(ns: NetnsRef, name: string, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  await deleteLinks(ns, [name], nl);
}

/**
 * Deletes several links in one exchange; the ones already gone are skipped. Resolves once they are
 * gone from the namespace (below).
 *
 * Each deletion waits for RCU grace periods in the kernel (15–30 ms here), once per unregister batch,
 * and the kernel batches only a deletion by device group. So two or more links are first put in a
 * group of their own (a random number in the upper half of the range, which nothing assigns) and
 * deleted by group: two veth pairs then cost one wait instead of two. If the group deletion is
 * refused (a device without deletion support), each link is deleted on its own instead.
 *
 * The kernel takes the links out of the namespace (nothing can see, use or reuse them; their names
 * are free) within a millisecond or two, and acknowledges only after those RCU waits. So the
 * deletion goes out on the namespace's teardown socket, and this resolves as soon as the links are
 * no longer there (asked on the route socket) or with the acknowledgement, whichever comes first; a
 * failure acknowledged after the links went is logged.
 */
export async function deleteLinks(ns: NetnsRef, names: readonly string[], nl: NetlinkCache = defaultNetlink()): Promise<void> {
  names.forEach(assertIfName);
  if (names.length === 0) return;
  if (ns && !existsSync(ns.path)) return;
  const acked = deleteAcked(ns, names, nl);
  let settled = false;
  const ack = acked.finally(() => (settled = true));
  const gone = (async () => {
    for (;;) {
      await new Promise((r) => setTimeout(r, 1));
      if (settled) return ack;
      const left = await findLinkIndexes(ns, names, nl).catch(() => [0]);
      if (left.every((i) => i === undefined)) return;
    }
  })();
  await Promise.race([ack, gone]);
  if (!settled) ack.catch((e) => log.warn({ err: (e as Error).message, links: names }, 'deleted links reported a failure after they had gone'));
}

/** The deletion itself, on the teardown socket: resolves when the kernel has acknowledged it. */
async function deleteAcked(ns: NetnsRef, names: readonly string[], nl: NetlinkCache): Promise<void> {
  const sock = nl.teardown(ns);
  if (names.length > 1) {
    const group = (0x80000000 + randomInt(1, 0x7fffffff)) >>> 0;
    const msgs = names.map((n) => message(RTM_NEWLINK, REQ, (w) => (ifinfo(w), w.attrString(IFLA_IFNAME, n), w.attrU32(IFLA_GROUP, group))));
    msgs.push(message(RTM_DELLINK, REQ, (w) => (ifinfo(w), w.attrU32(IFLA_GROUP, group))));
    const outcomes = await sock.exchange(msgs);
    const del = outcomes[outcomes.length - 1];
    const missingOrOk = outcomes.slice(0, -1).every((o) => !o.errno || errnoIs(o.errno, 'ENODEV', 'ENOENT'));
    if (missingOrOk && (!del.errno || errnoIs(del.errno, 'ENODEV'))) return;
  }
  const outcomes = await sock.exchange(
    names.map((n) =>
      message(RTM_DELLINK, REQ, (w) => {
        ifinfo(w);
        w.attrString(IFLA_IFNAME, n);
      }),
    ),
  );
  const failed = outcomes.map((o, i) => ({ o, name: names[i] })).filter(({ o }) => o.errno && !errnoIs(o.errno, 'ENODEV', 'ENOENT'));
  if (failed.length) {
    // A link that cannot be deleted goes back to the default group rather than keep our number.
    if (names.length > 1) await sock.exchange(failed.map(({ name }) => message(RTM_NEWLINK, REQ, (w) => (ifinfo(w), w.attrString(IFLA_IFNAME, name), w.attrU32(IFLA_GROUP, 0)))));
    const { o, name } = failed[0];
    throw new NetlinkError(o.errno, `delete link ${name} in netns ${describeNetns(ns)}`, o.extack);
  }
}

const together = new WeakMap<NetlinkCache, Map<string, GroupCommit<string[], void>>>();

/**
 * deleteLinks, with every other deletion in the same namespace that comes in the same event-loop
 * turn, or while one is under way, in one kernel batch: one RCU wait for all of them (a connection
 * closing releases its two devices together; concurrent Closes share theirs). A deletion that fails
 * in a merged batch is retried on its own, so it fails only its own caller.
 */
export async function deleteLinksTogether(ns: NetnsRef, names: readonly string[], nl: NetlinkCache = defaultNetlink()): Promise<void> {
  names.forEach(assertIfName);
  if (names.length === 0) return;
  if (ns && !existsSync(ns.path)) return;
  let byNs = together.get(nl);
  if (!byNs) together.set(nl, (byNs = new Map()));
  const key = netnsKey(ns);
  let g = byNs.get(key);
  if (!g) {
    g = new GroupCommit<string[], void>(
      mergedOrOneByOne(
        async (batch) => {
          await deleteLinks(ns, [...new Set(batch.flat())], nl);
          return batch.map(() => undefined);
        },
        (one) => deleteLinks(ns, one, nl),
      ),
      { gather: true },
    );
    byNs.set(key, g);
  }
  await g.submit([...names]);
}

export interface VethSpec {
  name: string;
  peerName: string;
  /** Where the peer is created; omitted = the same namespace as `name`. */
  peerNetns?: Netns;
  mtu?: number;
  /** Both ends administratively up at creation (default true). */
  up?: boolean;
  /**
   * The peer too (default: as `up`). A peer in another namespace costs one more exchange to bring
   * up; a caller that configures it right after (and brings it up then) says false.
   */
  peerUp?: boolean;
  /** IFLA_IFALIAS of the `name` end (set in the same exchange). */
  alias?: string;
  /** Made through the threadpool, so that the calling thread goes on meanwhile (NetlinkSocket ExchangeOptions). */
  offThread?: boolean;
}

/** Interface indexes of a new pair, when the kernel echoed the creation (NLM_F_ECHO: Linux 6.3 and later). */
export interface MadeVeth {
  index?: number;
  /** The peer's, in its own namespace. */
  peerIndex?: number;
}

/**
 * Creates a veth pair in one exchange: `name` in `ns`, the peer created directly in `peerNetns`
 * (IFLA_NET_NS_FD), so nothing is moved between namespaces afterwards. Atomic: on any failure
 * neither end exists. EEXIST (either name taken) comes back as a NetlinkError with errno EEXIST;
 * ./veth.ts tells which name clashed.
 */
export async function addVeth(ns: NetnsRef, spec: VethSpec, nl: NetlinkCache = defaultNetlink()): Promise<MadeVeth> {
  assertIfName(spec.name);
  assertIfName(spec.peerName);
  if (spec.mtu !== undefined) assertMtu(spec.mtu);
  if (spec.alias !== undefined) assertAlias(spec.alias);
  const up = spec.up ?? true;
  let nsFd: number | undefined;
  if (spec.peerNetns) {
    try {
      nsFd = openSync(spec.peerNetns.path, 'r');
    } catch {
      throw new StatusError(Code.NOT_FOUND, `netns ${spec.peerNetns.label} does not exist or cannot be opened`);
    }
  }
  try {
    // NLM_F_ECHO: the new link comes back, with the peer's index (IFLA_LINK), so that addresses,
    // routes and tc filters need not look either end up again.
    const create = message(RTM_NEWLINK, REQ | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, (w) => {
      ifinfo(w, 0, up);
      w.attrString(IFLA_IFNAME, spec.name);
      if (spec.mtu !== undefined) w.attrU32(IFLA_MTU, spec.mtu);
      w.nest(IFLA_LINKINFO, (li) => {
        li.attrString(IFLA_INFO_KIND, 'veth');
        li.nest(IFLA_INFO_DATA, (d) =>
          // Not a plain nest: an ifinfomsg for the peer, then its attributes.
          d.attr(VETH_INFO_PEER, (p) => {
            // No IFF_UP here: the kernel opens the peer before the pair is joined and refuses (ENOTCONN).
            ifinfo(p);
            p.attrString(IFLA_IFNAME, spec.peerName);
            if (spec.mtu !== undefined) p.attrU32(IFLA_MTU, spec.mtu);
            if (nsFd !== undefined) p.attrU32(IFLA_NET_NS_FD, nsFd);
          }),
        );
      });
    });
    // The kernel takes no alias at creation and cannot start the peer then: both follow at once,
    // in the same exchange when the peer is here, else one more on the peer namespace's socket.
    const peerHere = spec.peerNetns === undefined;
    const peerUp = spec.peerUp ?? up;
    const msgs = [create, ...(spec.alias ? [aliasMessage(spec.name, spec.alias)] : []), ...(peerUp && peerHere ? [upMessage(spec.peerName)] : [])];
    const [made, ...rest] = await nl.route(ns).exchange(msgs, { offThread: spec.offThread });
    const where = `create veth ${spec.name} (peer ${spec.peerName}${spec.peerNetns ? ` in netns ${spec.peerNetns.label}` : ''}) in netns ${describeNetns(ns)}`;
    if (made.errno) throw new NetlinkError(made.errno, where, made.extack);
    try {
      const failed = rest.find((o) => o.errno);
      if (failed) throw new NetlinkError(failed.errno, where, failed.extack);
      if (peerUp && !peerHere) await nl.route(spec.peerNetns).request(upMessage(spec.peerName), `${where}: set ${spec.peerName} up`);
    } catch (e) {
      await deleteLink(ns, spec.name, nl).catch(() => undefined);
      throw e;
    }
    const echoed = made.replies.find((m) => m.type === RTM_NEWLINK);
    if (!echoed) return {};
    const info = parseLink(echoed);
    // The echo is of `name`; a kernel that names another device (it should not) is not trusted.
    return info.name === spec.name && info.kind === 'veth' ? { index: info.index, peerIndex: info.link } : {};
  } finally {
    if (nsFd !== undefined) closeSync(nsFd);
  }
}

export interface VxlanSpec {
  name: string;
  /** VXLAN network identifier, 0..2^24-1. */
  vni: number;
  /** The other end's underlay address (unicast). */
  remote: string;
  /** Our underlay address (same family as remote); omitted = chosen by routing. */
  local?: string;
  /** UDP destination port (default 4789, the IANA one; the kernel's own default is 8472). */
  dstPort?: number;
  /** Underlay device to send through (by name). */
  dev?: string;
  /** MAC learning (default off: a point-to-point tunnel needs none). */
  learning?: boolean;
  ttl?: number;
  mtu?: number;
  up?: boolean;
  alias?: string;
}

/** Creates a point-to-point VXLAN device in `ns`. */
export async function addVxlan(ns: NetnsRef, spec: VxlanSpec, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  assertIfName(spec.name);
  if (!Number.isInteger(spec.vni) || spec.vni < 0 || spec.vni > 0xffffff) throw new StatusError(Code.INVALID_ARGUMENT, `invalid VNI ${spec.vni}`);
  const remote = parseIp(spec.remote);
  const local = spec.local !== undefined ? parseIp(spec.local) : undefined;
  if (local && local.family !== remote.family) throw new StatusError(Code.INVALID_ARGUMENT, `vxlan ${spec.name}: local ${spec.local} and remote ${spec.remote} differ in family`);
  const port = spec.dstPort ?? 4789;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StatusError(Code.INVALID_ARGUMENT, `invalid VXLAN port ${spec.dstPort}`);
  if (spec.ttl !== undefined && (!Number.isInteger(spec.ttl) || spec.ttl < 0 || spec.ttl > 255)) throw new StatusError(Code.INVALID_ARGUMENT, `invalid TTL ${spec.ttl}`);
  if (spec.mtu !== undefined) assertMtu(spec.mtu);
  if (spec.alias !== undefined) assertAlias(spec.alias);
  const devIndex = spec.dev !== undefined ? (await linkIndexes(ns, [spec.dev], nl))[0] : undefined;
  const up = spec.up ?? true;
  const msg = message(RTM_NEWLINK, REQ | NLM_F_CREATE | NLM_F_EXCL, (w) => {
    ifinfo(w, 0, up);
    w.attrString(IFLA_IFNAME, spec.name);
    if (spec.mtu !== undefined) w.attrU32(IFLA_MTU, spec.mtu);
    w.nest(IFLA_LINKINFO, (li) => {
      li.attrString(IFLA_INFO_KIND, 'vxlan');
      li.nest(IFLA_INFO_DATA, (d) => {
        d.attrU32(IFLA_VXLAN_ID, spec.vni);
        d.attrBytes(remote.family === 4 ? IFLA_VXLAN_GROUP : IFLA_VXLAN_GROUP6, ipBytes(remote.ip, remote.family));
        if (local) d.attrBytes(local.family === 4 ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, ipBytes(local.ip, local.family));
        if (devIndex !== undefined) d.attrU32(IFLA_VXLAN_LINK, devIndex);
        d.attrBe16(IFLA_VXLAN_PORT, port);
        d.attrU8(IFLA_VXLAN_LEARNING, spec.learning ? 1 : 0);
        if (spec.ttl !== undefined) d.attrU8(IFLA_VXLAN_TTL, spec.ttl);
      });
    });
  });
  const msgs = [msg];
  if (spec.alias) msgs.push(aliasMessage(spec.name, spec.alias));
  const [made, aliased] = await nl.route(ns).exchange(msgs);
  const where = `create vxlan ${spec.name} (vni ${spec.vni}, remote ${remote.ip}) in netns ${describeNetns(ns)}`;
  if (made.errno) throw new NetlinkError(made.errno, where, made.extack);
  if (aliased?.errno) {
    await deleteLink(ns, spec.name, nl).catch(() => undefined);
    throw new NetlinkError(aliased.errno, `${where}: set alias`, aliased.extack);
  }
}
