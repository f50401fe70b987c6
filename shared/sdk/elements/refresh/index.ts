// refresh (sdk.md §3.18): the client re-requests before its own token expires, so every hop along the
// path gets a fresh caller token and resets its timeout. Only the client refreshes.
import { createKey } from '../../core/context';
import type { Clock, TimerHandle } from '../../core/clock';
import { realClock } from '../../core/clock';
import { currentSegment, fromTimestamp } from '../../core/conn';
import { clientMeta } from '../../core/metadata';
import { internal } from '../../core/errors';
import type { NetworkServiceElement } from '../../core/networkservice';
import { eventFactoryKey } from '../begin';
import { log } from '../../log';

const timerKey = createKey<{ timer?: TimerHandle; stopped: boolean }>('refresh.timer');

/** Fraction of the remaining lifetime after which to refresh (sdk.md §6.1). */
export function refreshScale(index: number, segments: number): number {
  return segments <= 1 ? 1 / 3 : 0.2 + (0.2 * index) / segments;
}

export function refresh(clock: Clock = realClock): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      const expires = fromTimestamp(currentSegment(out)?.expires);
      if (expires === undefined) {
        await next.close(ctx, out).catch(() => undefined);
        throw internal('the returned connection has no expiry on its own path segment; cannot refresh it');
      }
      const meta = clientMeta(ctx);
      const prev = meta.take(timerKey);
      if (prev) {
        prev.stopped = true;
        prev.timer?.cancel();
      }
      const factory = ctx.get(eventFactoryKey);
      if (!factory) return out;
      const state = { stopped: false, timer: undefined as TimerHandle | undefined };
      const period = Math.max(1, (expires - clock.now()) * refreshScale(out.path?.index ?? 0, out.path?.pathSegments.length ?? 0));
      const tick = () => {
        if (state.stopped) return;
        factory.request().then(
          () => undefined,
          (err) => {
            log.warn({ id: factory.id, err: String(err) }, 'refresh failed; retrying');
            if (!state.stopped) state.timer = clock.after(period, tick);
          },
        );
      };
      state.timer = clock.after(period, tick);
      meta.set(timerKey, state);
      return out;
    },
    async close(ctx, conn, next) {
      const s = clientMeta(ctx).take(timerKey);
      if (s) {
        s.stopped = true;
        s.timer?.cancel();
      }
      return next.close(ctx, conn);
    },
  };
}
