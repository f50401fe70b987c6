// heal (NS/NSE client): remembers what was registered through it and keeps one watch open to the
// registry as a liveness signal (liveness.ts). When that watch breaks (registry restarted, connection
// lost), every remembered record is registered again through the top of the client chain, retrying
// until it succeeds or is unregistered (reregister.ts). A watch Find of the caller is re-opened
// transparently when it breaks.
import { randomUUID } from 'node:crypto';
import { Clock, realClock } from '../../core/clock';
import { sleep } from '../../core/context';
import { Code, codeOf } from '../../core/errors';
import type { RecordKind } from '../../core/recordkinds';
import type { RegistryElement, RegistryHandler } from '../../core/registry';
import { log } from '../../log';
import { livenessWatch } from './liveness';
import { remember, Remembered, reRegistrations } from './reregister';

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

export function heal<T extends { name: string; expirationTime?: unknown }>(kind: RecordKind<T>, opts: HealOptions = {}): HealElement<T> {
  const retryMs = opts.retryMs ?? 200;
  const clock = opts.clock ?? realClock;
  const records = new Map<string, Remembered<T>>();
  const life = new AbortController();
  let top: RegistryHandler<T> | undefined;
  const reRegister = reRegistrations({ kind: kind.kind, records, top: () => top, signal: life.signal, retryMs, clock });
  const watch = livenessWatch(kind.byName(`registry-liveness-${randomUUID()}`), life.signal, (err) => {
    if (life.signal.aborted || records.size === 0) return;
    log.warn({ kind: kind.kind, err: String(err) }, 'registry connection lost; registering again');
    for (const name of records.keys()) reRegister.start(name);
  });

  return {
    setTop(h) {
      top = h;
    },
    get remembered() {
      return records.size;
    },
    get monitoring() {
      return watch.open;
    },
    get healing() {
      return reRegister.running;
    },
    stop() {
      life.abort();
      watch.cancel();
      records.clear();
    },
    async register(ctx, item, next) {
      const out = await next.register(ctx, item);
      records.set(out.name, remember(item, out.name, clock));
      watch.ensure(next);
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
      if (records.size === 0) watch.cancel();
      return next.unregister(ctx, item);
    },
  };
}
