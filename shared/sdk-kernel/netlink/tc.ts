// The kernel fast path for a vWire: every frame arriving on one host-side device leaves through
// another, joined in tc (clsact ingress hook, a match-everything u32 filter, mirred egress
// redirect). No bridge, no flow table, no userspace: measured within noise of a plain veth pair
// (bench/netlink.ts), offloads left on (TCP needs no workaround), first packet passes at once.
//
// Why u32 and not matchall/flower: those classifiers are optional kernel modules (absent here);
// cls_u32 and act_mirred are present wherever tc is. A u32 selector with one all-zero key matches
// every frame. eBPF (bpf_redirect_peer) was measured too and gained nothing, so there is none.
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { describeNetns, NetnsRef } from '../netns';
import { Attrs, message, MessageWriter } from './codec';
import {
  AF_UNSPEC,
  ETH_P_ALL,
  NLM_F_CREATE,
  NLM_F_EXCL,
  RTM_DELQDISC,
  RTM_DELTFILTER,
  RTM_GETTFILTER,
  RTM_NEWQDISC,
  RTM_NEWTFILTER,
  TC_ACT_STOLEN,
  TC_H_CLSACT,
  TC_H_MIN_INGRESS,
  TC_U32_TERMINAL,
  TCA_ACT_KIND,
  TCA_ACT_OPTIONS,
  TCA_EGRESS_REDIR,
  TCA_KIND,
  TCA_MIRRED_PARMS,
  TCA_OPTIONS,
  TCA_U32_ACT,
  TCA_U32_SEL,
} from './consts';
import { errnoIs, NetlinkError } from './errors';
import { defaultNetlink, NetlinkCache } from './handles';
import { findLinkIndexes, linkIndexes } from './link';
import { Outcome, REQ } from './socket';

/** Priority of our redirect filter (one per device; a second redirect replaces the first). */
export const REDIRECT_PRIO = 1;

const CLSACT_HANDLE = 0xffff0000;
const INGRESS_PARENT = ((TC_H_CLSACT & 0xffff0000) | TC_H_MIN_INGRESS) >>> 0;
const htons = (v: number) => ((v & 0xff) << 8) | ((v >> 8) & 0xff);

function tcmsg(w: MessageWriter, index: number, handle: number, parent: number, info: number): void {
  w.u8(AF_UNSPEC).u8(0).u16(0).i32(index).u32(handle).u32(parent).u32(info);
}

function clsactMessage(op: 'add' | 'delete', index: number): Buffer {
  return message(op === 'add' ? RTM_NEWQDISC : RTM_DELQDISC, op === 'add' ? REQ | NLM_F_CREATE | NLM_F_EXCL : REQ, (w) => {
    tcmsg(w, index, CLSACT_HANDLE, TC_H_CLSACT, 0);
    w.attrString(TCA_KIND, 'clsact');
  });
}

const filterInfo = (prio: number) => ((prio << 16) | htons(ETH_P_ALL)) >>> 0;

function deleteFilterMessage(index: number, prio: number): Buffer {
  return message(RTM_DELTFILTER, REQ, (w) => tcmsg(w, index, 0, INGRESS_PARENT, filterInfo(prio)));
}

function redirectMessage(from: number, to: number, prio: number): Buffer {
  return message(RTM_NEWTFILTER, REQ | NLM_F_CREATE | NLM_F_EXCL, (w) => {
    tcmsg(w, from, 0, INGRESS_PARENT, filterInfo(prio));
    w.attrString(TCA_KIND, 'u32');
    w.nest(TCA_OPTIONS, (o) => {
      o.attr(TCA_U32_SEL, (s) => {
        // tc_u32_sel: flags, offshift, nkeys, pad, offmask(be16), off, offoff, hoff, hmask(be32)
        s.u8(TC_U32_TERMINAL).u8(0).u8(1).u8(0).be16(0).u16(0).u16(0).u16(0).be32(0);
        // tc_u32_key: mask, val, off, offmask: mask 0 matches every frame
        s.be32(0).be32(0).i32(0).i32(0);
      });
      o.nest(TCA_U32_ACT, (acts) =>
        acts.nest(1, (act) => {
          act.attrString(TCA_ACT_KIND, 'mirred');
          act.nest(TCA_ACT_OPTIONS, (mo) =>
            // tc_mirred: tc_gen (index, capab, action, refcnt, bindcnt), eaction, ifindex
            mo.attr(TCA_MIRRED_PARMS, (p) => p.u32(0).u32(0).i32(TC_ACT_STOLEN).i32(0).i32(0).i32(TCA_EGRESS_REDIR).u32(to)),
          );
        }),
      );
    });
  });
}

function check(outcomes: Outcome[], what: string[], ok: (errno: number, i: number) => boolean): void {
  outcomes.forEach((o, i) => {
    if (o.errno && !ok(o.errno, i)) throw new NetlinkError(o.errno, what[i], o.extack);
  });
}

