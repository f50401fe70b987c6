// An OpenFlow 1.3 connection to one bridge's management socket (`<rundir>/<bridge>.mgmt`), kept
// open between calls: installing or removing a connection's rules is one write (the FLOW_MODs and a
// BARRIER) and one reply, where ovs-ofctl spent a process, a connection and a version negotiation.
//
// A batch of FLOW_MODs is confirmed by the BARRIER that follows it: the switch handles a
// connection's messages in order, so every OFPT_ERROR for the batch arrives before the barrier
// reply, and each error names (by xid) the FLOW_MOD it refuses. The switch's echo requests are
// answered; our own echo goes out after a quiet spell, and a switch that does not answer is
// dropped. A broken connection fails what was in flight with UNAVAILABLE and is opened again on the
// next call (rules live in the switch, not in the connection, so nothing is lost).
import { createConnection, Socket } from 'node:net';
import { Code, StatusError } from '@nsm/sdk/core/errors';
import type { FlowSpec } from './flowspec';
import {
  decodeError,
  decodeFlowStatsReply,
  encodeFlowMod,
  encodeFlowStatsRequest,
  flowModOf,
  FlowMod,
  FlowStats,
  FlowStatsRequest,
  header,
  HEADER_LEN,
  hello,
  helloVersions,
  message,
  OFP13,
  T,
} from './wire';

export interface OpenFlowClientOptions {
  /** Path of the bridge's management socket. */
  socketPath: string;
  /** Bound on one request (default 10 s). */
  requestTimeoutMs?: number;
  /** How long to keep trying while the socket does not exist yet or refuses (default 3 s: a bridge just made). */
  connectRetryMs?: number;
  /** Echo after this much silence; dropped if unanswered for as long again (default 15 s; 0 = off). */
  probeIntervalMs?: number;
}

/** A FLOW_MOD the switch refused. */
export class OpenFlowError extends StatusError {
  constructor(
    code: Code,
    message: string,
    /** e.g. "BAD_ACTION/BAD_ARGUMENT". */
    readonly ofError: string,
    /** Index of the refused FLOW_MOD in the batch. */
    readonly index: number,
  ) {
    super(code, message);
    this.name = 'OpenFlowError';
  }
}

interface Waiter {
  onMessage(type: number, msg: Buffer): boolean; // true = done
  fail(err: StatusError): void;
}

const MAX_MSG = 0xffff;

class Session {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiters = new Map<number, Waiter>();
  private heardAt = Date.now();
  private probe?: NodeJS.Timeout;
  private echoOut = false;
  closed?: StatusError;
  readonly ready: Promise<void>;
  private helloDone!: (err?: StatusError) => void;

