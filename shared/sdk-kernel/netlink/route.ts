// Routes over rtnetlink: replace/delete one, list or flush a table. Destinations have their host
// bits masked off (NSM contexts carry prefixes like 172.16.1.101/31, which the kernel refuses).
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { describeNetns, NetnsRef } from '../netns';
import { Cidr, networkOf, parseCidr, parseIp } from '../cidr';
import { Attrs, ipBytes, ipText, message, NlMessage } from './codec';
import {
  AF_INET,
  NLM_F_CREATE,
  NLM_F_REPLACE,
  RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RT_TABLE_UNSPEC,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_TABLE,
  RTM_DELROUTE,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  RTN_UNICAST,
  RTNH_F_ONLINK,
  RTPROT_BOOT,
} from './consts';
import { afOf } from './addr';
import { errnoIs, isErrno, NetlinkError } from './errors';
import { defaultNetlink, NetlinkCache } from './handles';
import { linkIndexes } from './link';
import { REQ } from './socket';

export interface RouteChange {
  /** Destination prefix, e.g. "172.16.1.100/32", "::/0". */
  dst: string;
  /** Output device. */
  dev: string;
  /** Gateway; absent = on-link route through `dev`. */
  via?: string;
  /** Routing table (default main, 254). */
  table?: number;
  /** Gateway need not be inside a prefix of the link (default true with a gateway: NSM uses /32s). */
  onlink?: boolean;
}

export interface RouteInfo {
  family: 4 | 6;
  dst: string;
  table: number;
  index?: number;
  via?: string;
}

export function assertTable(table: number): number {
  if (!Number.isInteger(table) || table < 1 || table > 0xffffffff) throw new StatusError(Code.INVALID_ARGUMENT, `invalid routing table ${table}`);
  return table;
}

interface ParsedRoute {
  dst: Cidr;
  via?: { family: 4 | 6; ip: string };
  table: number;
  onlink: boolean;
}

function parseRoute(r: RouteChange): ParsedRoute {
  const dst = networkOf(parseCidr(r.dst));
  const table = assertTable(r.table ?? RT_TABLE_MAIN);
  if (!r.via) return { dst, table, onlink: false };
  const via = parseIp(r.via);
  if (via.family !== dst.family) throw new StatusError(Code.INVALID_ARGUMENT, `route ${r.dst} via ${r.via}: address families differ`);
  return { dst, via, table, onlink: r.onlink ?? true };
}

function routeMessage(op: 'replace' | 'delete', r: ParsedRoute, index: number): Buffer {
  const replace = op === 'replace';
  return message(replace ? RTM_NEWROUTE : RTM_DELROUTE, replace ? REQ | NLM_F_CREATE | NLM_F_REPLACE : REQ, (w) => {
    // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
    w.u8(afOf(r.dst.family)).u8(r.dst.len).u8(0).u8(0);
    w.u8(r.table < 256 ? r.table : RT_TABLE_UNSPEC).u8(replace ? RTPROT_BOOT : 0).u8(r.via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK).u8(RTN_UNICAST);
    w.u32(r.onlink ? RTNH_F_ONLINK : 0);
    if (r.dst.len > 0) w.attrBytes(RTA_DST, ipBytes(r.dst.ip, r.dst.family));
    w.attrU32(RTA_TABLE, r.table);
    w.attrU32(RTA_OIF, index);
    if (r.via) w.attrBytes(RTA_GATEWAY, ipBytes(r.via.ip, r.via.family));
  });
}

/** The messages for several routes through links of `ns` (one lookup exchange for the devices). */
export async function routeMessages(ns: NetnsRef, op: 'replace' | 'delete', routes: readonly RouteChange[], nl: NetlinkCache = defaultNetlink()): Promise<Buffer[]> {
  const parsed = routes.map(parseRoute);
  const devs = [...new Set(routes.map((r) => r.dev))];
  const indexes = new Map((await linkIndexes(ns, devs, nl)).map((idx, i) => [devs[i], idx]));
  return parsed.map((p, i) => routeMessage(op, p, indexes.get(routes[i].dev)!));
}

export async function replaceRoute(ns: NetnsRef, r: RouteChange, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  const [msg] = await routeMessages(ns, 'replace', [r], nl);
  await nl.route(ns).request(msg, `route ${r.dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev} in netns ${describeNetns(ns)}`);
}

/** Deletes the route; one that is not there is already deleted. */
export async function deleteRoute(ns: NetnsRef, r: RouteChange, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  const [msg] = await routeMessages(ns, 'delete', [r], nl);
  const [o] = await nl.route(ns).exchange([msg]);
  if (o.errno && !errnoIs(o.errno, 'ESRCH', 'ENOENT')) throw new NetlinkError(o.errno, `delete route ${r.dst} dev ${r.dev} in netns ${describeNetns(ns)}`, o.extack);
}

function parseRouteInfo(m: NlMessage): RouteInfo {
  const family = m.body.readUInt8(0) === AF_INET ? 4 : 6;
  const len = m.body.readUInt8(1);
  const a = new Attrs(m.body, 12);
  const dst = a.get(RTA_DST);
  const info: RouteInfo = { family, dst: `${dst ? ipText(dst) : family === 4 ? '0.0.0.0' : '::'}/${len}`, table: a.u32(RTA_TABLE) ?? m.body.readUInt8(4) };
  const oif = a.u32(RTA_OIF);
  if (oif !== undefined) info.index = oif;
  const gw = a.get(RTA_GATEWAY);
  if (gw) info.via = ipText(gw);
  return info;
}

/** Routes of one family in one table (the kernel filters: strict dump checking is on). */
export async function listRoutes(ns: NetnsRef, family: 4 | 6, table: number = RT_TABLE_MAIN, nl: NetlinkCache = defaultNetlink()): Promise<{ info: RouteInfo; raw: NlMessage }[]> {
  assertTable(table);
  let msgs: NlMessage[];
  try {
    msgs = await nl.route(ns).dump(
      RTM_GETROUTE,
      (w) => {
        w.u8(afOf(family)).u8(0).u8(0).u8(0).u8(table < 256 ? table : RT_TABLE_UNSPEC).u8(0).u8(0).u8(0).u32(0);
        w.attrU32(RTA_TABLE, table);
      },
      `list routes in netns ${describeNetns(ns)}`,
    );
  } catch (e) {
    // A table nothing was ever put in does not exist (yet): it has no routes.
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
  return msgs
    .filter((m) => m.type === RTM_NEWROUTE)
    .map((m) => ({ info: parseRouteInfo(m), raw: m }))
    .filter((r) => r.info.table === table);
}

/** Deletes every route of `table` (both families); what vanished meanwhile is fine. */
export async function flushTable(ns: NetnsRef, table: number, nl: NetlinkCache = defaultNetlink()): Promise<number> {
  let n = 0;
  for (const family of [4, 6] as const) {
    const routes = await listRoutes(ns, family, table, nl);
    if (routes.length === 0) continue;
    // The dumped message itself, as a delete request: it names exactly that route.
    const msgs = routes.map(({ raw }) => message(RTM_DELROUTE, REQ, (w) => w.bytes(raw.body)));
    const outcomes = await nl.route(ns).exchange(msgs);
    const bad = outcomes.find((o) => o.errno && !errnoIs(o.errno, 'ESRCH', 'ENOENT'));
    if (bad) throw new NetlinkError(bad.errno, `flush table ${table} in netns ${describeNetns(ns)}`, bad.extack);
    n += routes.length;
  }
  return n;
}
