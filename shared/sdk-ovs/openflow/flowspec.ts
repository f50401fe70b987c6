// OpenFlow rules as data: what NSM installs (match on in_port, a VLAN id or a tunnel id; output,
// push/pop VLAN, set VLAN id or tunnel id), builders for the rules that flows.ts writes as
// ovs-ofctl text, and conversions both ways with that text: `parseFlowText` reads the ovs-ofctl
// subset flows.ts produces (so callers of the text API keep working on the direct client), and
// `formatMatch`/`formatActions` print a rule exactly as `ovs-ofctl -O OpenFlow13 --no-names
// dump-flows` does, so dumps read the same whichever client installed the rules.
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { NSM_FLOW_PRIORITY } from '../flows';

export interface FlowMatch {
  /** OpenFlow port number the packet came in on. */
  inPort?: number;
  /** Matches frames tagged with this VLAN id (1-4094), like ovs-ofctl's dl_vlan. */
  vlan?: number;
  /** Tunnel id (VNI), like ovs-ofctl's tun_id. */
  tunId?: bigint;
}

export type FlowAction =
  | { type: 'output'; port: number }
  | { type: 'push_vlan'; ethertype: number }
  | { type: 'pop_vlan' }
  /** Sets the VLAN id (1-4094) of the outermost tag; OpenFlow 1.3's vlan_vid with the "present" bit. */
  | { type: 'set_vlan'; vlan: number }
  | { type: 'set_tun_id'; tunId: bigint }
  /** Something we do not build (only in dumps of rules others installed). */
  | { type: 'unknown'; text: string };

export interface FlowSpec {
  cookie: bigint;
  priority: number;
  /** Table; 0 by default. */
  table?: number;
  match: FlowMatch;
  /** Applied in order; empty = drop. */
  actions: FlowAction[];
}

export const MAX_PORT = 0xfeff;
const U64 = (1n << 64n) - 1n;

/** Throws INVALID_ARGUMENT unless `spec` is something we can put on the wire. */
export function checkFlowSpec(spec: FlowSpec): FlowSpec {
  const bad = (m: string) => new StatusError(Code.INVALID_ARGUMENT, `invalid OpenFlow rule: ${m}`);
  if (typeof spec.cookie !== 'bigint' || spec.cookie < 0n || spec.cookie > U64) throw bad(`cookie ${String(spec.cookie)}`);
  if (!Number.isInteger(spec.priority) || spec.priority < 0 || spec.priority > 0xffff) throw bad(`priority ${spec.priority}`);
  if (spec.table !== undefined && (!Number.isInteger(spec.table) || spec.table < 0 || spec.table > 253)) throw bad(`table ${spec.table}`);
  const m = spec.match ?? {};
  if (m.inPort !== undefined) checkPort(m.inPort, 'in_port');
  if (m.vlan !== undefined) checkVlan(m.vlan, 'dl_vlan');
  if (m.tunId !== undefined && (typeof m.tunId !== 'bigint' || m.tunId < 0n || m.tunId > U64)) throw bad(`tun_id ${String(m.tunId)}`);
  if (!Array.isArray(spec.actions) || spec.actions.length > 64) throw bad('actions must be a list of at most 64');
  for (const a of spec.actions) {
    switch (a.type) {
      case 'output':
        checkPort(a.port, 'output');
        break;
      case 'push_vlan':
        if (!Number.isInteger(a.ethertype) || a.ethertype < 0 || a.ethertype > 0xffff) throw bad(`push_vlan ethertype ${a.ethertype}`);
        break;
      case 'pop_vlan':
        break;
      case 'set_vlan':
        checkVlan(a.vlan, 'set_field vlan_vid');
        break;
      case 'set_tun_id':
        if (typeof a.tunId !== 'bigint' || a.tunId < 0n || a.tunId > U64) throw bad(`set_field tun_id ${String(a.tunId)}`);
        break;
      default:
        throw bad(`action ${(a as { type: string }).type} cannot be installed`);
    }
  }
  return spec;
}

