import { setMaxListeners } from 'node:events';
// A request-scoped, immutable context: cancellation, an optional deadline and typed values.
// Elements never share mutable request state through globals; they derive a new context instead.

export interface Key<T> {
  readonly name: string;
  /** Phantom field so that keys of different T are not assignable to each other. */
  readonly __type?: T;
}

export function createKey<T>(name: string): Key<T> {
  return { name };
}

export class Context {
  private constructor(
    readonly signal: AbortSignal,
    /** Epoch milliseconds after which the work is pointless, if any. */
    readonly deadline: number | undefined,
    private readonly key: Key<unknown> | undefined,
    private readonly value: unknown,
    private readonly parent: Context | undefined,
  ) {}

  static background(): Context {
    const ac = new AbortController();
    // Many concurrent calls may listen on one long-lived context; that is not a leak.
    setMaxListeners(0, ac.signal);
    return new Context(ac.signal, undefined, undefined, undefined, undefined);
  }

  get<T>(key: Key<T>): T | undefined {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the walk up the parents starts here
    for (let c: Context | undefined = this; c; c = c.parent) {
      if (c.key === key) return c.value as T;
    }
    return undefined;
  }

  with<T>(key: Key<T>, value: T): Context {
    return new Context(this.signal, this.deadline, key as Key<unknown>, value, this);
  }

  /** Same values, but cancelled also when `signal` aborts. */
  withSignal(signal: AbortSignal, deadline = this.deadline): Context {
    const merged = signal === this.signal ? signal : AbortSignal.any([this.signal, signal]);
    return new Context(merged, deadline, undefined, undefined, this);
  }

  /** A derived context and the function that cancels it. */
  withCancel(): { ctx: Context; cancel: (reason?: unknown) => void } {
    const ac = new AbortController();
    return { ctx: this.withSignal(ac.signal), cancel: (reason) => ac.abort(reason ?? new Error('context cancelled')) };
  }

  /** A derived context that is cancelled after `ms` (or at the parent's earlier deadline). */
  withTimeout(ms: number, now = Date.now()): { ctx: Context; cancel: () => void } {
    const deadline = Math.min(now + ms, this.deadline ?? Infinity);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('deadline exceeded')), Math.max(0, deadline - now));
    timer.unref?.();
    return {
      ctx: this.withSignal(ac.signal, deadline),
      cancel: () => {
        clearTimeout(timer);
        ac.abort(new Error('context cancelled'));
      },
    };
  }

  /** Milliseconds left before the deadline, or undefined when there is none. */
  remaining(now = Date.now()): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - now;
  }

  get done(): boolean {
    return this.signal.aborted;
  }

  /**
   * Same values and the same remaining time budget, but not cancelled with this one. Used for work
   * that must outlive the call that started it (cleanup after a failed request).
   */
  detached(now = Date.now()): { ctx: Context; cancel: () => void } {
    const ac = new AbortController();
    const left = this.remaining(now);
    const ctx = new Context(ac.signal, left === undefined ? undefined : now + Math.max(left, 0), undefined, undefined, this);
    if (left === undefined) return { ctx, cancel: () => ac.abort(new Error('context cancelled')) };
    const timer = setTimeout(() => ac.abort(new Error('deadline exceeded')), Math.max(left, 0));
    timer.unref?.();
    return {
      ctx,
      cancel: () => {
        clearTimeout(timer);
        ac.abort(new Error('context cancelled'));
      },
    };
  }
}

/** Resolves after `ms`, or rejects when the context ends first. */
export function sleep(ctx: Context, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ctx.done) return reject(ctx.signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(ctx.signal.reason);
    };
    const t = setTimeout(() => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}
