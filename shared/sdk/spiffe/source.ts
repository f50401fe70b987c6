// Where an identity comes from, as TLS credentials and token signing see it: the latest X.509
// context, a promise for the first one, and a subscription to rotations. The Workload API client,
// the embedded provider's in-process source and a fixed test source all implement it.
import type { X509Context } from './svid';

export interface X509Source {
  /** The latest context; undefined until the first one arrives. */
  current(): X509Context | undefined;
  /** Resolves with the first context; rejects after `timeoutMs` (or when the source is closed) with the reason. */
  ready(timeoutMs?: number): Promise<X509Context>;
  /** Calls `fn` on every new context (not with the current one); returns the unsubscribe function. */
  subscribe(fn: (ctx: X509Context) => void): () => void;
  close(): void;
}

export const DEFAULT_READY_TIMEOUT_MS = 30_000;

/** The common part: holds the latest context, notifies subscribers, settles ready() waiters. */
export class X509SourceBase implements X509Source {
  private latest: X509Context | undefined;
  private readonly subscribers = new Set<(ctx: X509Context) => void>();
  private readonly waiters = new Set<{ resolve: (c: X509Context) => void; reject: (e: Error) => void }>();
  protected closed = false;
  /** Shown in ready() errors: why nothing has arrived yet. */
  protected lastError: string | undefined;

  constructor(protected readonly description: string) {}

  current(): X509Context | undefined {
    return this.latest;
  }

  ready(timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<X509Context> {
    if (this.latest) return Promise.resolve(this.latest);
    if (this.closed) return Promise.reject(new Error(`${this.description}: source closed before any SVID arrived`));
    return new Promise((resolve, reject) => {
      const w = {
        resolve: (c: X509Context) => {
          clearTimeout(t);
          resolve(c);
        },
        reject: (e: Error) => {
          clearTimeout(t);
          reject(e);
        },
      };
      const t = setTimeout(() => {
        this.waiters.delete(w);
        const why = this.lastError ? `; last error: ${this.lastError}` : '';
        reject(new Error(`${this.description}: no X.509-SVID after ${timeoutMs} ms${why}`));
      }, timeoutMs);
      t.unref?.();
      this.waiters.add(w);
    });
  }

  subscribe(fn: (ctx: X509Context) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  protected update(ctx: X509Context): void {
    if (this.closed) return;
    this.latest = ctx;
    this.lastError = undefined;
    for (const w of this.waiters) w.resolve(ctx);
    this.waiters.clear();
    for (const fn of [...this.subscribers]) fn(ctx);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters) w.reject(new Error(`${this.description}: source closed before any SVID arrived`));
    this.waiters.clear();
    this.subscribers.clear();
  }
}

/** A source whose context is set by hand: tests, and in-process users of the embedded provider. */
export class StaticX509Source extends X509SourceBase {
  constructor(ctx?: X509Context, description = 'static X.509 source') {
    super(description);
    if (ctx) this.update(ctx);
  }

  set(ctx: X509Context): void {
    this.update(ctx);
  }
}
