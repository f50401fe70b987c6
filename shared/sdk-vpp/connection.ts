// A connection to VPP's binary-API unix socket. Each message travels in a frame: a 16-byte header
// (8 bytes VPP-internal, ignored; u32 big-endian data length; 4 bytes zero) and the message. The
// handshake (sockclnt_create, ids 15/16 before any table exists) returns the client index and the
// message table "name_crc" -> id. Requests carry a context the replies echo; a dump is the request
// plus a control_ping with the same context, whose reply ends the list of details.
import { EventEmitter } from 'node:events';
import { connect as netConnect, Socket } from 'node:net';
import { ApiRegistry, Msg } from './codec';
import { VPP_DEFS } from './defs';
import { VppApiError, VppConnectionError, VppUnsupportedError } from './errors';

export const HEADER_SIZE = 16;
const SOCKCLNT_CREATE_ID = 15;
const SOCKCLNT_CREATE_REPLY_ID = 16;
/** The context vpp_papi uses for sockclnt_create; any value works. */
const HANDSHAKE_CONTEXT = 124;

export function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(HEADER_SIZE);
  head.writeUInt32BE(body.length, 8);
  return Buffer.concat([head, body]);
}

/** Cuts a byte stream into frame bodies. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.size < HEADER_SIZE) break;
      let all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      const len = all.readUInt32BE(8);
      if (all.length < HEADER_SIZE + len) {
        this.chunks = [all];
        break;
      }
      out.push(Buffer.from(all.subarray(HEADER_SIZE, HEADER_SIZE + len)));
      all = all.subarray(HEADER_SIZE + len);
      this.chunks = all.length ? [all] : [];
      this.size = all.length;
    }
    return out;
  }
}

export interface VppConnectOptions {
  /** Client name sent in sockclnt_create (at most 63 bytes). */
  name?: string;
  /** Bound on connecting plus the handshake, and on each request. */
  timeoutMs?: number;
  /** Definitions to use; defaults to the ones this package ships. */
  registry?: ApiRegistry;
}

interface Pending {
  request: string;
  reply: string;
  rows?: Msg[];
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** A message without a context (for example sw_interface_event), routed by name. */
export interface VppEvent {
  name: string;
  msg: Msg;
}

export class VppConnection extends EventEmitter<{ event: [VppEvent]; close: [Error | undefined] }> {
  private readonly pending = new Map<number, Pending>();
  private readonly idByName = new Map<string, number>();
  private readonly nameById = new Map<number, string>();
  private nextContext = 1;
  private closed?: Error;
  clientIndex = 0;

  private constructor(
    private readonly socket: Socket,
    readonly registry: ApiRegistry,
    readonly socketPath: string,
    private readonly timeoutMs: number,
  ) {
    super();
    const reader = new FrameReader();
    socket.on('data', (chunk) => {
      try {
        for (const body of reader.push(chunk)) this.dispatch(body);
      } catch (err) {
        this.fail(new VppConnectionError(`VPP API protocol error on ${socketPath}: ${(err as Error).message}`, err));
      }
    });
    socket.on('error', (err) => this.fail(new VppConnectionError(`VPP API socket ${socketPath}: ${err.message}`, err)));
    socket.on('close', () => this.fail(new VppConnectionError(`VPP API socket ${socketPath} closed`)));
  }

