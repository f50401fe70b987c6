// Interface names: validation and derivation.
//
// Host-side names are derived from the connection id by hashing rather than by random choice, so a
// restarted forwarder recomputes the same name and finds (or deletes) what its predecessor made.
// Upstream OVS uses `tapsrc-<first 8 chars of the id>`; hashing keeps the same shape but also copes
// with ids that are not UUIDs or that share a prefix.
import { createHash, randomBytes } from 'node:crypto';
import { invalidArgument } from '@nsm/sdk/core/errors';

/** Linux IFNAMSIZ - 1. */
export const IF_NAME_MAX = 15;

/** Temporary names start with this, so leftovers of a crash mid-creation are recognisable. */
export const TEMP_IF_PREFIX = 'nsmtmp';

export function isValidIfName(name: string): boolean {
  // The kernel rejects '/', ':' and whitespace, and '.' / '..'; ip's batch parser would split on spaces.
  return name.length > 0 && name.length <= IF_NAME_MAX && !/[\s/:'"\\]/.test(name) && name !== '.' && name !== '..';
}

export function assertIfName(name: string): string {
  if (!isValidIfName(name)) {
    throw invalidArgument(`invalid interface name "${name}" (1-${IF_NAME_MAX} chars, no '/', ':', quotes or spaces)`);
  }
  return name;
}

/** `<prefix>-<hex hash of id>` cut to 15 characters; the same id always gives the same name. */
export function deriveIfName(prefix: string, id: string): string {
  if (!/^[a-z0-9]{1,9}$/.test(prefix)) throw invalidArgument(`invalid interface name prefix "${prefix}"`);
  const room = IF_NAME_MAX - prefix.length - 1;
  return `${prefix}-${createHash('sha256').update(id).digest('hex').slice(0, room)}`;
}

/**
 * Host-side (OVS port) end of the veth for one side of a connection: `tapsrc-xxxxxxxx` for the
 * NSC-facing (server) side, `tapdst-xxxxxxxx` for the NSE-facing (client) side, as upstream names them.
 */
export function hostIfName(connectionId: string, side: 'src' | 'dst'): string {
  return deriveIfName(`tap${side}`, connectionId);
}

/** A random name for the moment between creating a pod-side end and renaming it. */
export function tempIfName(): string {
  return `${TEMP_IF_PREFIX}${randomBytes(5).toString('hex').slice(0, IF_NAME_MAX - TEMP_IF_PREFIX.length)}`;
}
