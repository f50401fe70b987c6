// Helpers shared by the VPP dataplane elements.
import { log } from '@nsm/sdk/log';

/** Runs clean-up steps in order; each failure is logged and the rest still run. */
export async function releaseAll(what: string, steps: Array<() => Promise<unknown>>): Promise<void> {
  for (const step of steps) {
    await step().catch((err) => log.warn({ what, err: String(err) }, 'VPP dataplane clean-up step failed'));
  }
}

/** Element of an address list without the prefix length. */
export const hostOf = (cidr: string): string => cidr.split('/')[0];
