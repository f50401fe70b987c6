// OpenFlow 1.3 messages on the wire (the subset NSM needs): HELLO with a version bitmap, ECHO,
// ERROR, FLOW_MOD with an OXM match and an apply-actions instruction, BARRIER, and the flow-stats
// multipart request and reply. Pure encode/decode, no I/O. Numbers are from the OpenFlow 1.3.5
// specification (ofp_type, OXM_OF_* fields, ofp_action_type, ofp_error_type).
import { Code, StatusError } from '@nsm/sdk/core/errors';
import type { FlowAction, FlowMatch, FlowSpec } from './flowspec';

export const OFP13 = 0x04;
export const HEADER_LEN = 8;

export const T = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  FEATURES_REQUEST: 5,
  FLOW_MOD: 14,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
} as const;

export const FLOW_MOD_CMD = { add: 0, modify: 1, modify_strict: 2, delete: 3, delete_strict: 4 } as const;
export type FlowModCommand = keyof typeof FLOW_MOD_CMD;

const OFPP_ANY = 0xffffffff;
const OFPG_ANY = 0xffffffff;
const OFPTT_ALL = 0xff;
const NO_BUFFER = 0xffffffff;
const OFPMP_FLOW = 1;
const OFPMPF_REPLY_MORE = 1;
const OXM_BASIC = 0x8000;
const OXM = { IN_PORT: 0, VLAN_VID: 6, TUNNEL_ID: 38 } as const;
const OFPVID_PRESENT = 0x1000;
const ACT = { OUTPUT: 0, PUSH_VLAN: 17, POP_VLAN: 18, SET_FIELD: 25 } as const;
const OFPIT_APPLY_ACTIONS = 4;

export interface Header {
  version: number;
  type: number;
  length: number;
  xid: number;
}

export function header(buf: Buffer): Header {
  return { version: buf[0], type: buf[1], length: buf.readUInt16BE(2), xid: buf.readUInt32BE(4) };
}

/** A message: header + body, length filled in. */
export function message(type: number, xid: number, body: Buffer = Buffer.alloc(0), version = OFP13): Buffer {
  const b = Buffer.alloc(HEADER_LEN + body.length);
  b[0] = version;
  b[1] = type;
  b.writeUInt16BE(b.length, 2);
  b.writeUInt32BE(xid >>> 0, 4);
  body.copy(b, HEADER_LEN);
  return b;
}

/** HELLO carrying a version bitmap element that offers only OpenFlow 1.3. */
export function hello(xid: number): Buffer {
  const elem = Buffer.alloc(8);
  elem.writeUInt16BE(1, 0); // OFPHET_VERSIONBITMAP
  elem.writeUInt16BE(8, 2);
  elem.writeUInt32BE(1 << OFP13, 4);
  return message(T.HELLO, xid, elem);
}

/** The versions a peer's HELLO offers: its bitmap when present, else every version up to its header's. */
export function helloVersions(msg: Buffer): Set<number> {
  const h = header(msg);
  const out = new Set<number>();
  for (let off = HEADER_LEN; off + 4 <= h.length; ) {
    const type = msg.readUInt16BE(off);
    const len = msg.readUInt16BE(off + 2);
    if (len < 4 || off + len > h.length) break;
    if (type === 1) {
      for (let w = 0; w * 4 + 4 < len; w++) {
        const bits = msg.readUInt32BE(off + 4 + w * 4);
        for (let i = 0; i < 32; i++) if (bits & (1 << i)) out.add(w * 32 + i);
      }
      return out;
    }
    off += (len + 7) & ~7;
  }
  for (let v = 1; v <= h.version; v++) out.add(v);
  return out;
}

// ---- match ---------------------------------------------------------------------------------------

function oxm(field: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + value.length);
  b.writeUInt16BE(OXM_BASIC, 0);
  b[2] = field << 1;
  b[3] = value.length;
  value.copy(b, 4);
  return b;
}

const u16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};
const pad8 = (n: number) => (n + 7) & ~7;

/** ofp_match (OXM), padded to 8 bytes. */
export function encodeMatch(m: FlowMatch = {}): Buffer {
  const fields: Buffer[] = [];
  if (m.inPort !== undefined) fields.push(oxm(OXM.IN_PORT, u32(m.inPort)));
  if (m.vlan !== undefined) fields.push(oxm(OXM.VLAN_VID, u16(OFPVID_PRESENT | m.vlan)));
  if (m.tunId !== undefined) fields.push(oxm(OXM.TUNNEL_ID, u64(m.tunId)));
  const body = Buffer.concat(fields);
  const len = 4 + body.length;
  const b = Buffer.alloc(pad8(len));
  b.writeUInt16BE(1, 0); // OFPMT_OXM
  b.writeUInt16BE(len, 2);
  body.copy(b, 4);
  return b;
}