  /** Connects to VPP's API socket and registers as a client; fails fast when nothing listens there. */
  static async connect(socketPath: string, opts: VppConnectOptions = {}): Promise<VppConnection> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect(socketPath);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new VppConnectionError(`cannot reach the VPP API socket ${socketPath}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const why = err.code === 'ENOENT' ? 'no such socket (is VPP running, with socksvr enabled?)' : err.code === 'ECONNREFUSED' ? 'connection refused (VPP not listening)' : err.message;
        reject(new VppConnectionError(`cannot reach the VPP API socket ${socketPath}: ${why}`, err));
      });
    });
    const conn = new VppConnection(socket, opts.registry ?? new ApiRegistry(VPP_DEFS), socketPath, timeoutMs);
    try {
      await conn.handshake(opts.name ?? 'nsm-ts');
    } catch (err) {
      socket.destroy();
      throw err;
    }
    return conn;
  }

  private async handshake(name: string): Promise<void> {
    const body = this.registry.encode('sockclnt_create', { _vl_msg_id: SOCKCLNT_CREATE_ID, context: HANDSHAKE_CONTEXT, name });
    this.nameById.set(SOCKCLNT_CREATE_REPLY_ID, this.registry.nameWithCrc('sockclnt_create_reply'));
    const reply = (await this.send(HANDSHAKE_CONTEXT, body, { request: 'sockclnt_create', reply: 'sockclnt_create_reply' })) as Msg;
    if (reply.response !== 0) throw new VppConnectionError(`VPP refused the client registration (sockclnt_create response ${reply.response})`);
    this.clientIndex = reply.index;
    this.nameById.clear();
    for (const e of reply.message_table as Array<{ index: number; name: string }>) {
      this.idByName.set(e.name, e.index);
      this.nameById.set(e.index, e.name);
    }
  }

  /** Whether the connected VPP has this message with the definition this client knows. */
  supports(name: string): boolean {
    return this.registry.has(name) && this.idByName.has(this.registry.nameWithCrc(name));
  }

  msgId(name: string): number {
    const id = this.idByName.get(this.registry.nameWithCrc(name));
    if (id === undefined) throw new VppUnsupportedError(this.registry.nameWithCrc(name));
    return id;
  }

  /** Sends one request and resolves with its reply; a negative retval rejects with VppApiError. */
  async request(name: string, fields: Msg = {}, replyName = `${name}_reply`): Promise<Msg> {
    const context = this.takeContext();
    const body = this.encodeRequest(name, context, fields);
    const reply = (await this.send(context, body, { request: name, reply: replyName })) as Msg;
    if (typeof reply.retval === 'number' && reply.retval < 0) throw new VppApiError(name, reply.retval, reply);
    return reply;
  }

  /** Sends a dump and a control_ping with the same context; resolves with the details in order. */
  async dump(name: string, fields: Msg = {}, detailsName = name.replace(/_dump$/, '_details')): Promise<Msg[]> {
    const context = this.takeContext();
    const body = this.encodeRequest(name, context, fields);
    const ping = this.encodeRequest('control_ping', context, {});
    return (await this.send(context, Buffer.concat([frame(body), frame(ping)]), { request: name, reply: detailsName, rows: [] }, true)) as Msg[];
  }

  /** Unregisters (sockclnt_delete) and closes the socket. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    const context = this.takeContext();
    try {
      const body = this.encodeRequest('sockclnt_delete', context, { index: this.clientIndex });
      const reply = (await this.send(context, body, { request: 'sockclnt_delete', reply: 'sockclnt_delete_reply' })) as Msg;
      // Success is response 1 here, unlike every retval.
      if (reply.response !== 1) this.emit('close', new VppConnectionError(`sockclnt_delete answered ${reply.response}`));
    } catch {
      // Closing anyway.
    }
    this.fail(undefined);
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  private takeContext(): number {
    const c = this.nextContext;
    this.nextContext = (this.nextContext % 0xffffffff) + 1;
    return c;
  }

  private encodeRequest(name: string, context: number, fields: Msg): Buffer {
    return this.registry.encode(name, { ...fields, _vl_msg_id: this.msgId(name), client_index: this.clientIndex, context });
  }

  private send(context: number, bytes: Buffer, p: Pick<Pending, 'request' | 'reply' | 'rows'>, framed = false): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(context);
        reject(new VppConnectionError(`VPP did not answer ${p.request} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(context, { ...p, resolve, reject, timer });
      this.socket.write(framed ? bytes : frame(bytes));
    });
  }

  private dispatch(body: Buffer) {
    const id = body.readUInt16BE(0);
    const name = this.nameById.get(id);
    if (!name) throw new Error(`message id ${id} is not in the message table`);
    const bare = name.replace(/_[0-9a-f]{8}$/, '');
    if (!this.registry.has(bare) || this.registry.nameWithCrc(bare) !== name) {
      // Something this client never asks for (and so cannot decode): only a stray event can be it.
      this.emit('event', { name: bare, msg: { _vl_msg_id: id, raw: body } });
      return;
    }
    const msg = this.registry.decode(bare, body);
    if (!('context' in msg) || bare === 'sw_interface_event') {
      this.emit('event', { name: bare, msg });
      return;
    }
    const p = this.pending.get(msg.context as number);
    if (!p) return; // a late answer to a request that timed out
    if (p.rows) {
      if (bare === p.reply) p.rows.push(msg);
      else if (bare === 'control_ping_reply') this.settle(msg.context as number, p, p.rows);
      return;
    }
    if (bare !== p.reply) throw new Error(`${p.request} (context ${msg.context}) answered with ${bare}`);
    this.settle(msg.context as number, p, msg);
  }

  private settle(context: number, p: Pending, v: unknown) {
    clearTimeout(p.timer);
    this.pending.delete(context);
    p.resolve(v);
  }

  private fail(err: Error | undefined) {
    if (this.closed) return;
    this.closed = err ?? new VppConnectionError(`VPP API connection to ${this.socketPath} is closed`);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(this.closed);
    }
    this.pending.clear();
    if (err) this.socket.destroy();
    this.emit('close', err);
  }
}
