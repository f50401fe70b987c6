// The heal attempts for one connection. A control-plane trouble (a component restarted, a stream
// broke) is first healed by a plain re-request along the same path, which lets surviving hops keep (and
// restarted ones adopt) the data path; only if that fails, or when the data path itself failed, does
// the client reselect (close the old path and choose again), as v1.1.1 always does. Upstream has the
// same split since sdk v1.4 ("restore" vs "reselect"). Attempts repeat until one succeeds.
import type { Clock } from '../../core/clock';
import { Context, sleep } from '../../core/context';
import { log } from '../../log';
import type { EventFactory } from '../begin';

export interface HealerOptions {
  /** Time between attempts. */
  attemptAfterMs: number;
  clock: Clock;
  /** Called after a heal succeeds, with the time it took since trouble was detected. */
  onHealed?: (id: string, ms: number) => void;
}

/** Starts healing connection `id` through its event factory, unless it is being healed already. */
export type StartHealing = (factory: EventFactory, id: string, reason: string, dataPathFailed?: boolean) => void;

export function healer(opts: HealerOptions): StartHealing {
  const healing = new Set<string>();
  return (factory, id, reason, dataPathFailed = false) => {
    if (healing.has(id)) return;
    healing.add(id);
    const started = opts.clock.now();
    log.warn({ id, reason }, 'connection is down; healing');
    void (async () => {
      const { ctx, cancel } = Context.background().withCancel();
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            await factory.request({ reselect: dataPathFailed || attempt > 0 });
            const ms = opts.clock.now() - started;
            opts.onHealed?.(id, ms);
            log.info({ id, ms }, 'connection healed');
            return;
          } catch (err) {
            // The first failure and then one in 25 (every ~5 s at 200 ms) are worth an operator's eye:
            // a heal that does not end says why.
            const level = attempt % 25 === 0 ? 'warn' : 'debug';
            log[level]({ id, attempt: attempt + 1, reselect: dataPathFailed || attempt > 0, err: String(err) }, 'heal attempt failed');
          }
          await sleep(ctx, opts.attemptAfterMs);
        }
      } finally {
        cancel();
        healing.delete(id);
      }
    })();
  };
}