function checkPort(p: unknown, what: string): void {
  if (!Number.isInteger(p) || (p as number) < 1 || (p as number) > MAX_PORT) throw new StatusError(Code.INVALID_ARGUMENT, `invalid OpenFlow rule: ${what} port ${String(p)} (1-${MAX_PORT})`);
}

function checkVlan(v: unknown, what: string): void {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 4094) throw new StatusError(Code.INVALID_ARGUMENT, `invalid OpenFlow rule: ${what} VLAN id ${String(v)} (1-4094)`);
}

/** A cookie as flows.ts writes it ("0x" + hex) or a bigint. */
export function toCookie(c: string | bigint): bigint {
  if (typeof c === 'bigint') return c;
  if (!/^0x[0-9a-fA-F]{1,16}$/.test(c)) throw new StatusError(Code.INVALID_ARGUMENT, `invalid cookie "${c.slice(0, 24)}"`);
  return BigInt(c);
}

// ---- builders: the same rules as flows.ts, as data ---------------------------------------------

const out = (port: number): FlowAction => ({ type: 'output', port });
const tag = (vlan: number): FlowAction[] => [{ type: 'push_vlan', ethertype: 0x8100 }, { type: 'set_vlan', vlan }];

/** Kernel <-> kernel on one node (flows.ts crossConnectFlows). */
export function crossConnectSpecs(a: number, b: number, cookie: string | bigint, priority = NSM_FLOW_PRIORITY): FlowSpec[] {
  const c = toCookie(cookie);
  const specs: FlowSpec[] = [
    { cookie: c, priority, match: { inPort: a }, actions: [out(b)] },
    { cookie: c, priority, match: { inPort: b }, actions: [out(a)] },
  ];
  return specs.map(checkFlowSpec);
}

/** NSE-side trunking (flows.ts vlanFlows): untag from the trunk, tag toward it. */
export function vlanSpecs(trunk: number, access: number, vlan: number, cookie: string | bigint, priority = NSM_FLOW_PRIORITY): FlowSpec[] {
  const c = toCookie(cookie);
  const specs: FlowSpec[] = [
    { cookie: c, priority, match: { inPort: trunk, vlan }, actions: [{ type: 'pop_vlan' }, out(access)] },
    { cookie: c, priority, match: { inPort: access }, actions: [...tag(vlan), out(trunk)] },
  ];
  return specs.map(checkFlowSpec);
}

/** VLAN breakout, a member's rule (flows.ts vlanUplinkMemberFlow). */
export function vlanUplinkMemberSpec(uplink: number, member: number, vlan: number, cookie: string | bigint, peers: readonly number[] = [], priority = NSM_FLOW_PRIORITY): FlowSpec {
  return checkFlowSpec({ cookie: toCookie(cookie), priority, match: { inPort: member }, actions: [...peers.map(out), ...tag(vlan), out(uplink)] });
}

/** VLAN breakout, the shared downlink rule (flows.ts vlanUplinkDownFlow). */
export function vlanUplinkDownSpec(uplink: number, members: readonly number[], vlan: number, cookie: string | bigint, priority = NSM_FLOW_PRIORITY): FlowSpec {
  if (members.length === 0) throw new StatusError(Code.INVALID_ARGUMENT, 'a VLAN downlink rule needs at least one member port');
  return checkFlowSpec({ cookie: toCookie(cookie), priority, match: { inPort: uplink, vlan }, actions: [{ type: 'pop_vlan' }, ...members.map(out)] });
}

