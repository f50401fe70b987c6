// retry (sdk.md §3.20): a client keeps trying a first Request (each attempt with its own time limit)
// until it succeeds or the caller gives up.
import type { Connection, NetworkServiceRequest } from '@nsm/api';
import { Context, sleep } from '../../core/context';
import { clone } from '../../core/conn';
import type { NetworkServiceHandler } from '../../core/networkservice';
import { log } from '../../log';

export interface RetryOptions {
  intervalMs?: number;
  tryTimeoutMs?: number;
  onAttemptFailed?: (err: unknown, attempt: number) => void;
}

export async function requestWithRetry(ctx: Context, h: NetworkServiceHandler, req: NetworkServiceRequest, opts: RetryOptions = {}): Promise<Connection> {
  const interval = opts.intervalMs ?? 200;
  const tryTimeout = opts.tryTimeoutMs ?? 15_000;
  for (let attempt = 1; ; attempt++) {
    const { ctx: tryCtx, cancel } = ctx.withTimeout(tryTimeout);
    try {
      return await h.request(tryCtx, clone(req));
    } catch (err) {
      if (ctx.done) throw err;
      (opts.onAttemptFailed ?? ((e, n) => log.warn({ attempt: n, err: (e as Error).message }, 'request failed; retrying')))(err, attempt);
    } finally {
      cancel();
    }
    await sleep(ctx, interval);
  }
}
