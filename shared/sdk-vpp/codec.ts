// Encoder/decoder for VPP binary-API messages. Fields are packed in definition order with no padding,
// every multi-byte integer big-endian. Definitions come in a compact notation, one string per struct:
//   "u32 sw_if_index; string name[64]; string tag[]; u8 key[32]; prefix ips[n_ips]; u32 x=4294967295"
// `[N]` is a fixed array (a NUL-padded string for `string`), `[]` a u32-length-prefixed string,
// `[field]` a variable array counted by an earlier field, `=v` the default when a value is absent.
//
// Values: integers are numbers (64-bit ones may also be bigints), bool is boolean, strings are
// strings, u8 arrays are Buffers, structs are objects, other arrays are arrays. A union encodes the
// largest member present and decodes as every member's reading of the same bytes.
import { internal, invalidArgument } from '@nsm/sdk/core/errors';

export interface ApiDefs {
  /** enum or enumflag name -> the integer type it travels as */
  enums: Record<string, string>;
  /** alias name -> "type" or "type[N]" */
  aliases: Record<string, string>;
  types: Record<string, string>;
  unions: Record<string, string>;
  /** message name -> [crc as 8 lowercase hex digits, fields] */
  messages: Record<string, [string, string]>;
}

export interface Field {
  type: string;
  name: string;
  /** fixed element count; 0 with `lengthFrom` unset means a variable-length string */
  length?: number;
  lengthFrom?: string;
  default?: number | boolean;
}

export type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const INTS: Record<string, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8, f64: 8, bool: 1 };

export function parseFields(text: string): Field[] {
  return text
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(\S+)\s+([A-Za-z_][A-Za-z0-9_]*)(?:\[([A-Za-z0-9_]*)\])?(?:=(\S+))?$/.exec(s);
      if (!m) throw internal(`bad field definition "${s}"`);
      const f: Field = { type: m[1], name: m[2] };
      if (m[3] !== undefined) {
        if (m[3] === '') f.length = 0;
        else if (/^\d+$/.test(m[3])) f.length = Number(m[3]);
        else {
          f.length = 0;
          f.lengthFrom = m[3];
        }
      }
      if (m[4] !== undefined) f.default = m[4] === 'true' ? true : m[4] === 'false' ? false : Number(m[4]);
      return f;
    });
}