/** Kernel <-> VXLAN with the VNI chosen per rule (flows.ts vxlanFlows). */
export function vxlanSpecs(local: number, tunnel: number, vni: number, cookie: string | bigint, priority = NSM_FLOW_PRIORITY): FlowSpec[] {
  if (!Number.isInteger(vni) || vni < 0 || vni > 0xffffff) throw new StatusError(Code.INVALID_ARGUMENT, `invalid VNI ${vni}`);
  const c = toCookie(cookie);
  const specs: FlowSpec[] = [
    { cookie: c, priority, match: { inPort: local }, actions: [{ type: 'set_tun_id', tunId: BigInt(vni) }, out(tunnel)] },
    { cookie: c, priority, match: { inPort: tunnel, tunId: BigInt(vni) }, actions: [out(local)] },
  ];
  return specs.map(checkFlowSpec);
}

// ---- ovs-ofctl text ----------------------------------------------------------------------------

/** A rule or a deletion, from one line of `ovs-ofctl add-flows` input. */
export type FlowTextLine = { kind: 'add'; spec: FlowSpec } | { kind: 'delete'; filter: FlowFilter };

/** Which rules a deletion or dump addresses (non-strict: every rule at least this specific). */
export interface FlowFilter {
  cookie?: bigint;
  /** Bits of the cookie that must match; all ones when a cookie is given without a mask. */
  cookieMask?: bigint;
  table?: number;
  match?: FlowMatch;
}

const bad = (line: string, why: string) => new StatusError(Code.INVALID_ARGUMENT, `unsupported OpenFlow rule "${line.slice(0, 120)}": ${why}`);

function num(line: string, v: string, what: string): bigint {
  if (!/^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(v)) throw bad(line, `${what} "${v}" is not a number`);
  const n = BigInt(v);
  if (n > U64) throw bad(line, `${what} ${v} is too large`);
  return n;
}

function small(line: string, v: string, what: string): number {
  const n = num(line, v, what);
  if (n > 0xffffffffn) throw bad(line, `${what} ${v} is too large`);
  return Number(n);
}

/** The fields flows.ts writes before `actions=` (or a del-flows match), in any order. */
function parseFields(line: string, text: string, allowMask: boolean): { cookie?: bigint; cookieMask?: bigint; priority?: number; table?: number; match: FlowMatch } {
  const r: { cookie?: bigint; cookieMask?: bigint; priority?: number; table?: number; match: FlowMatch } = { match: {} };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) throw bad(line, `field "${part}" has no value`);
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    switch (key) {
      case 'cookie': {
        const [c, m] = value.split('/');
        r.cookie = num(line, c, 'cookie');
        if (m !== undefined) {
          if (!allowMask) throw bad(line, 'a cookie mask only selects rules');
          r.cookieMask = m === '-1' ? U64 : num(line, m, 'cookie mask');
        }
        break;
      }
      case 'priority':
        r.priority = small(line, value, 'priority');
        break;
      case 'table':
        r.table = small(line, value, 'table');
        break;
      case 'in_port':
        r.match.inPort = small(line, value, 'in_port');
        break;
      case 'dl_vlan':
        r.match.vlan = small(line, value, 'dl_vlan');
        break;
      case 'tun_id':
        r.match.tunId = num(line, value, 'tun_id');
        break;
      default:
        throw bad(line, `field "${key}" is not supported by the direct OpenFlow client`);
    }
  }
  return r;
}

function parseActions(line: string, text: string): FlowAction[] {
  if (text === 'drop' || text === '') return [];
  return text.split(',').map((a): FlowAction => {
    let m: RegExpExecArray | null;
    if ((m = /^output:(\w+)$/.exec(a))) return { type: 'output', port: small(line, m[1], 'output port') };
    if (a === 'strip_vlan' || a === 'pop_vlan') return { type: 'pop_vlan' };
    if ((m = /^push_vlan:(\w+)$/.exec(a))) return { type: 'push_vlan', ethertype: small(line, m[1], 'push_vlan ethertype') };
    if ((m = /^set_field:(\w+)->vlan_vid$/.exec(a))) {
      const v = small(line, m[1], 'vlan_vid');
      // OpenFlow 1.3's vlan_vid: 0x1000 ("a tag is present") plus the 12-bit id.
      if ((v & 0x1000) === 0 || v > 0x1fff) throw bad(line, `vlan_vid ${m[1]} lacks the 0x1000 "present" bit`);
      return { type: 'set_vlan', vlan: v & 0xfff };
    }
    if ((m = /^set_field:(\w+)->tun_id$/.exec(a))) return { type: 'set_tun_id', tunId: num(line, m[1], 'tun_id') };
    throw bad(line, `action "${a}" is not supported by the direct OpenFlow client`);
  });
}

