// Helpers shared by the VPP dataplane elements.
import type { Connection } from '@nsm/api';
import type { Context, Key } from '@nsm/sdk/core/context';
import { serverMeta, type Half } from '@nsm/sdk/core/metadata';
import { makeOnce, type NetworkServiceHandler } from '@nsm/sdk/core/networkservice';
import { log } from '@nsm/sdk/log';
import { xconnectKey, type VppInterfaceRecord } from './state';

/** Runs clean-up steps in order; each failure is logged and the rest still run. */
export async function releaseAll(what: string, steps: Array<() => Promise<unknown>>): Promise<void> {
  for (const step of steps) {
    await step().catch((err) => log.warn({ what, err: String(err) }, 'VPP dataplane clean-up step failed'));
  }
}

/** Element of an address list without the prefix length. */
export const hostOf = (cidr: string): string => cidr.split('/')[0];

/** Tag prefix of every VPP interface and bridge domain a forwarder makes for a connection, so that a
 *  successor finds what a crashed forwarder left (reconcile.ts). */
export const NSM_TAG_PREFIX = 'nsm:';

/** The tag of an interface made for connection `connId` (VPP keeps at most 63 bytes). */
export const connTag = (connId: string): string => `${NSM_TAG_PREFIX}${connId}`.slice(0, 63);

/**
 * makeOnce for a VPP interface that depends on what the other side sent (a peer key, a VNI): a refresh
 * with the same `sig` keeps the record; with another (the peer forwarder restarted and made a new
 * key) the old interface goes and a new one is made, which the cross-connect then follows.
 */
export async function makeForSig(
  ctx: Context,
  next: Pick<NetworkServiceHandler, 'close'>,
  out: Connection,
  records: Half,
  key: Key<VppInterfaceRecord>,
  sig: string,
  make: () => Promise<VppInterfaceRecord>,
): Promise<Connection> {
  const prev = records.get(key);
  if (prev && prev.sig !== sig) {
    // The cross-connect first: VPP 25.02 crashes when an interface goes while a route still uses it.
    await serverMeta(ctx).take(xconnectKey)?.undo();
    records.delete(key);
    await prev.release();
  }
  return makeOnce(ctx, next, out, records, key, async () => Object.assign(await make(), { sig }));
}
