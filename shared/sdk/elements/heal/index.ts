// heal client (sdk.md §3.19): the client watches its own connection through the nsmgr's
// MonitorConnections (eventloop.ts). When the connection turns DOWN or the stream breaks, it
// re-requests every 200 ms, first along the same path, then with reselect, until a Request succeeds
// (healer.ts). An optional data-path check (for example a ping of the far address) decides, while
// healing, whether restoring the same path is still worth it (it is while the far end answers); run
// periodically (liveness.ts) it also catches a broken data path with no control-plane event. A failed
// re-request (refresh) of a watched connection heals too.
import type { Connection } from '@nsm/api';
import { Clock, realClock } from '../../core/clock';
import { Context, createKey } from '../../core/context';
import { clone } from '../../core/conn';
import { clientMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';
import { eventFactoryKey } from '../begin';
import { clientConnKey } from '../dial';
import { watchConnection } from './eventloop';
import { healer } from './healer';
import { checkLiveness } from './liveness';

const loopKey = createKey<() => void>('heal.loop');

export interface HealOptions {
  /** Time between reselect attempts. */
  attemptAfterMs?: number;
  /**
   * Data-path check: true when the far end answers, false when it does not, undefined when it cannot
   * tell (nothing to ask). Asked while healing (see healer.ts) and, with `livenessIntervalMs`, all along.
   */
  livenessCheck?: (conn: Connection) => Promise<boolean | undefined>;
  /** Period of the check while the connection is up; 0 or unset: asked only while healing. */
  livenessIntervalMs?: number;
  /** Called after a heal succeeds, with the time it took since trouble was detected. */
  onHealed?: (id: string, ms: number) => void;
  clock?: Clock;
}

export function heal(opts: HealOptions = {}): NetworkServiceElement {
  const startHealing = healer({ attemptAfterMs: opts.attemptAfterMs ?? 200, clock: opts.clock ?? realClock, onHealed: opts.onHealed });

  return {
    async request(ctx, req, next) {
      const watched = clientMeta(ctx).take(loopKey);
      watched?.();
      let out: Connection;
      try {
        out = await next.request(ctx, req);
      } catch (err) {
        // A re-request of a watched connection (a refresh) failed: its watch has just ended, and the
        // trouble that failed it (a restarted hop) may have been reported to that Request only. Heal
        // now, not at the next refresh minutes later.
        const factory = ctx.get(eventFactoryKey);
        if (watched && factory && req.connection?.id) startHealing(factory, req.connection.id, `re-request failed: ${(err as Error).message}`);
        throw err;
      }
      const factory = ctx.get(eventFactoryKey);
      const cc = clientMeta(ctx).get(clientConnKey);
      if (!factory || !cc) return out;
      // One loop per connection: the watch and the data-path check, both ended by the first trouble,
      // the next Request or Close.
      const { ctx: loopCtx, cancel } = Context.background().withCancel();
      const check = opts.livenessCheck;
      const snapshot = check && clone(out);
      const trouble = (reason: string, dataPathFailed = false) => {
        cancel();
        startHealing(factory, out.id, reason, dataPathFailed, check && (() => check(snapshot!)));
      };
      watchConnection(loopCtx, cc, out, (reason) => trouble(reason));
      if (opts.livenessCheck && (opts.livenessIntervalMs ?? 0) > 0) {
        checkLiveness(loopCtx, out, opts.livenessCheck, opts.livenessIntervalMs!, () => trouble('data path check failed', true));
      }
      clientMeta(ctx).set(loopKey, cancel);
      return out;
    },
    async close(ctx, conn, next) {
      clientMeta(ctx).take(loopKey)?.();
      return next.close(ctx, conn);
    },
  };
}
