// The heal client's data-path check: every `intervalMs` it runs `check` (for example a ping of the far
// address) on a snapshot of the connection, and reports the first failure (false), which catches a broken
// data path that no control-plane event shows. It ends with ctx.
import type { Connection } from '@nsm/api';
import { Context, sleep } from '../../core/context';
import { clone } from '../../core/conn';

export function checkLiveness(ctx: Context, conn: Connection, check: (conn: Connection) => Promise<boolean | undefined>, intervalMs: number, onDead: () => void): void {
  const snapshot = clone(conn);
  void (async () => {
    while (!ctx.done) {
      await sleep(ctx, intervalMs).catch(() => undefined);
      if (ctx.done) return;
      const alive = await check(snapshot).catch(() => false);
      // undefined: the check cannot tell (nothing to ask), which is no failure.
      if (alive === false && !ctx.done) {
        onDead();
        return;
      }
    }
  })();
}