export interface Redirect {
  /** Frames arriving on `from`... */
  from: string;
  /** ...leave through `to` (same namespace). */
  to: string;
}

/** Interface indexes the caller knows already (devices it just made), by name: those are not looked up. */
export type KnownIndexes = ReadonlyMap<string, number>;

/**
 * Installs the redirects (each replaces an earlier one on its `from` device): one exchange to find
 * the devices (unless `known`), one to add clsact qdiscs and filters. For a vWire pass both directions.
 */
export async function addRedirects(ns: NetnsRef, redirects: readonly Redirect[], nl: NetlinkCache = defaultNetlink(), known: KnownIndexes = new Map()): Promise<void> {
  if (redirects.length === 0) return;
  const names = [...new Set(redirects.flatMap((r) => [r.from, r.to]))].filter((n) => !known.has(n));
  const idx = new Map([...known, ...(names.length ? (await linkIndexes(ns, names, nl)).map((x, i) => [names[i], x] as const) : [])]);
  const msgs: Buffer[] = [];
  const what: string[] = [];
  const kinds: ('qdisc' | 'del' | 'add')[] = [];
  const where = `in netns ${describeNetns(ns)}`;
  for (const r of redirects) {
    if (r.from === r.to) throw new StatusError(Code.INVALID_ARGUMENT, `redirect ${r.from} to itself`);
    const from = idx.get(r.from)!;
    msgs.push(clsactMessage('add', from), deleteFilterMessage(from, REDIRECT_PRIO), redirectMessage(from, idx.get(r.to)!, REDIRECT_PRIO));
    what.push(`add clsact qdisc to ${r.from} ${where}`, `replace redirect on ${r.from} ${where}`, `redirect ${r.from} to ${r.to} ${where}`);
    kinds.push('qdisc', 'del', 'add');
  }
  const outcomes = await nl.route(ns).exchange(msgs);
  // An existing qdisc is ours from before; no earlier filter to replace is the usual case.
  check(outcomes, what, (errno, i) => (kinds[i] === 'qdisc' && errnoIs(errno, 'EEXIST')) || (kinds[i] === 'del' && errnoIs(errno, 'ENOENT', 'EINVAL')));
}

/** Removes the clsact qdisc (and with it every filter) from each device; what is gone is fine. */
export async function removeRedirects(ns: NetnsRef, devs: readonly string[], nl: NetlinkCache = defaultNetlink()): Promise<void> {
  if (devs.length === 0) return;
  // A device that has gone took its qdisc along.
  const idx = (await findLinkIndexes(ns, devs, nl)).filter((i): i is number => i !== undefined);
  const outcomes = await nl.route(ns).exchange(idx.map((i) => clsactMessage('delete', i)));
  check(
    outcomes,
    idx.map((i) => `remove clsact qdisc from link #${i} in netns ${describeNetns(ns)}`),
    (errno) => errnoIs(errno, 'ENOENT', 'EINVAL', 'ENODEV'),
  );
}

export interface RedirectInfo {
  prio: number;
  /** Target device index (in the same namespace). */
  to: number;
}

/** The mirred redirects on a device's ingress hook (none when it has no clsact qdisc). */
export async function listRedirects(ns: NetnsRef, dev: string, nl: NetlinkCache = defaultNetlink()): Promise<RedirectInfo[]> {
  const [index] = await linkIndexes(ns, [dev], nl);
  let msgs;
  try {
    msgs = await nl.route(ns).dump(RTM_GETTFILTER, (w) => tcmsg(w, index, 0, INGRESS_PARENT, 0), `list filters of ${dev} in netns ${describeNetns(ns)}`);
  } catch (e) {
    if (e instanceof NetlinkError && errnoIs(e.errno, 'EINVAL', 'ENOENT')) return [];
    throw e;
  }
  const out: RedirectInfo[] = [];
  for (const m of msgs) {
    if (m.type !== RTM_NEWTFILTER) continue;
    const a = new Attrs(m.body, 20);
    const opts = a.nested(TCA_OPTIONS);
    if (a.string(TCA_KIND) !== 'u32' || !opts?.has(TCA_U32_SEL)) continue;
    for (const act of opts.nested(TCA_U32_ACT) ? [...new Attrs(opts.get(TCA_U32_ACT)!).all(1)] : []) {
      const aa = new Attrs(act);
      const parms = aa.string(TCA_ACT_KIND) === 'mirred' ? aa.nested(TCA_ACT_OPTIONS)?.get(TCA_MIRRED_PARMS) : undefined;
      if (parms && parms.length >= 28) out.push({ prio: m.body.readUInt32LE(16) >>> 16, to: parms.readUInt32LE(24) });
    }
  }
  return out;
}