/** A decoded match: the fields we know, and the others as text (so a dump of foreign rules still shows them). */
export function decodeMatch(buf: Buffer, off: number): { match: FlowMatch; other: string[]; size: number } {
  const type = buf.readUInt16BE(off);
  const len = buf.readUInt16BE(off + 2);
  if (type !== 1 || len < 4) throw new Error(`unsupported match type ${type}`);
  const match: FlowMatch = {};
  const other: string[] = [];
  for (let p = off + 4; p + 4 <= off + len; ) {
    const cls = buf.readUInt16BE(p);
    const field = buf[p + 2] >> 1;
    const hasMask = (buf[p + 2] & 1) === 1;
    const flen = buf[p + 3];
    const v = buf.subarray(p + 4, p + 4 + flen);
    if (cls === OXM_BASIC && field === OXM.IN_PORT && flen === 4) match.inPort = v.readUInt32BE(0);
    else if (cls === OXM_BASIC && field === OXM.VLAN_VID && flen === 2 && !hasMask && v.readUInt16BE(0) & OFPVID_PRESENT) match.vlan = v.readUInt16BE(0) & 0xfff;
    else if (cls === OXM_BASIC && field === OXM.TUNNEL_ID && flen === 8) match.tunId = v.readBigUInt64BE(0);
    else other.push(`oxm(0x${cls.toString(16)}:${field}${hasMask ? '/m' : ''})=0x${v.toString('hex')}`);
    p += 4 + flen;
  }
  return { match, other, size: pad8(len) };
}

// ---- actions -------------------------------------------------------------------------------------

function action(type: number, body: Buffer): Buffer {
  const len = pad8(4 + body.length);
  const b = Buffer.alloc(len);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(len, 2);
  body.copy(b, 4);
  return b;
}

export function encodeActions(actions: readonly FlowAction[]): Buffer {
  return Buffer.concat(
    actions.map((a) => {
      switch (a.type) {
        case 'output': {
          const b = Buffer.alloc(12); // port, max_len (only used toward a controller), pad
          b.writeUInt32BE(a.port, 0);
          return action(ACT.OUTPUT, b);
        }
        case 'push_vlan':
          return action(ACT.PUSH_VLAN, Buffer.concat([u16(a.ethertype), Buffer.alloc(2)]));
        case 'pop_vlan':
          return action(ACT.POP_VLAN, Buffer.alloc(4));
        case 'set_vlan':
          return action(ACT.SET_FIELD, oxm(OXM.VLAN_VID, u16(OFPVID_PRESENT | a.vlan)));
        case 'set_tun_id':
          return action(ACT.SET_FIELD, oxm(OXM.TUNNEL_ID, u64(a.tunId)));
        default:
          throw new StatusError(Code.INVALID_ARGUMENT, `action ${a.type} cannot be encoded`);
      }
    }),
  );
}

export function decodeActions(buf: Buffer): FlowAction[] {
  const out: FlowAction[] = [];
  for (let p = 0; p + 4 <= buf.length; ) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    if (len < 8 || p + len > buf.length) throw new Error(`bad action length ${len}`);
    const body = buf.subarray(p + 4, p + len);
    if (type === ACT.OUTPUT) out.push({ type: 'output', port: body.readUInt32BE(0) });
    else if (type === ACT.PUSH_VLAN) out.push({ type: 'push_vlan', ethertype: body.readUInt16BE(0) });
    else if (type === ACT.POP_VLAN) out.push({ type: 'pop_vlan' });
    else if (type === ACT.SET_FIELD && body.readUInt16BE(0) === OXM_BASIC && body[2] >> 1 === OXM.VLAN_VID && body[3] === 2) out.push({ type: 'set_vlan', vlan: body.readUInt16BE(4) & 0xfff });
    else if (type === ACT.SET_FIELD && body.readUInt16BE(0) === OXM_BASIC && body[2] >> 1 === OXM.TUNNEL_ID && body[3] === 8) out.push({ type: 'set_tun_id', tunId: body.readBigUInt64BE(4) });
    else out.push({ type: 'unknown', text: `action(type=${type},len=${len})` });
    p += len;
  }
  return out;
}

