// One JSON-RPC 1.0 session with ovsdb-server over its unix socket (RFC 7047 §4; ovs-vswitchd's
// control socket speaks the same, ../unixctl.ts): numbered requests
// matched to their replies (ovsdb-server may answer out of order, e.g. a transaction waiting on a
// "wait" operation), notifications handed to a callback, the server's "echo" answered, and our own
// echo sent when the line has been quiet, so a hung server is noticed. A session never reconnects:
// when it ends every call in flight fails with UNAVAILABLE, and OvsdbClient opens a new one.
import { createConnection, Socket } from 'node:net';
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { JsonStreamSplitter } from './jsonstream';

export interface JsonRpcSessionOptions {
  /** Used in error messages. */
  label: string;
  /** The daemon at the other end, for error messages (default "ovsdb-server"). */
  peer?: string;
  /** Echo after this much silence; the session is dropped if the echo gets no answer in as long again. 0 = off. */
  probeIntervalMs: number;
  onNotification(method: string, params: unknown): void;
  onClose(err: StatusError): void;
}

interface Call {
  method: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer?: NodeJS.Timeout;
}

interface Message {
  id?: unknown;
  method?: unknown;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

export class JsonRpcSession {
  private readonly splitter = new JsonStreamSplitter();
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  private closed?: StatusError;
  private heardAt = Date.now();
  private probe?: NodeJS.Timeout;
  private echoOut = false;

  private constructor(
    private readonly socket: Socket,
    private readonly opts: JsonRpcSessionOptions,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(new StatusError(Code.UNAVAILABLE, `${opts.label}: ${err.message}`, { cause: err })));
    socket.on('close', () => this.close(new StatusError(Code.UNAVAILABLE, `${opts.label}: connection closed by ${opts.peer ?? 'ovsdb-server'}`)));
    if (opts.probeIntervalMs > 0) {
      this.probe = setInterval(() => this.keepalive(), opts.probeIntervalMs);
      this.probe.unref();
    }
  }

  /** Connects; rejects with UNAVAILABLE naming the socket when nobody listens there. */
  static connect(path: string, opts: JsonRpcSessionOptions, timeoutMs: number): Promise<JsonRpcSession> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new StatusError(Code.UNAVAILABLE, `${opts.label}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new JsonRpcSession(socket, opts));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const peer = opts.peer ?? 'ovsdb-server';
        const why = err.code === 'ENOENT' ? `socket does not exist (is ${peer} running?)` : err.code === 'ECONNREFUSED' ? `nobody listens (is ${peer} running?)` : err.message;
        reject(new StatusError(Code.UNAVAILABLE, `${opts.label}: ${why}`, { cause: err }));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  /** Sends a request; resolves with `result`, rejects with the JSON-RPC `error` or when the session ends. */
  call(method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const call: Call = { method, resolve, reject };
      if (timeoutMs > 0) {
        call.timer = setTimeout(() => {
          this.calls.delete(id);
          reject(new StatusError(Code.DEADLINE_EXCEEDED, `${this.opts.label}: no answer to "${method}" within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.calls.set(id, call);
      this.send({ id, method, params });
    });
  }

  /** Ends the session; calls in flight fail with `err`. Idempotent. */
  close(err = new StatusError(Code.UNAVAILABLE, `${this.opts.label}: connection closed`)): void {
    if (this.closed) return;
    this.closed = err;
    if (this.probe) clearInterval(this.probe);
    this.socket.destroy();
    for (const [id, c] of this.calls) {
      if (c.timer) clearTimeout(c.timer);
      this.calls.delete(id);
      c.reject(new StatusError(err.code, `${err.message} (while waiting for "${c.method}")`, { cause: err }));
    }
    this.opts.onClose(err);
  }

  private send(msg: object): void {
    this.socket.write(JSON.stringify(msg));
  }

  private onData(chunk: Buffer): void {
    this.heardAt = Date.now();
    let texts: string[];
    try {
      texts = this.splitter.push(chunk);
    } catch (e) {
      this.close(new StatusError(Code.INTERNAL, `${this.opts.label}: ${(e as Error).message}`));
      return;
    }
    for (const t of texts) {
      let msg: Message;
      try {
        msg = JSON.parse(t) as Message;
      } catch (e) {
        this.close(new StatusError(Code.INTERNAL, `${this.opts.label}: undecodable message: ${(e as Error).message}`));
        return;
      }
      this.dispatch(msg);
      if (this.closed) return;
    }
  }

  private dispatch(msg: Message): void {
    if (typeof msg.method === 'string') {
      // A request from the server (only "echo" is defined) or a notification (id null).
      if (msg.method === 'echo' && msg.id !== undefined && msg.id !== null) {
        this.send({ id: msg.id, result: msg.params ?? [], error: null });
      } else if (msg.id === null || msg.id === undefined) {
        this.opts.onNotification(msg.method, msg.params);
      } else {
        this.send({ id: msg.id, result: null, error: { error: 'unknown method', details: msg.method } });
      }
      return;
    }
    if (msg.id === 'echo') {
      this.echoOut = false;
      return;
    }
    const call = typeof msg.id === 'number' ? this.calls.get(msg.id) : undefined;
    if (!call) return;
    this.calls.delete(msg.id as number);
    if (call.timer) clearTimeout(call.timer);
    if (msg.error !== null && msg.error !== undefined) call.reject(rpcError(this.opts.label, call.method, msg.error));
    else call.resolve(msg.result);
  }

  private keepalive(): void {
    if (this.closed) return;
    if (this.echoOut) {
      this.close(new StatusError(Code.UNAVAILABLE, `${this.opts.label}: no answer to echo within ${this.opts.probeIntervalMs} ms`));
      return;
    }
    if (Date.now() - this.heardAt < this.opts.probeIntervalMs) return;
    this.echoOut = true;
    this.send({ id: 'echo', method: 'echo', params: [] });
  }
}

function rpcError(label: string, method: string, err: unknown): StatusError {
  const e = (typeof err === 'object' && err !== null ? err : { error: String(err) }) as { error?: unknown; details?: unknown };
  const text = `${String(e.error ?? 'error')}${e.details !== undefined ? `: ${String(e.details)}` : ''}`;
  return new StatusError(Code.INTERNAL, `${label}: "${method}" failed: ${text}`);
}
