// Policy routing rules (FIB rules) over rtnetlink: "packets arriving on device X look up table T",
// which ../../sdk-ovs/elements/routing.ts installs per connection. Adding is idempotent (a rule that
// exists is kept) and so is deleting.
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { assertIfName } from '../names';
import { describeNetns, NetnsRef } from '../netns';
import { Attrs, message, NlMessage } from './codec';
import { AF_INET, FR_ACT_TO_TBL, FRA_IIFNAME, FRA_PRIORITY, FRA_TABLE, NLM_F_CREATE, NLM_F_EXCL, RT_TABLE_UNSPEC, RTM_DELRULE, RTM_GETRULE, RTM_NEWRULE } from './consts';
import { afOf } from './addr';
import { errnoIs, NetlinkError } from './errors';
import { defaultNetlink, NetlinkCache } from './handles';
import { assertTable } from './route';
import { REQ } from './socket';

export interface RuleSpec {
  family: 4 | 6;
  /** Incoming interface. */
  iif: string;
  table: number;
  /** Priority (`pref`); lower is consulted first. */
  pref: number;
}

export interface RuleInfo {
  family: 4 | 6;
  pref?: number;
  table: number;
  iif?: string;
}

function ruleMessage(op: 'add' | 'delete', r: RuleSpec): Buffer {
  assertIfName(r.iif);
  assertTable(r.table);
  if (!Number.isInteger(r.pref) || r.pref < 0 || r.pref > 0xffffffff) throw new StatusError(Code.INVALID_ARGUMENT, `invalid rule priority ${r.pref}`);
  if (r.family !== 4 && r.family !== 6) throw new StatusError(Code.INVALID_ARGUMENT, `invalid rule family ${r.family}`);
  const add = op === 'add';
  return message(add ? RTM_NEWRULE : RTM_DELRULE, add ? REQ | NLM_F_CREATE | NLM_F_EXCL : REQ, (w) => {
    // fib_rule_hdr: family, dst_len, src_len, tos, table, res1, res2, action, flags
    w.u8(afOf(r.family)).u8(0).u8(0).u8(0).u8(r.table < 256 ? r.table : RT_TABLE_UNSPEC).u8(0).u8(0).u8(FR_ACT_TO_TBL).u32(0);
    w.attrString(FRA_IIFNAME, r.iif);
    w.attrU32(FRA_PRIORITY, r.pref);
    w.attrU32(FRA_TABLE, r.table);
  });
}

const describe = (r: RuleSpec) => `rule (IPv${r.family}) iif ${r.iif} lookup ${r.table} pref ${r.pref}`;

/** Adds the rules in one exchange; those that already exist are kept. */
export async function addRules(ns: NetnsRef, rules: readonly RuleSpec[], nl: NetlinkCache = defaultNetlink()): Promise<void> {
  const outcomes = await nl.route(ns).exchange(rules.map((r) => ruleMessage('add', r)));
  outcomes.forEach((o, i) => {
    if (o.errno && !errnoIs(o.errno, 'EEXIST')) throw new NetlinkError(o.errno, `add ${describe(rules[i])} in netns ${describeNetns(ns)}`, o.extack);
  });
}

/** Deletes the rules in one exchange; those not there are already deleted. */
export async function deleteRules(ns: NetnsRef, rules: readonly RuleSpec[], nl: NetlinkCache = defaultNetlink()): Promise<void> {
  const outcomes = await nl.route(ns).exchange(rules.map((r) => ruleMessage('delete', r)));
  outcomes.forEach((o, i) => {
    if (o.errno && !errnoIs(o.errno, 'ENOENT', 'ESRCH')) throw new NetlinkError(o.errno, `delete ${describe(rules[i])} in netns ${describeNetns(ns)}`, o.extack);
  });
}

function parseRule(m: NlMessage): RuleInfo {
  const a = new Attrs(m.body, 12);
  const info: RuleInfo = { family: m.body.readUInt8(0) === AF_INET ? 4 : 6, table: a.u32(FRA_TABLE) ?? m.body.readUInt8(4) };
  const pref = a.u32(FRA_PRIORITY);
  if (pref !== undefined) info.pref = pref;
  const iif = a.string(FRA_IIFNAME);
  if (iif) info.iif = iif;
  return info;
}

export async function listRules(ns: NetnsRef, family: 4 | 6, nl: NetlinkCache = defaultNetlink()): Promise<RuleInfo[]> {
  const msgs = await nl.route(ns).dump(RTM_GETRULE, (w) => w.u8(afOf(family)).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0), `list rules in netns ${describeNetns(ns)}`);
  return msgs.filter((m) => m.type === RTM_NEWRULE).map(parseRule);
}
