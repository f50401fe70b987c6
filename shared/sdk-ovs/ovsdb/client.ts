// A client of one OVSDB server (RFC 7047) over its unix socket, kept open between calls: a
// transaction costs one round trip instead of an ovs-vsctl process that first downloads the whole
// database. The session is opened on first use and again after it broke; calls in flight when it
// broke fail with UNAVAILABLE (the caller decides whether to retry: a transaction may or may not
// have been committed). Monitors are set up again on the new session, and their callback gets the
// full state again (`initial`), so a cache built from them never misses a change.
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { log } from '@nsm/sdk/log';
import { JsonRpcSession } from './jsonrpc';
import type { Operation, TableUpdates } from './types';

export interface OvsdbClientOptions {
  /** Path of ovsdb-server's unix socket (its `--remote=punix:PATH`). */
  socketPath: string;
  /** Database name; "Open_vSwitch" by default. */
  database?: string;
  /** Bound on one call when the caller gives none (default 15 s). */
  callTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Keepalive: echo after this much silence (default 5 s; 0 = off). */
  probeIntervalMs?: number;
}

/** One failed operation of a transaction, as the server reported it. */
export class TransactError extends StatusError {
  constructor(
    code: Code,
    message: string,
    /** Index of the failing operation; equal to the number of operations for a commit failure. */
    readonly index: number,
    /** RFC 7047 error string, e.g. "constraint violation", "timed out", "referential integrity violation". */
    readonly error: string,
    readonly details?: string,
  ) {
    super(code, message);
    this.name = 'TransactError';
  }
}

export interface MonitorRequest {
  [table: string]: { columns?: string[]; select?: { initial?: boolean; insert?: boolean; delete?: boolean; modify?: boolean } };
}

export interface Monitor {
  cancel(): Promise<void>;
}

interface MonitorEntry {
  id: string;
  request: MonitorRequest;
  onUpdate(updates: TableUpdates, initial: boolean): void;
}

let monitorSeq = 0;

export class OvsdbClient {
  readonly socketPath: string;
  readonly database: string;
  private readonly callTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private session?: JsonRpcSession;
  private connecting?: Promise<JsonRpcSession>;
  private readonly monitors = new Map<string, MonitorEntry>();
  private closed = false;
  private retry?: NodeJS.Timeout;
  /** Sessions opened so far (tests and figures). */
  connects = 0;

  constructor(opts: OvsdbClientOptions) {
    this.socketPath = opts.socketPath;
    this.database = opts.database ?? 'Open_vSwitch';
    this.callTimeoutMs = opts.callTimeoutMs ?? 15_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.probeIntervalMs = opts.probeIntervalMs ?? 5_000;
  }

  private get label(): string {
    return `OVSDB ${this.socketPath}`;
  }