  constructor(
    private readonly socket: Socket,
    private readonly label: string,
    private readonly probeIntervalMs: number,
    private readonly onClose: (s: Session) => void,
  ) {
    this.ready = new Promise((resolve, reject) => (this.helloDone = (err) => (err ? reject(err) : resolve())));
    // Rejections of `ready` are observed by callers; avoid an unhandled one if nobody waits.
    this.ready.catch(() => undefined);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.close(new StatusError(Code.UNAVAILABLE, `${label}: ${e.message}`)));
    socket.on('close', () => this.close(new StatusError(Code.UNAVAILABLE, `${label}: connection closed by the switch`)));
    socket.write(hello(0));
    if (probeIntervalMs > 0) {
      this.probe = setInterval(() => this.keepalive(), probeIntervalMs);
      this.probe.unref();
    }
  }

  send(msgs: Buffer[]): void {
    this.socket.write(msgs.length === 1 ? msgs[0] : Buffer.concat(msgs));
  }

  wait(xid: number, w: Waiter): void {
    this.waiters.set(xid, w);
  }

  unwait(xid: number): void {
    this.waiters.delete(xid);
  }

  close(err: StatusError): void {
    if (this.closed) return;
    this.closed = err;
    if (this.probe) clearInterval(this.probe);
    this.socket.destroy();
    this.helloDone(err);
    const ws = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of ws) w.fail(err);
    this.onClose(this);
  }

  private onData(d: Buffer): void {
    this.heardAt = Date.now();
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= HEADER_LEN && !this.closed) {
      const h = header(this.buf);
      if (h.length < HEADER_LEN || h.length > MAX_MSG) return this.close(new StatusError(Code.INTERNAL, `${this.label}: bad message length ${h.length}`));
      if (this.buf.length < h.length) return;
      const msg = this.buf.subarray(0, h.length);
      this.buf = this.buf.subarray(h.length);
      try {
        this.dispatch(h.type, h.xid, h.version, msg);
      } catch (e) {
        this.close(new StatusError(Code.INTERNAL, `${this.label}: undecodable message type ${h.type}: ${(e as Error).message}`));
      }
    }
  }

  private dispatch(type: number, xid: number, version: number, msg: Buffer): void {
    if (type === T.HELLO) {
      if (!helloVersions(msg).has(OFP13)) {
        this.close(new StatusError(Code.UNAVAILABLE, `${this.label}: the switch does not offer OpenFlow 1.3 (HELLO version ${version})`));
      } else this.helloDone();
      return;
    }
    if (type === T.ECHO_REQUEST) {
      this.send([message(T.ECHO_REPLY, xid, msg.subarray(HEADER_LEN))]);
      return;
    }
    if (type === T.ECHO_REPLY && xid === 0xffffffff) {
      this.echoOut = false;
      return;
    }
    if (type === T.ERROR && version !== OFP13) {
      // Refusal of our HELLO: the versions never matched.
      const e = decodeError(msg);
      this.close(new StatusError(Code.UNAVAILABLE, `${this.label}: the switch refused the session: ${e.name}`));
      return;
    }
    const w = this.waiters.get(xid);
    if (w && w.onMessage(type, msg)) this.waiters.delete(xid);
  }

  private keepalive(): void {
    if (this.closed) return;
    if (this.echoOut) return this.close(new StatusError(Code.UNAVAILABLE, `${this.label}: no answer to echo within ${this.probeIntervalMs} ms`));
    if (Date.now() - this.heardAt < this.probeIntervalMs) return;
    this.echoOut = true;
    this.send([message(T.ECHO_REQUEST, 0xffffffff)]);
  }
}

export class OpenFlowClient {
  readonly socketPath: string;
  private readonly requestTimeoutMs: number;
  private readonly connectRetryMs: number;
  private readonly probeIntervalMs: number;
  private session?: Session;
  private opening?: Promise<Session>;
  private xid = 1;
  private closed = false;
  /** Sessions opened so far (tests and figures). */
  connects = 0;

  constructor(opts: OpenFlowClientOptions) {
    this.socketPath = opts.socketPath;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.connectRetryMs = opts.connectRetryMs ?? 3_000;
    this.probeIntervalMs = opts.probeIntervalMs ?? 15_000;
  }

  private get label(): string {
    return `OpenFlow ${this.socketPath}`;
  }

  private nextXid(): number {
    // 0 is our HELLO and 0xffffffff our keepalive echo.
    this.xid = this.xid >= 0xfffffffe ? 1 : this.xid + 1;
    return this.xid;
  }

