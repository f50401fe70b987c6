// timeout (sdk.md §3.7): a hop keeps a connection only while its caller's token is valid. When the
// caller's segment expires without a refresh, the connection is closed from begin onwards.
import { createKey } from '../../core/context';
import type { Clock, TimerHandle } from '../../core/clock';
import { realClock } from '../../core/clock';
import { currentSegment, fromTimestamp, prevSegment } from '../../core/conn';
import { Code, codeOf, invalidArgument } from '../../core/errors';
import { serverMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';
import { eventFactoryKey } from '../begin';
import { log } from '../../log';

const timerKey = createKey<TimerHandle>('timeout.timer');
export const EXPIRY_CLOSE_ATTEMPTS = 5;
export const EXPIRY_CLOSE_RETRY_MS = 1000;

export function timeout(clock: Clock = realClock): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      // A caller that sent no path of its own gets this hop's own lease: nobody refreshes it for them.
      const lease = (out.path?.index ?? 0) > 0 ? prevSegment(out) : currentSegment(out);
      const expires = fromTimestamp(lease?.expires);
      if (expires === undefined) {
        // Undo downstream so that nothing lives on without a lease.
        await next.close(ctx, out).catch(() => undefined);
        throw invalidArgument('expiration for the previous path segment is missing (no nsm-client-token-expires from the caller?)');
      }
      const factory = ctx.get(eventFactoryKey);
      const meta = serverMeta(ctx);
      meta.take(timerKey)?.cancel();
      const id = out.id;
      // A failed close (a slow or restarting next hop) is tried again: nobody else would close it.
      const expire = (attempt: number): void => {
        factory?.close().catch((err) => {
          if (attempt >= EXPIRY_CLOSE_ATTEMPTS) {
            log.warn({ id, attempt, err: String(err) }, 'expiry close failed; giving up');
            return;
          }
          log.warn({ id, attempt, err: String(err) }, 'expiry close failed; trying again');
          clock.after(EXPIRY_CLOSE_RETRY_MS, () => expire(attempt + 1));
        });
      };
      const timer = clock.after(expires - clock.now(), () => {
        log.info({ id }, 'caller token expired without a refresh; closing the connection');
        expire(1);
      });
      meta.set(timerKey, timer);
      return out;
    },
    async close(ctx, conn, next) {
      try {
        await next.close(ctx, conn);
      } catch (err) {
        const code = codeOf(err);
        if (code !== Code.DEADLINE_EXCEEDED && code !== Code.CANCELLED) serverMeta(ctx).take(timerKey)?.cancel();
        throw err;
      }
      serverMeta(ctx).take(timerKey)?.cancel();
    },
  };
}
