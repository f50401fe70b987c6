import { Connection } from '@nsm/api';
import { Context } from '../../core/context';
import { NetworkServiceHandler } from '../../core/networkservice';
import { bg, conn, req } from '../../testing/elements';
import { requestWithRetry } from './index';

function flaky(failures: number) {
  const s = { calls: 0, remaining: [] as (number | undefined)[] };
  const h: NetworkServiceHandler = {
    async request(ctx, r) {
      s.calls++;
      s.remaining.push(ctx.remaining());
      r.connection!.labels.touched = String(s.calls);
      if (s.calls <= failures) throw new Error(`attempt ${s.calls} failed`);
      return r.connection as Connection;
    },
    close: async () => undefined,
  };
  return Object.assign(s, { h });
}

describe('requestWithRetry', () => {
  test('retries until a request succeeds, each attempt with a fresh clone and its own time limit', async () => {
    const f = flaky(2);
    const failed: [string, number][] = [];
    const r = req(conn({ id: 'x' }));
    const out = await requestWithRetry(bg(), f.h, r, { intervalMs: 1, tryTimeoutMs: 5000, onAttemptFailed: (e, n) => failed.push([(e as Error).message, n]) });
    expect(f.calls).toBe(3);
    expect(failed).toEqual([['attempt 1 failed', 1], ['attempt 2 failed', 2]]);
    expect(out.labels.touched).toBe('3');
    expect(r.connection!.labels).toEqual({});
    expect(f.remaining.every((ms) => ms !== undefined && ms > 4000 && ms <= 5000)).toBe(true);
  });

  test('stops when the caller gives up', async () => {
    const f = flaky(Infinity);
    const { ctx, cancel } = Context.background().withCancel();
    const p = requestWithRetry(ctx, f.h, req(conn({ id: 'x' })), { intervalMs: 5, onAttemptFailed: () => undefined });
    await new Promise((r) => setTimeout(r, 30));
    cancel(new Error('caller gave up'));
    await expect(p).rejects.toThrow(/caller gave up|attempt \d+ failed/);
    const calls = f.calls;
    await new Promise((r) => setTimeout(r, 30));
    expect(f.calls).toBe(calls);
  });

  test('an attempt is limited by the try timeout even when it hangs', async () => {
    let calls = 0;
    const hanging: NetworkServiceHandler = {
      request: (ctx, r) =>
        new Promise((resolve, reject) => {
          if (++calls > 1) return resolve(r.connection!);
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        }),
      close: async () => undefined,
    };
    const out = await requestWithRetry(bg(), hanging, req(conn({ id: 'x' })), { intervalMs: 1, tryTimeoutMs: 20, onAttemptFailed: () => undefined });
    expect(out.id).toBe('x');
    expect(calls).toBe(2);
  });
});
