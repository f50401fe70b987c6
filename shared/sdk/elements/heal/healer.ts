// The heal attempts for one connection. A control-plane trouble (a component restarted, a stream
// broke) is first healed by a plain re-request along the same path, which lets surviving hops keep (and
// restarted ones adopt) the data path; only if that fails, or when the data path itself failed, does
// the client reselect (close the old path and choose again), as v1.1.1 always does. Upstream has the
// same split since sdk v1.4 ("restore" vs "reselect"), and, as there, a data-path check decides
// whether a failed restore is worth repeating: while the far end still answers, the client keeps
// restoring (a restarting nsmgr on the endpoint's node comes back to a data path that never stopped),
// and reselects once the check fails or cannot tell (no address to ask). A reselect's Close tears the
// data path down, so it is the last resort. Attempts repeat until one succeeds.
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

/** Whether the connection's data path still works: true, false, or undefined when it cannot tell. */
export type DataPathCheck = () => Promise<boolean | undefined>;

/**
 * Starts healing connection `id` through its event factory, unless it is being healed already.
 * `dataPathFailed`: the trouble is the data path itself (reselect at once). `check`: asked during each
 * failed restore whether the data path still works.
 */
export type StartHealing = (factory: EventFactory, id: string, reason: string, dataPathFailed?: boolean, check?: DataPathCheck) => void;

export function healer(opts: HealerOptions): StartHealing {
  const healing = new Set<string>();
  return (factory, id, reason, dataPathFailed = false, check) => {
    if (healing.has(id)) return;
    healing.add(id);
    const started = opts.clock.now();
    log.warn({ id, reason }, 'connection is down; healing');
    const ask = (): Promise<boolean | undefined> => check!().catch(() => false);
    void (async () => {
      const { ctx, cancel } = Context.background().withCancel();
      // Once a reselect has closed the old path there is nothing left to restore.
      let reselect = dataPathFailed;
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            await factory.request({ reselect });
            // A connection closed meanwhile (its client stopped) is not healed: the event did nothing.
            if (factory.state !== 'established') {
              log.info({ id }, 'connection closed while healing');
              return;
            }
            const ms = opts.clock.now() - started;
            opts.onHealed?.(id, ms);
            log.info({ id, ms, reselected: reselect }, 'connection healed');
            return;
          } catch (err) {
            // The first failure and then one in 25 (every ~5 s at 200 ms) are worth an operator's eye:
            // a heal that does not end says why.
            const level = attempt % 25 === 0 ? 'warn' : 'debug';
            log[level]({ id, attempt: attempt + 1, reselect, err: String(err) }, 'heal attempt failed');
          }
          // Asked once the attempt failed (not alongside it: the hops it went through have then let go
          // of what they knew to be dead), and answered during the pause.
          const verdict = !reselect && check ? ask() : undefined;
          await sleep(ctx, opts.attemptAfterMs);
          if (!reselect) {
            const alive = verdict ? await verdict : undefined;
            if (alive !== true) reselect = true;
            else if (attempt % 25 === 0) log.info({ id, attempt: attempt + 1 }, 'the data path still works: restoring the same path again');
          }
        }
      } finally {
        cancel();
        healing.delete(id);
      }
    })();
  };
}