  /** The open session, opening one if needed. */
  private async open(): Promise<JsonRpcSession> {
    if (this.closed) throw new StatusError(Code.UNAVAILABLE, `${this.label}: client closed`);
    if (this.session && !this.session.isClosed) return this.session;
    this.connecting ??= (async () => {
      try {
        const s = await JsonRpcSession.connect(
          this.socketPath,
          {
            label: this.label,
            probeIntervalMs: this.probeIntervalMs,
            onNotification: (m, p) => this.onNotification(m, p),
            onClose: (err) => this.onSessionClosed(s, err),
          },
          this.connectTimeoutMs,
        );
        this.connects++;
        // Monitors of the previous session, set up again before anyone uses this one: a session
        // without them would leave their owners waiting for updates that never come.
        try {
          for (const m of this.monitors.values()) await this.startMonitor(s, m);
        } catch (e) {
          s.close(StatusError.wrap(e, 'restarting OVSDB monitors'));
          throw e;
        }
        this.session = s;
        return s;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private onSessionClosed(s: JsonRpcSession, err: StatusError): void {
    if (this.session === s) this.session = undefined;
    if (this.closed) return;
    log.debug({ socket: this.socketPath, err: err.message }, 'OVSDB session ended');
    // With monitors someone relies on updates: reconnect now rather than on the next call.
    if (this.monitors.size > 0) this.scheduleReconnect(100);
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.retry || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.closed || this.monitors.size === 0) return;
      this.open().catch((err) => {
        log.warn({ socket: this.socketPath, err: String(err) }, 'OVSDB reconnect failed; retrying');
        this.scheduleReconnect(Math.min(delayMs * 2, 2000));
      });
    }, delayMs);
    this.retry.unref();
  }

  /** Any JSON-RPC method, e.g. "list_dbs", "get_schema", "echo". */
  async call(method: string, params: unknown[], timeoutMs = this.callTimeoutMs): Promise<unknown> {
    const s = await this.open();
    return s.call(method, params, timeoutMs);
  }

  /**
   * Runs `ops` as one transaction. Resolves with the per-operation results when every operation
   * succeeded; otherwise rejects with a TransactError naming the failing operation (`describe` gives
   * each operation's meaning for the message and may choose a code, e.g. a guard that timed out).
   */
  async transact(
    ops: readonly Operation[],
    opts: { timeoutMs?: number; describe?: (index: number, error: string, details?: string) => { code: Code; message: string } | undefined } = {},
  ): Promise<Record<string, unknown>[]> {
    const result = await this.call('transact', [this.database, ...ops], opts.timeoutMs ?? this.callTimeoutMs);
    if (!Array.isArray(result)) throw new StatusError(Code.INTERNAL, `${this.label}: malformed transact reply`);
    const n = result.length;
    for (let i = 0; i < n; i++) {
      const r = result[i] as { error?: unknown; details?: unknown } | null;
      if (r && typeof r.error === 'string') {
        const details = typeof r.details === 'string' ? r.details : undefined;
        const mine = opts.describe?.(i, r.error, details);
        const what = i < ops.length ? `operation ${i} (${ops[i].op}${'table' in ops[i] ? ` ${(ops[i] as { table: string }).table}` : ''})` : 'commit';
        const message = mine?.message ?? `OVSDB transaction failed at ${what}: ${r.error}${details ? `: ${details}` : ''}`;
        throw new TransactError(mine?.code ?? codeFor(r.error), message, i, r.error, details);
      }
    }
    if (n < ops.length) throw new StatusError(Code.INTERNAL, `${this.label}: transact reply has ${n} results for ${ops.length} operations`);
    return result as Record<string, unknown>[];
  }

  /**
   * Starts an RFC 7047 monitor. `onUpdate` first gets the current rows (initial = true), then every
   * change; after a reconnect it gets the full state again with initial = true.
   */
  async monitor(request: MonitorRequest, onUpdate: (updates: TableUpdates, initial: boolean) => void): Promise<Monitor> {
    const entry: MonitorEntry = { id: `m${++monitorSeq}`, request, onUpdate };
    const s = await this.open();
    await this.startMonitor(s, entry);
    this.monitors.set(entry.id, entry);
    return {
      cancel: async () => {
        if (!this.monitors.delete(entry.id)) return;
        if (this.session && !this.session.isClosed) await this.session.call('monitor_cancel', [entry.id], this.callTimeoutMs).catch(() => undefined);
      },
    };
  }

  private async startMonitor(s: JsonRpcSession, m: MonitorEntry): Promise<void> {
    const initial = (await s.call('monitor', [this.database, m.id, m.request], this.callTimeoutMs)) as TableUpdates;
    m.onUpdate(initial ?? {}, true);
  }

  private onNotification(method: string, params: unknown): void {
    if (method !== 'update' || !Array.isArray(params) || params.length < 2) return;
    const m = this.monitors.get(String(params[0]));
    if (m) m.onUpdate(params[1] as TableUpdates, false);
  }

  /** Closes the session; calls in flight fail with UNAVAILABLE; the client cannot be used again. */
  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.monitors.clear();
    this.session?.close(new StatusError(Code.UNAVAILABLE, `${this.label}: client closed`));
    this.session = undefined;
  }
}

function codeFor(error: string): Code {
  switch (error) {
    case 'timed out':
      return Code.DEADLINE_EXCEEDED;
    case 'constraint violation':
    case 'referential integrity violation':
    case 'syntax error':
    case 'unknown column':
    case 'domain error':
    case 'range error':
      return Code.INVALID_ARGUMENT;
    case 'not owner':
    case 'not allowed':
    case 'permission error':
      return Code.PERMISSION_DENIED;
    case 'resources exhausted':
      return Code.RESOURCE_EXHAUSTED;
    default:
      return Code.INTERNAL;
  }
}
