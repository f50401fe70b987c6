// refresh (NSE client): keeps a registration alive by re-registering at 2/3 of the time left before the
// expiration_time the registry returned. A caller that asked for an explicit lifetime asks for the
// same lifetime again on each refresh; otherwise expiration_time is left unset and the registry picks.
// A failed refresh is retried (after a third of the time left, at least `retryMs`) rather than
// abandoned as in v1.1.1, so a registry that comes back gets the record again.
import type { NetworkServiceEndpoint } from '@nsm/api';
import { Clock, realClock, TimerHandle } from '../../core/clock';
import { fromTimestamp, toTimestamp } from '../../core/conn';
import { Context } from '../../core/context';
import type { RegistryElement, RegistryHandler } from '../../core/registry';
import { log } from '../../log';
import { executorKey, NameExecutor } from '../serialize';

export interface RefreshOptions {
  clock?: Clock;
  /** Shortest delay before retrying a failed refresh; default 1 s. */
  retryMs?: number;
  /** Timeout of one refresh call when no lifetime was requested; default 15 s. */
  callTimeoutMs?: number;
}

interface Task {
  handle?: TimerHandle;
  cancelled: boolean;
}

export interface RefreshElement extends RegistryElement<NetworkServiceEndpoint> {
  /** Names being refreshed. */
  readonly tasks: number;
  stop(): void;
}

export function refresh(opts: RefreshOptions = {}): RefreshElement {
  const clock = opts.clock ?? realClock;
  const retryMs = opts.retryMs ?? 1000;
  const callTimeoutMs = opts.callTimeoutMs ?? 15_000;
  const tasks = new Map<string, Task>();

  const cancel = (name: string) => {
    const t = tasks.get(name);
    if (!t) return;
    t.cancelled = true;
    t.handle?.cancel();
    tasks.delete(name);
  };

  const start = (
    original: NetworkServiceEndpoint,
    lifetimeMs: number,
    expiresAt: number,
    next: RegistryHandler<NetworkServiceEndpoint>,
    exec?: NameExecutor,
  ) => {
    const name = original.name;
    const task: Task = { cancelled: false };
    tasks.set(name, task);
    const current = () => !task.cancelled && tasks.get(name) === task;

    const plan = (at: number, failed: boolean) => {
      const left = at - clock.now();
      const delay = failed ? Math.max(retryMs, left / 3) : Math.max(0, (left * 2) / 3);
      task.handle = clock.after(delay, () => {
        const run = async () => {
          if (!current()) return;
          const item: NetworkServiceEndpoint = {
            ...structuredClone(original),
            expirationTime: lifetimeMs > 0 ? toTimestamp(clock.now() + lifetimeMs) : undefined,
          };
          const { ctx, cancel: done } = Context.background().withTimeout(lifetimeMs > 0 ? lifetimeMs : callTimeoutMs);
          try {
            const out = await next.register(ctx, item);
            if (!current()) return;
            const nextAt = fromTimestamp(out.expirationTime);
            if (nextAt === undefined) tasks.delete(name);
            else plan(nextAt, false);
          } catch (err) {
            log.warn({ nse: name, err: String(err) }, 'registration refresh failed; will retry');
            if (current()) plan(at, true);
          } finally {
            done();
          }
        };
        void (exec ? exec.run(name, run) : run());
      });
    };
    plan(expiresAt, false);
  };

  return {
    get tasks() {
      return tasks.size;
    },
    stop() {
      for (const name of [...tasks.keys()]) cancel(name);
    },
    async register(ctx, nse, next) {
      const requested = fromTimestamp(nse.expirationTime);
      const lifetimeMs = requested !== undefined ? Math.max(0, requested - clock.now()) : 0;
      cancel(nse.name);
      const out = await next.register(ctx, nse);
      const at = fromTimestamp(out.expirationTime);
      if (at !== undefined) start({ ...nse, name: out.name }, lifetimeMs, at, next, ctx.get(executorKey));
      return out;
    },
    async unregister(ctx, nse, next) {
      cancel(nse.name);
      return next.unregister(ctx, nse);
    },
  };
}