function applyActions(actions: readonly FlowAction[]): Buffer {
  if (actions.length === 0) return Buffer.alloc(0); // no instruction = drop
  const acts = encodeActions(actions);
  const b = Buffer.alloc(8 + acts.length);
  b.writeUInt16BE(OFPIT_APPLY_ACTIONS, 0);
  b.writeUInt16BE(b.length, 2);
  acts.copy(b, 8);
  return b;
}

function decodeInstructions(buf: Buffer): FlowAction[] {
  const out: FlowAction[] = [];
  for (let p = 0; p + 4 <= buf.length; ) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    if (len < 4 || p + len > buf.length) throw new Error(`bad instruction length ${len}`);
    if (type === OFPIT_APPLY_ACTIONS) out.push(...decodeActions(buf.subarray(p + 8, p + len)));
    else out.push({ type: 'unknown', text: `instruction(type=${type})` });
    p += len;
  }
  return out;
}

// ---- flow mod, flow stats ------------------------------------------------------------------------

export interface FlowMod {
  command: FlowModCommand;
  cookie?: bigint;
  /** For modify/delete: which cookie bits must match (0 = any cookie). */
  cookieMask?: bigint;
  /** Table; for deletions undefined = every table. */
  table?: number;
  priority?: number;
  match?: FlowMatch;
  actions?: readonly FlowAction[];
}

export function flowModOf(spec: FlowSpec): FlowMod {
  return { command: 'add', cookie: spec.cookie, table: spec.table ?? 0, priority: spec.priority, match: spec.match, actions: spec.actions };
}

export function encodeFlowMod(xid: number, fm: FlowMod): Buffer {
  const fixed = Buffer.alloc(40);
  const del = fm.command === 'delete' || fm.command === 'delete_strict';
  fixed.writeBigUInt64BE(fm.cookie ?? 0n, 0);
  fixed.writeBigUInt64BE(fm.command === 'add' ? 0n : (fm.cookieMask ?? 0n), 8);
  fixed[16] = fm.table ?? (del ? OFPTT_ALL : 0);
  fixed[17] = FLOW_MOD_CMD[fm.command];
  fixed.writeUInt16BE(0, 18); // idle_timeout
  fixed.writeUInt16BE(0, 20); // hard_timeout
  fixed.writeUInt16BE(fm.priority ?? 0x8000, 22);
  fixed.writeUInt32BE(NO_BUFFER, 24);
  fixed.writeUInt32BE(OFPP_ANY, 28); // out_port: no output filter for deletions
  fixed.writeUInt32BE(OFPG_ANY, 32);
  fixed.writeUInt16BE(0, 36); // flags
  return message(T.FLOW_MOD, xid, Buffer.concat([fixed, encodeMatch(fm.match), del ? Buffer.alloc(0) : applyActions(fm.actions ?? [])]));
}

export interface FlowStatsRequest {
  table?: number;
  cookie?: bigint;
  cookieMask?: bigint;
  match?: FlowMatch;
}

export function encodeFlowStatsRequest(xid: number, r: FlowStatsRequest = {}): Buffer {
  const mp = Buffer.alloc(8);
  mp.writeUInt16BE(OFPMP_FLOW, 0);
  const body = Buffer.alloc(32);
  body[0] = r.table ?? OFPTT_ALL;
  body.writeUInt32BE(OFPP_ANY, 4);
  body.writeUInt32BE(OFPG_ANY, 8);
  body.writeBigUInt64BE(r.cookie ?? 0n, 16);
  body.writeBigUInt64BE(r.cookieMask ?? 0n, 24);
  return message(T.MULTIPART_REQUEST, xid, Buffer.concat([mp, body, encodeMatch(r.match)]));
}

export interface FlowStats {
  table: number;
  priority: number;
  cookie: bigint;
  durationSec: number;
  idleTimeout: number;
  hardTimeout: number;
  packets: bigint;
  bytes: bigint;
  match: FlowMatch;
  /** Match fields we do not model, as text. */
  otherMatch: string[];
  actions: FlowAction[];
}