class Writer {
  private buf = Buffer.alloc(256);
  len = 0;
  private room(n: number) {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  bytes(b: Uint8Array, size = b.length) {
    this.room(size);
    this.buf.fill(0, this.len, this.len + size);
    Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, size)).copy(this.buf, this.len);
    this.len += size;
  }
  int(type: string, v: unknown, what: string) {
    const n = INTS[type];
    this.room(n);
    const b = this.buf;
    const o = this.len;
    if (type === 'bool') b[o] = v ? 1 : 0;
    else if (type === 'f64') b.writeDoubleBE(Number(v ?? 0), o);
    else if (n === 8) {
      const big = BigInt((v as number | bigint | undefined) ?? 0);
      if (type === 'u64') b.writeBigUInt64BE(big, o);
      else b.writeBigInt64BE(big, o);
    } else {
      const x = Number(v ?? 0);
      if (!Number.isInteger(x)) throw invalidArgument(`${what}: ${String(v)} is not an integer`);
      const signed = type.startsWith('i');
      const lim = 2 ** (n * 8);
      if (signed ? x < -lim / 2 || x >= lim / 2 : x < 0 || x >= lim) throw invalidArgument(`${what}: ${x} does not fit ${type}`);
      if (signed) b.writeIntBE(x, o, n);
      else b.writeUIntBE(x, o, n);
    }
    this.len += n;
  }
  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}
  need(n: number, what: string) {
    if (this.pos + n > this.buf.length) throw new RangeError(`${what}: message ends ${this.pos + n - this.buf.length} byte(s) short`);
  }
  int(type: string, what: string): number | bigint | boolean {
    const n = INTS[type];
    this.need(n, what);
    const b = this.buf;
    const o = this.pos;
    this.pos += n;
    if (type === 'bool') return b[o] !== 0;
    if (type === 'f64') return b.readDoubleBE(o);
    if (n === 8) {
      const v = type === 'u64' ? b.readBigUInt64BE(o) : b.readBigInt64BE(o);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
    return type.startsWith('i') ? b.readIntBE(o, n) : b.readUIntBE(o, n);
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
}

export interface MessageDef {
  name: string;
  crc: string;
  fields: Field[];
}

/** The definitions of a set of messages with everything they refer to, ready to encode and decode. */
export class ApiRegistry {
  private readonly enums = new Map<string, string>();
  private readonly aliases = new Map<string, Field>();
  private readonly structs = new Map<string, Field[]>();
  private readonly unions = new Map<string, Field[]>();
  private readonly messages = new Map<string, MessageDef>();
  private readonly sizes = new Map<string, number>();

  constructor(defs: ApiDefs) {
    const bare = (t: string) => t.replace(/^vl_api_/, '').replace(/_t$/, '');
    for (const [k, v] of Object.entries(defs.enums)) this.enums.set(bare(k), v);
    for (const [k, v] of Object.entries(defs.aliases)) this.aliases.set(bare(k), parseFields(`${v.replace(/\[/, ' x[').replace(/^(\S+)$/, '$1 x')}`)[0]);
    for (const [k, v] of Object.entries(defs.types)) this.structs.set(bare(k), parseFields(v));
    for (const [k, v] of Object.entries(defs.unions)) this.unions.set(bare(k), parseFields(v));
    for (const [k, [crc, f]] of Object.entries(defs.messages)) this.messages.set(k, { name: k, crc, fields: parseFields(f) });
  }

  has(name: string): boolean {
    return this.messages.has(name);
  }

  message(name: string): MessageDef {
    const m = this.messages.get(name);
    if (!m) throw internal(`no definition for VPP message ${name}`);
    return m;
  }

  /** "name_crc", as the handshake's message table spells it. */
  nameWithCrc(name: string): string {
    return `${name}_${this.message(name).crc}`;
  }

  messageNames(): string[] {
    return [...this.messages.keys()];
  }

  encode(name: string, value: Msg): Buffer {
    const w = new Writer();
    this.writeStruct(w, this.message(name).fields, value, name);
    return w.result();
  }

  /** Decodes a whole message; trailing bytes are an error (the definition does not match). */
  decode(name: string, buf: Buffer): Msg {
    const r = new Reader(buf);
    const out = this.readStruct(r, this.message(name).fields, name);
    if (r.pos !== buf.length) throw new RangeError(`${name}: ${buf.length - r.pos} byte(s) left after decoding`);
    return out;
  }

  /** Fixed size of a type; throws for types containing variable-length parts. */
  sizeOf(type: string): number {
    const known = this.sizes.get(type);
    if (known !== undefined) return known;
    let size: number;
    if (type in INTS) size = INTS[type];
    else if (this.enums.has(type)) size = INTS[this.enums.get(type)!];
    else if (this.aliases.has(type)) size = this.fieldSize(this.aliases.get(type)!);
    else if (this.structs.has(type)) size = this.structs.get(type)!.reduce((s, f) => s + this.fieldSize(f), 0);
    else if (this.unions.has(type)) size = Math.max(...this.unions.get(type)!.map((f) => this.fieldSize(f)));
    else throw internal(`unknown VPP type ${type}`);
    this.sizes.set(type, size);
    return size;
  }

  private fieldSize(f: Field): number {
    if (f.length === undefined) return this.sizeOf(f.type);
    if (f.length === 0) throw internal(`${f.name} has a variable length`);
    return f.type === 'string' ? f.length : f.length * this.sizeOf(f.type);
  }

  private writeStruct(w: Writer, fields: Field[], value: Msg | undefined, path: string) {
    const v: Msg = { ...(value ?? {}) };
    // Counts of variable arrays follow their arrays unless given.
    for (const f of fields) if (f.lengthFrom && v[f.lengthFrom] === undefined) v[f.lengthFrom] = (v[f.name] as unknown[] | Buffer | undefined)?.length ?? 0;
    for (const f of fields) this.writeField(w, f, v[f.name] ?? f.default, `${path}.${f.name}`, v);
  }

  private writeField(w: Writer, f: Field, v: unknown, path: string, parent: Msg): void {
    if (f.type === 'string') {
      const s = Buffer.from(String(v ?? ''), 'utf8');
      if (f.length) {
        if (s.length >= f.length) throw invalidArgument(`${path}: "${String(v)}" is longer than ${f.length - 1} bytes`);
        w.bytes(s, f.length);
      } else {
        w.int('u32', s.length, path);
        w.bytes(s);
      }
      return;
    }
    if (f.length === undefined) return this.writeValue(w, f.type, v, path);
    const count = f.lengthFrom ? Number(parent[f.lengthFrom] ?? 0) : f.length;
    if (this.resolve(f.type) === 'u8' && (v === undefined || v instanceof Uint8Array)) {
      const b = (v as Uint8Array | undefined) ?? Buffer.alloc(0);
      if (b.length > count) throw invalidArgument(`${path}: ${b.length} bytes given, ${count} expected`);
      w.bytes(b, count);
      return;
    }
    const arr = (v as unknown[] | undefined) ?? [];
    if (arr.length > count) throw invalidArgument(`${path}: ${arr.length} elements given, ${count} expected`);
    for (let i = 0; i < count; i++) this.writeValue(w, f.type, arr[i], `${path}[${i}]`);
  }

  /** The integer type behind an enum or alias, or the type itself. */
  private resolve(type: string): string {
    if (this.enums.has(type)) return this.enums.get(type)!;
    const a = this.aliases.get(type);
    if (a && a.length === undefined) return this.resolve(a.type);
    return type;
  }

  private writeValue(w: Writer, type: string, v: unknown, path: string): void {
    if (type in INTS) return w.int(type, v, path);
    if (this.enums.has(type)) return w.int(this.enums.get(type)!, v, path);
    const alias = this.aliases.get(type);
    if (alias) return this.writeField(w, alias, v, path, {});
    const st = this.structs.get(type);
    if (st) return this.writeStruct(w, st, v as Msg, path);
    const un = this.unions.get(type);
    if (un) {
      const size = this.sizeOf(type);
      // A decoded union carries every member's reading; the largest one holds all its bytes.
      const member = un.filter((m) => (v as Msg | undefined)?.[m.name] !== undefined).sort((a, b) => this.fieldSize(b) - this.fieldSize(a))[0];
      const sub = new Writer();
      if (member) this.writeField(sub, member, (v as Msg)[member.name], `${path}.${member.name}`, {});
      w.bytes(sub.result(), size);
      return;
    }
    throw internal(`${path}: unknown VPP type ${type}`);
  }

  private readStruct(r: Reader, fields: Field[], path: string): Msg {
    const out: Msg = {};
    for (const f of fields) out[f.name] = this.readField(r, f, `${path}.${f.name}`, out);
    return out;
  }

  private readField(r: Reader, f: Field, path: string, parent: Msg): unknown {
    if (f.type === 'string') {
      if (f.length) {
        const b = r.bytes(f.length, path);
        const nul = b.indexOf(0);
        return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
      }
      const n = r.int('u32', path) as number;
      return r.bytes(n, path).toString('utf8');
    }
    if (f.length === undefined) return this.readValue(r, f.type, path);
    const count = f.lengthFrom ? Number(parent[f.lengthFrom] ?? 0) : f.length;
    if (this.resolve(f.type) === 'u8') return r.bytes(count, path);
    const arr: unknown[] = [];
    for (let i = 0; i < count; i++) arr.push(this.readValue(r, f.type, `${path}[${i}]`));
    return arr;
  }

  private readValue(r: Reader, type: string, path: string): unknown {
    if (type in INTS) return r.int(type, path);
    if (this.enums.has(type)) return r.int(this.enums.get(type)!, path);
    const alias = this.aliases.get(type);
    if (alias) return this.readField(r, alias, path, {});
    const st = this.structs.get(type);
    if (st) return this.readStruct(r, st, path);
    const un = this.unions.get(type);
    if (un) {
      const size = this.sizeOf(type);
      const bytes = r.bytes(size, path);
      const out: Msg = {};
      for (const m of un) out[m.name] = this.readField(new Reader(bytes), m, `${path}.${m.name}`, {});
      return out;
    }
    throw internal(`${path}: unknown VPP type ${type}`);
  }
}

/** Converts parsed VPP .api.json files into the compact notation (for tests and tools). */
export function apiDefsFromJson(files: unknown[]): ApiDefs {
  const bare = (t: string) => t.replace(/^vl_api_/, '').replace(/_t$/, '');
  const out: ApiDefs = { enums: {}, aliases: {}, types: {}, unions: {}, messages: {} };
  type Def = [string, ...unknown[]];
  const fieldsOf = (def: Def) =>
    def
      .slice(1)
      .filter(Array.isArray)
      .map((raw) => {
        const f = raw as unknown[];
        const [type, name, len, from] = f as [string, string, unknown, unknown];
        const opts = f.find((x) => x !== null && typeof x === 'object' && !Array.isArray(x)) as Record<string, unknown> | undefined;
        let s = `${bare(type)} ${name}`;
        if (typeof len === 'number') s += typeof from === 'string' ? `[${from}]` : len === 0 ? '[]' : `[${len}]`;
        if (opts && 'default' in opts) s += `=${String(opts.default)}`;
        return s;
      })
      .join('; ');
  for (const file of files as Array<Record<string, any>>) { // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const e of [...(file.enums ?? []), ...(file.enumflags ?? [])] as Def[]) out.enums[bare(e[0])] = (e[e.length - 1] as { enumtype: string }).enumtype;
    for (const [k, a] of Object.entries((file.aliases ?? {}) as Record<string, { type: string; length?: number }>)) out.aliases[bare(k)] = a.length ? `${bare(a.type)}[${a.length}]` : bare(a.type);
    for (const t of (file.types ?? []) as Def[]) out.types[bare(t[0])] = fieldsOf(t);
    for (const u of (file.unions ?? []) as Def[]) out.unions[bare(u[0])] = fieldsOf(u);
    for (const m of (file.messages ?? []) as Def[]) out.messages[m[0]] = [String((m[m.length - 1] as { crc: string }).crc).replace(/^0x/, ''), fieldsOf(m)];
  }
  return out;
}
