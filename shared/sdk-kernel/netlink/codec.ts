// Netlink wire format: a message is a 16-byte header, a fixed family header (ifinfomsg, rtmsg, ...)
// and type-length-value attributes padded to 4 bytes, nestable. Host byte order (little-endian on
// every platform we run on) except where the kernel says network order (ports, addresses).
//
// Only the encoder/decoder lives here; what each message means is in the operation files.
import { NLA_F_NESTED, NLA_TYPE_MASK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLMSGERR_ATTR_MSG } from './consts';

const align4 = (n: number) => (n + 3) & ~3;

/** Builds one message; the socket fills in the sequence number when it sends it. */
export class MessageWriter {
  private buf = Buffer.alloc(256);
  private len = NLMSG_HDRLEN;

  constructor(
    private readonly type: number,
    private readonly flags: number,
  ) {}

  /** Reserves n bytes and returns their offset; may replace this.buf, so call it before using this.buf. */
  private room(n: number): number {
    if (this.len + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    const at = this.len;
    this.len += n;
    return at;
  }

  u8(v: number): this {
    const at = this.room(1);
    this.buf.writeUInt8(v, at);
    return this;
  }
  u16(v: number): this {
    const at = this.room(2);
    this.buf.writeUInt16LE(v, at);
    return this;
  }
  u32(v: number): this {
    const at = this.room(4);
    this.buf.writeUInt32LE(v >>> 0, at);
    return this;
  }
  i32(v: number): this {
    const at = this.room(4);
    this.buf.writeInt32LE(v, at);
    return this;
  }
  be16(v: number): this {
    const at = this.room(2);
    this.buf.writeUInt16BE(v, at);
    return this;
  }
  be32(v: number): this {
    const at = this.room(4);
    this.buf.writeUInt32BE(v >>> 0, at);
    return this;
  }
  bytes(b: Uint8Array): this {
    const at = this.room(b.length);
    this.buf.set(b, at);
    return this;
  }
  private pad(): void {
    this.room(align4(this.len) - this.len);
  }

  /** One attribute; `body` writes its payload. */
  attr(type: number, body: (w: this) => void): this {
    const at = this.room(4);
    body(this);
    this.buf.writeUInt16LE(this.len - at, at);
    this.buf.writeUInt16LE(type, at + 2);
    this.pad();
    return this;
  }
  attrU8(type: number, v: number): this {
    return this.attr(type, (w) => w.u8(v));
  }
  attrU16(type: number, v: number): this {
    return this.attr(type, (w) => w.u16(v));
  }
  attrU32(type: number, v: number): this {
    return this.attr(type, (w) => w.u32(v));
  }
  attrBe16(type: number, v: number): this {
    return this.attr(type, (w) => w.be16(v));
  }
  attrBytes(type: number, b: Uint8Array): this {
    return this.attr(type, (w) => w.bytes(b));
  }
  /** A NUL-terminated string (what the kernel's NLA_STRING and NLA_NUL_STRING policies accept). */
  attrString(type: number, s: string): this {
    return this.attr(type, (w) => w.bytes(Buffer.from(`${s}\0`, 'utf8')));
  }
  attrFlag(type: number): this {
    return this.attr(type, () => undefined);
  }
  /** A nested attribute holding what `body` writes. */
  nest(type: number, body: (w: this) => void): this {
    return this.attr(type | NLA_F_NESTED, body);
  }

  /** The finished message (sequence number 0 until sent). */
  finish(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    out.writeUInt32LE(this.len, 0);
    out.writeUInt16LE(this.type, 4);
    out.writeUInt16LE(this.flags, 6);
    return out;
  }
}

export function message(type: number, flags: number, body: (w: MessageWriter) => void): Buffer {
  const w = new MessageWriter(type, flags);
  body(w);
  return w.finish();
}

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  /** Everything after the 16-byte header. */
  body: Buffer;
}

/** Splits a buffer of back-to-back messages; a truncated tail is an error, not silently dropped. */
export function parseMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new Error(`netlink: malformed message at byte ${off}`);
    out.push({ type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8), body: buf.subarray(off + NLMSG_HDRLEN, off + len) });
    off += align4(len);
  }
  return out;
}

/** Attributes by type (nested/byte-order flags masked off). A repeated type keeps every value. */
export class Attrs {
  private readonly map = new Map<number, Buffer[]>();

  constructor(buf: Buffer, offset = 0) {
    let off = offset;
    while (off + 4 <= buf.length) {
      const len = buf.readUInt16LE(off);
      if (len < 4 || off + len > buf.length) break;
      const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
      const list = this.map.get(type) ?? [];
      list.push(buf.subarray(off + 4, off + len));
      this.map.set(type, list);
      off += align4(len);
    }
  }

  has(type: number): boolean {
    return this.map.has(type);
  }
  get(type: number): Buffer | undefined {
    return this.map.get(type)?.[0];
  }
  all(type: number): Buffer[] {
    return this.map.get(type) ?? [];
  }
  u8(type: number): number | undefined {
    const b = this.get(type);
    return b && b.length >= 1 ? b.readUInt8(0) : undefined;
  }
  u32(type: number): number | undefined {
    const b = this.get(type);
    return b && b.length >= 4 ? b.readUInt32LE(0) : undefined;
  }
  i32(type: number): number | undefined {
    const b = this.get(type);
    return b && b.length >= 4 ? b.readInt32LE(0) : undefined;
  }
  string(type: number): string | undefined {
    const b = this.get(type);
    if (!b) return undefined;
    const nul = b.indexOf(0);
    return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
  }
  nested(type: number): Attrs | undefined {
    const b = this.get(type);
    return b ? new Attrs(b) : undefined;
  }
}

/** The outcome an NLMSG_ERROR or NLMSG_DONE carries: errno (0 = success) and the kernel's message. */
export function parseStatus(m: NlMessage): { errno: number; extack?: string } {
  if (m.type !== NLMSG_ERROR && m.type !== NLMSG_DONE) return { errno: 0 };
  if (m.body.length < 4) return { errno: 0 };
  const errno = -m.body.readInt32LE(0) || 0; // never -0
  if (!(m.flags & NLM_F_ACK_TLVS)) return { errno };
  let tlvAt = 4;
  if (m.type === NLMSG_ERROR) {
    // The request's header (and, unless capped, its payload) is echoed before the TLVs.
    const echoed = m.body.length >= 8 ? m.body.readUInt32LE(4) : NLMSG_HDRLEN;
    tlvAt += m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(echoed);
  }
  const msg = new Attrs(m.body, tlvAt).string(NLMSGERR_ATTR_MSG);
  return msg ? { errno, extack: msg } : { errno };
}

/** Dotted / colon text to the 4 or 16 bytes the kernel expects (input already validated by cidr.ts). */
export function ipBytes(ip: string, family: 4 | 6): Buffer {
  if (family === 4) return Buffer.from(ip.split('.').map(Number));
  const [first, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/;
  const expand = (s: string) => s.replace(v4, (_m, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const head = expand(first);
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? expand(tail).split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

/** 4 or 16 bytes back to text (IPv6 in the compressed form Node prints). */
export function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // Longest run of zero groups (length >= 2) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function macText(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
