// Helpers shared by the VPP dataplane elements.
import type { Connection } from '@nsm/api';
import { clone } from '@nsm/sdk/core/conn';
import type { Context } from '@nsm/sdk/core/context';
import type { NetworkServiceHandler } from '@nsm/sdk/core/networkservice';
import { log } from '@nsm/sdk/log';

/** Closes downstream when this hop cannot finish its part, so nothing is left half-made. */
export async function undo(ctx: Context, next: NetworkServiceHandler, conn: Connection): Promise<void> {
  const { ctx: c, cancel } = ctx.detached();
  await next.close(c, clone(conn)).catch(() => undefined);
  cancel();
}

/** Runs clean-up steps in order; each failure is logged and the rest still run. */
export async function releaseAll(what: string, steps: Array<() => Promise<unknown>>): Promise<void> {
  for (const step of steps) {
    await step().catch((err) => log.warn({ what, err: String(err) }, 'VPP dataplane clean-up step failed'));
  }
}

/** Element of an address list without the prefix length. */
export const hostOf = (cidr: string): string => cidr.split('/')[0];
