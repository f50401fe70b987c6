// Registry ownership (phase-2 sketch, used by registry elements): only the identity that registered
// an NSE may refresh or unregister it. The owner travels in the record itself (path_ids[0], the
// first hop of the registration path, as later upstream registries keep it), so a store that
// survives a registry restart keeps ownership too (upstream api#148: a rogue endpoint could take a
// name over after a restart when ownership lived only in memory).
import type { NetworkServiceEndpoint } from '@nsm/api';
import { Code, StatusError } from '../core/errors';

export type RegistryOp = 'register' | 'unregister';

export const ownerOf = (nse: Pick<NetworkServiceEndpoint, 'pathIds'> | undefined): string | undefined => nse?.pathIds?.[0] || undefined;

/** The record as stored: owned by `owner` (the caller's SPIFFE ID), other path ids dropped. */
export function withOwner<T extends Pick<NetworkServiceEndpoint, 'pathIds'>>(nse: T, owner: string | undefined): T {
  return owner ? { ...nse, pathIds: [owner] } : nse;
}

/**
 * Decides whether `caller` may `op` the NSE `name` whose stored record is `stored` (undefined: not
 * registered). A caller without an identity is an in-process or timer-driven call and is trusted;
 * a record without an owner (registered before ownership existed) may be taken by anyone once.
 */
export function checkOwnership(op: RegistryOp, name: string, stored: Pick<NetworkServiceEndpoint, 'pathIds'> | undefined, caller: string | undefined): void {
  const owner = ownerOf(stored);
  if (caller === undefined || owner === undefined || owner === caller) return;
  const verb = op === 'register' ? 'refresh or replace' : 'unregister';
  throw new StatusError(Code.PERMISSION_DENIED, `network service endpoint "${name}" belongs to ${owner}; ${caller} may not ${verb} it`);
}
