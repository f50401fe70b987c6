// heal (NS/NSE client): remembers what was registered through it and keeps one watch open to the
// registry as a liveness signal. When that watch breaks (registry restarted, connection lost), every
// remembered record is registered again through the top of the client chain, retrying until it
// succeeds or is unregistered. A watch Find of the caller is re-opened transparently when it breaks.
//
// The liveness watch asks for a name no record has, so a registry does not stream its whole contents
// to every registrant.
import { randomUUID } from 'node:crypto';
import { Clock, realClock } from '../../core/clock';
import { fromTimestamp, toTimestamp } from '../../core/conn';
import { Context, sleep } from '../../core/context';
import { Code, codeOf } from '../../core/errors';
import type { RegistryElement, RegistryHandler } from '../../core/registry';
import { log } from '../../log';
import type { RecordKind } from '../../core/recordkinds';

export interface HealOptions {
  /** Pause between re-registration attempts and between watch re-opens; default 200 ms. */
  retryMs?: number;
  clock?: Clock;
}

export interface HealElement<T> extends RegistryElement<T> {
  /** The handler re-registrations go through: the whole client chain. */
  setTop(top: RegistryHandler<T>): void;
  readonly remembered: number;
  readonly monitoring: boolean;
  /** Re-registrations in progress. */
  readonly healing: number;
  stop(): void;
}

/** Errors that no retry can fix. */
const permanent = new Set([Code.INVALID_ARGUMENT, Code.PERMISSION_DENIED, Code.UNAUTHENTICATED, Code.UNIMPLEMENTED, Code.FAILED_PRECONDITION]);

interface Record<T> {
  item: T;
  /** Requested lifetime (NSE expiration_time − now at Register), 0 when none was asked for. */
  lifetimeMs: number;
}

export function heal<T extends { name: string; expirationTime?: unknown }>(kind: RecordKind<T>, opts: HealOptions = {}): HealElement<T> {
  const retryMs = opts.retryMs ?? 200;
  const clock = opts.clock ?? realClock;
  const records = new Map<string, Record<T>>();
  const loops = new Set<string>();
  const life = new AbortController();
  const probe = kind.byName(`registry-liveness-${randomUUID()}`);
  let top: RegistryHandler<T> | undefined;
  let monitor: { cancel(): void } | undefined;

  const lifetimeOf = (item: T) => {
    const at = fromTimestamp(item.expirationTime as never);
    return at === undefined ? 0 : Math.max(0, at - clock.now());
  };
  const again = (r: Record<T>): T =>
    r.item.expirationTime === undefined
      ? r.item
      : ({ ...r.item, expirationTime: r.lifetimeMs > 0 ? toTimestamp(clock.now() + r.lifetimeMs) : undefined } as T);

  const reRegister = async (name: string) => {
    if (loops.has(name)) return;
    loops.add(name);
    const bg = Context.background().withSignal(life.signal);
    try {
      while (!life.signal.aborted) {
        const r = records.get(name);
        if (!r || !top) return;
        const { ctx, cancel } = bg.withTimeout(15_000);
        try {
          await top.register(ctx, again(r));
          log.info({ name, kind: kind.kind }, 'registration healed');
          return;
        } catch (err) {
          log.debug({ name, err: String(err) }, 're-registration failed; retrying');
        } finally {
          cancel();
        }
        await sleep(bg, retryMs).catch(() => undefined);
      }
    } finally {
      loops.delete(name);
    }
  };

  const broken = (err: unknown) => {
    monitor = undefined;
    if (life.signal.aborted || records.size === 0) return;
    log.warn({ kind: kind.kind, err: String(err) }, 'registry connection lost; registering again');
    for (const name of records.keys()) void reRegister(name);
  };

  const ensureMonitor = (next: RegistryHandler<T>) => {
    if (monitor || life.signal.aborted) return;
    const { ctx, cancel } = Context.background().withSignal(life.signal).withCancel();
    monitor = { cancel };
    const mine = monitor;
    next.find(ctx, { item: probe, watch: true }, () => undefined).then(
      () => {
        if (!ctx.done && monitor === mine) broken('watch ended');
      },
      (err) => {
        if (!ctx.done && monitor === mine) broken(err);
      },
    );
  };

  return {
    setTop(h) {
      top = h;
    },
    get remembered() {
      return records.size;
    },
    get monitoring() {
      return monitor !== undefined;
    },
    get healing() {
      return loops.size;
    },
    stop() {
      life.abort();
      monitor?.cancel();
      monitor = undefined;
      records.clear();
    },
    async register(ctx, item, next) {
      const out = await next.register(ctx, item);
      records.set(out.name, { item: { ...item, name: out.name }, lifetimeMs: lifetimeOf(item) });
      ensureMonitor(next);
      return out;
    },
    async find(ctx, query, sink, next) {
      if (!query.watch) return next.find(ctx, query, sink);
      for (;;) {
        try {
          await next.find(ctx, query, sink);
          return;
        } catch (err) {
          if (ctx.done || life.signal.aborted || permanent.has(codeOf(err))) throw err;
          log.debug({ err: String(err) }, 'watch broke; re-opening');
          await sleep(ctx, retryMs).catch(() => undefined);
          if (ctx.done) return;
        }
      }
    },
    async unregister(ctx, item, next) {
      records.delete(item.name);
      if (records.size === 0) {
        monitor?.cancel();
        monitor = undefined;
      }
      return next.unregister(ctx, item);
    },
  };
}