/** One line of add-flows input as flows.ts and batch.ts write them ("delete <match>" lines too). */
export function parseFlowText(line: string): FlowTextLine {
  const text = line.trim();
  if (text.includes('\n')) throw bad(text, 'a flow must not contain a newline');
  if (text.startsWith('delete ') || text === 'delete') {
    return { kind: 'delete', filter: parseFlowFilter(text.slice('delete'.length)) };
  }
  const at = text.indexOf('actions=');
  if (at < 0) throw bad(text, 'no actions=');
  const f = parseFields(text, text.slice(0, at), false);
  const spec: FlowSpec = { cookie: f.cookie ?? 0n, priority: f.priority ?? 32768, match: f.match, actions: parseActions(text, text.slice(at + 'actions='.length).trim()) };
  if (f.table !== undefined) spec.table = f.table;
  try {
    return { kind: 'add', spec: checkFlowSpec(spec) };
  } catch (e) {
    throw bad(text, (e as Error).message);
  }
}

/** A del-flows/dump-flows match string ("cookie=0x1/-1", "in_port=3,dl_vlan=5"); empty = all rules. */
export function parseFlowFilter(text: string): FlowFilter {
  const f = parseFields(text.trim(), text.trim(), true);
  if (f.priority !== undefined) throw bad(text, 'priority only applies to strict deletion');
  const filter: FlowFilter = {};
  if (f.cookie !== undefined) {
    filter.cookie = f.cookie;
    // ovs-ofctl: a cookie without a mask in del-flows means "exactly this cookie".
    filter.cookieMask = f.cookieMask ?? U64;
  }
  if (f.table !== undefined) filter.table = f.table;
  if (Object.keys(f.match).length) filter.match = f.match;
  return filter;
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

/** The match as ovs-ofctl prints it (tunnel fields first, then in_port, then dl_vlan). */
export function formatMatch(m: FlowMatch, extra: string[] = []): string {
  const parts: string[] = [];
  if (m.tunId !== undefined) parts.push(`tun_id=${hex(m.tunId)}`);
  if (m.inPort !== undefined) parts.push(`in_port=${m.inPort}`);
  if (m.vlan !== undefined) parts.push(`dl_vlan=${m.vlan}`);
  return [...parts, ...extra].join(',');
}

/** The actions as ovs-ofctl prints them for OpenFlow 1.3. */
export function formatActions(actions: readonly FlowAction[]): string {
  if (actions.length === 0) return 'drop';
  return actions
    .map((a) => {
      switch (a.type) {
        case 'output':
          return `output:${a.port}`;
        case 'push_vlan':
          return `push_vlan:${hex(BigInt(a.ethertype))}`;
        case 'pop_vlan':
          return 'pop_vlan';
        case 'set_vlan':
          return `set_field:${a.vlan | 0x1000}->vlan_vid`;
        case 'set_tun_id':
          return `set_field:${hex(a.tunId)}->tun_id`;
        case 'unknown':
          return a.text;
      }
    })
    .join(',');
}

/** A rule as flows.ts would have written it (for logs and comparisons). */
export function formatFlowText(spec: FlowSpec): string {
  const head = [`cookie=${hex(spec.cookie)}`, ...(spec.table ? [`table=${spec.table}`] : []), `priority=${spec.priority}`, formatMatch(spec.match)].filter(Boolean).join(',');
  return `${head},actions=${formatActions(spec.actions)}`;
}