  private async open(): Promise<Session> {
    if (this.closed) throw new StatusError(Code.UNAVAILABLE, `${this.label}: client closed`);
    if (this.session && !this.session.closed) return this.session;
    this.opening ??= (async () => {
      try {
        const deadline = Date.now() + this.connectRetryMs;
        for (;;) {
          try {
            const socket = await connectUnix(this.socketPath);
            const s = new Session(socket, this.label, this.probeIntervalMs, (x) => {
              if (this.session === x) this.session = undefined;
            });
            await withTimeout(s.ready, this.requestTimeoutMs, () => {
              const e = new StatusError(Code.UNAVAILABLE, `${this.label}: no HELLO from the switch within ${this.requestTimeoutMs} ms`);
              s.close(e);
              return e;
            });
            this.connects++;
            this.session = s;
            return s;
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            // The bridge may be seconds old: its socket appears when ovs-vswitchd gets to it.
            if ((code === 'ENOENT' || code === 'ECONNREFUSED') && Date.now() < deadline) {
              await new Promise((r) => setTimeout(r, 20));
              continue;
            }
            if (e instanceof StatusError) throw e;
            const why = code === 'ENOENT' ? 'socket does not exist (no such bridge, or ovs-vswitchd is not running)' : code === 'ECONNREFUSED' ? 'nobody listens (is ovs-vswitchd running?)' : (e as Error).message;
            throw new StatusError(Code.UNAVAILABLE, `${this.label}: ${why}`, { cause: e });
          }
        }
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }

  /**
   * Sends the FLOW_MODs and a BARRIER in one write. Resolves when the barrier is answered, with one
   * entry per FLOW_MOD: undefined when the switch took it, or the OpenFlowError it answered. The
   * switch applies each one on its own (no transaction): a refused one does not undo the others.
   */
  async flowMods(mods: readonly FlowMod[]): Promise<(OpenFlowError | undefined)[]> {
    const s = await this.open();
    const results: (OpenFlowError | undefined)[] = mods.map(() => undefined);
    const xids = mods.map(() => this.nextXid());
    const bxid = this.nextXid();
    const msgs = mods.map((m, i) => encodeFlowMod(xids[i], m));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new StatusError(Code.DEADLINE_EXCEEDED, `${this.label}: no barrier reply within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
      const finish = (err?: StatusError) => {
        clearTimeout(timer);
        xids.forEach((x) => s.unwait(x));
        s.unwait(bxid);
        if (err) reject(err);
        else resolve(results);
      };
      xids.forEach((x, i) =>
        s.wait(x, {
          onMessage: (type, msg) => {
            if (type !== T.ERROR) return false;
            const e = decodeError(msg);
            results[i] = new OpenFlowError(e.grpc, `the switch refused OpenFlow rule ${i + 1} of ${mods.length} (${describeMod(mods[i])}): ${e.name}`, e.name, i);
            return true;
          },
          fail: (err) => finish(err),
        }),
      );
      s.wait(bxid, {
        onMessage: (type, msg) => {
          if (type === T.BARRIER_REPLY) finish();
          else if (type === T.ERROR) finish(new StatusError(Code.INTERNAL, `${this.label}: barrier refused: ${decodeError(msg).name}`));
          else return false;
          return true;
        },
        fail: (err) => finish(err),
      });
      s.send([...msgs, message(T.BARRIER_REQUEST, bxid)]);
    });
  }

  /** Adds rules (an identical match and priority replaces the old rule); throws the first refusal. */
  async addFlows(specs: readonly FlowSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const errs = await this.flowMods(specs.map(flowModOf));
    const first = errs.find((e) => e);
    if (first) throw first;
  }

  /** Deletes every rule whose cookie matches `cookie` under `mask` (all ones by default); none is fine. */
  async delFlowsByCookie(cookie: bigint, mask = (1n << 64n) - 1n): Promise<void> {
    const [err] = await this.flowMods([{ command: 'delete', cookie, cookieMask: mask }]);
    if (err) throw err;
  }

  /** The switch's rules (optionally filtered like a non-strict delete), with counters. */
  async dumpFlows(filter: FlowStatsRequest = {}): Promise<FlowStats[]> {
    const s = await this.open();
    const xid = this.nextXid();
    const flows: FlowStats[] = [];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        s.unwait(xid);
        reject(new StatusError(Code.DEADLINE_EXCEEDED, `${this.label}: no flow stats within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      s.wait(xid, {
        onMessage: (type, msg) => {
          if (type === T.ERROR) {
            clearTimeout(timer);
            reject(new StatusError(decodeError(msg).grpc, `${this.label}: flow stats refused: ${decodeError(msg).name}`));
            return true;
          }
          if (type !== T.MULTIPART_REPLY) return false;
          const part = decodeFlowStatsReply(msg);
          flows.push(...part.flows);
          if (part.more) return false;
          clearTimeout(timer);
          resolve(flows);
          return true;
        },
        fail: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      s.send([encodeFlowStatsRequest(xid, filter)]);
    });
  }

  /** A round trip (BARRIER): resolves when everything sent before has been handled. */
  async barrier(): Promise<void> {
    await this.flowMods([]);
  }

  /** Drops the connection; calls in flight fail with UNAVAILABLE. The client cannot be used again. */
  close(): void {
    this.closed = true;
    this.session?.close(new StatusError(Code.UNAVAILABLE, `${this.label}: client closed`));
    this.session = undefined;
  }
}

function describeMod(m: FlowMod): string {
  const parts: string[] = [m.command];
  if (m.cookie !== undefined) parts.push(`cookie=0x${m.cookie.toString(16)}`);
  if (m.priority !== undefined) parts.push(`priority=${m.priority}`);
  if (m.match?.inPort !== undefined) parts.push(`in_port=${m.match.inPort}`);
  if (m.match?.vlan !== undefined) parts.push(`dl_vlan=${m.match.vlan}`);
  if (m.match?.tunId !== undefined) parts.push(`tun_id=0x${m.match.tunId.toString(16)}`);
  return parts.join(' ');
}

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ path });
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', reject);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