/** One OFPMP_FLOW reply message: its entries, and whether more messages follow. */
export function decodeFlowStatsReply(msg: Buffer): { more: boolean; flows: FlowStats[] } {
  const h = header(msg);
  const type = msg.readUInt16BE(8);
  const flags = msg.readUInt16BE(10);
  if (type !== OFPMP_FLOW) throw new Error(`multipart reply of type ${type}, wanted flow stats`);
  const flows: FlowStats[] = [];
  for (let p = 16; p + 48 <= h.length; ) {
    const len = msg.readUInt16BE(p);
    if (len < 56 || p + len > h.length) throw new Error(`bad flow stats length ${len}`);
    const m = decodeMatch(msg, p + 48);
    flows.push({
      table: msg[p + 2],
      durationSec: msg.readUInt32BE(p + 4),
      priority: msg.readUInt16BE(p + 12),
      idleTimeout: msg.readUInt16BE(p + 14),
      hardTimeout: msg.readUInt16BE(p + 16),
      cookie: msg.readBigUInt64BE(p + 24),
      packets: msg.readBigUInt64BE(p + 32),
      bytes: msg.readBigUInt64BE(p + 40),
      match: m.match,
      otherMatch: m.other,
      actions: decodeInstructions(msg.subarray(p + 48 + m.size, p + len)),
    });
    p += len;
  }
  return { more: (flags & OFPMPF_REPLY_MORE) !== 0, flows };
}

// ---- errors --------------------------------------------------------------------------------------

const ERROR_TYPES: Record<number, [string, string[]]> = {
  0: ['HELLO_FAILED', ['INCOMPATIBLE', 'EPERM']],
  1: ['BAD_REQUEST', ['BAD_VERSION', 'BAD_TYPE', 'BAD_MULTIPART', 'BAD_EXPERIMENTER', 'BAD_EXP_TYPE', 'EPERM', 'BAD_LEN', 'BUFFER_EMPTY', 'BUFFER_UNKNOWN', 'BAD_TABLE_ID', 'IS_SLAVE', 'BAD_PORT', 'BAD_PACKET', 'MULTIPART_BUFFER_OVERFLOW']],
  2: ['BAD_ACTION', ['BAD_TYPE', 'BAD_LEN', 'BAD_EXPERIMENTER', 'BAD_EXP_TYPE', 'BAD_OUT_PORT', 'BAD_ARGUMENT', 'EPERM', 'TOO_MANY', 'BAD_QUEUE', 'BAD_OUT_GROUP', 'MATCH_INCONSISTENT', 'UNSUPPORTED_ORDER', 'BAD_TAG', 'BAD_SET_TYPE', 'BAD_SET_LEN', 'BAD_SET_ARGUMENT']],
  3: ['BAD_INSTRUCTION', ['UNKNOWN_INST', 'UNSUP_INST', 'BAD_TABLE_ID', 'UNSUP_METADATA', 'UNSUP_METADATA_MASK', 'BAD_EXPERIMENTER', 'BAD_EXP_TYPE', 'BAD_LEN', 'EPERM']],
  4: ['BAD_MATCH', ['BAD_TYPE', 'BAD_LEN', 'BAD_TAG', 'BAD_DL_ADDR_MASK', 'BAD_NW_ADDR_MASK', 'BAD_WILDCARDS', 'BAD_FIELD', 'BAD_VALUE', 'BAD_MASK', 'BAD_PREREQ', 'DUP_FIELD', 'EPERM']],
  5: ['FLOW_MOD_FAILED', ['UNKNOWN', 'TABLE_FULL', 'BAD_TABLE_ID', 'OVERLAP', 'EPERM', 'BAD_TIMEOUT', 'BAD_COMMAND', 'BAD_FLAGS']],
};

export interface OfError {
  type: number;
  code: number;
  /** e.g. "BAD_ACTION/BAD_ARGUMENT". */
  name: string;
  grpc: Code;
}

export function decodeError(msg: Buffer): OfError {
  const type = msg.readUInt16BE(8);
  const code = msg.readUInt16BE(10);
  const [tname, codes] = ERROR_TYPES[type] ?? [type === 0xffff ? 'EXPERIMENTER' : `type ${type}`, []];
  const cname = codes[code] ?? `code ${code}`;
  let grpc: Code = Code.INVALID_ARGUMENT;
  if (cname === 'EPERM' || cname === 'IS_SLAVE') grpc = Code.PERMISSION_DENIED;
  else if (cname === 'TABLE_FULL' || cname === 'TOO_MANY') grpc = Code.RESOURCE_EXHAUSTED;
  else if (type === 0) grpc = Code.UNAVAILABLE;
  else if (type === 0xffff) grpc = Code.FAILED_PRECONDITION;
  return { type, code, name: `${tname}/${cname}`, grpc };
}
