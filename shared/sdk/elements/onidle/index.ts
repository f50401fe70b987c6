// onidle (sdk.md §3.27): an endpoint with no connections for the idle timeout retires itself.
import type { Clock, TimerHandle } from '../../core/clock';
import { realClock } from '../../core/clock';
import { unavailable } from '../../core/errors';
import type { NetworkServiceElement } from '../../core/networkservice';

export function onIdle(timeoutMs: number, notify: () => void, clock: Clock = realClock): NetworkServiceElement {
  if (timeoutMs <= 0) return {};
  const active = new Set<string>();
  let expired = false;
  let timer: TimerHandle | undefined;
  const arm = () => {
    timer?.cancel();
    timer = clock.after(timeoutMs, () => {
      if (active.size === 0 && !expired) {
        expired = true;
        notify();
      }
    });
  };
  arm();
  return {
    async request(ctx, req, next) {
      if (expired) throw unavailable('endpoint expired (idle timeout)');
      const id = req.connection!.id;
      const isNew = !active.has(id);
      if (isNew) {
        active.add(id);
        timer?.cancel();
      }
      try {
        return await next.request(ctx, req);
      } catch (err) {
        if (isNew) {
          active.delete(id);
          if (active.size === 0) arm();
        }
        throw err;
      }
    },
    async close(ctx, conn, next) {
      active.delete(conn.id);
      if (active.size === 0 && !expired) arm();
      return next.close(ctx, conn);
    },
  };
}
