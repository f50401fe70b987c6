// Registry ownership: only the identity that registered an NSE may refresh or unregister it, and only
// through the same relays. A record's owner is its registration path, `path_ids` (api.md §8.8): the
// SPIFFE IDs of the registrant and of every registry hop that passed it on, e.g. [NSE, its nsmgr] at
// the central registry. The path travels in the record itself, so a store that survives a registry
// restart (the Kubernetes store keeps path_ids) keeps ownership too: upstream api#148, a rogue
// endpoint taking a name over after a restart, is refused as long as the record is kept.
//
// Why the whole path and not only its first ID: a registry learns the registrant from the relay that
// passed the call on (the nsmgr); any authenticated caller could claim to be a relay, so a claim is
// only as good as the relay it came through. Comparing whole paths refuses a claim that names the
// owner but arrives through another relay (a rogue pod dialling the central registry directly).
import type { NetworkServiceEndpoint } from '@nsm/api';
import { Code, StatusError, invalidArgument, permissionDenied } from '../core/errors';
import { spiffeIdError } from '../spiffe/id';

export type RegistryOp = 'register' | 'unregister';

/** Longest registration path accepted: registrant, nsmgr, proxies. */
export const MAX_PATH_IDS = 8;

/** The registrant: the first ID of the registration path. */
export const ownerOf = (nse: Pick<NetworkServiceEndpoint, 'pathIds'> | undefined): string | undefined => nse?.pathIds?.[0] || undefined;

/**
 * The registration path of a call arriving from TLS peer `caller` with the claimed `pathIds`: the
 * caller itself when it claims nothing (a direct registrant, or a v1.1.1 client); the claim when it
 * ends with the caller (each hop appends its own ID before passing a record on). Anything else is
 * refused: a caller cannot speak for a path it is not the last hop of.
 */
export function registrationPath(pathIds: readonly string[] | undefined, caller: string): string[] {
  const ids = pathIds ?? [];
  if (ids.length === 0) return [caller];
  if (ids.length > MAX_PATH_IDS) throw invalidArgument(`network_service_endpoint.path_ids has ${ids.length} entries; at most ${MAX_PATH_IDS}`);
  ids.forEach((id, i) => {
    const err = spiffeIdError(id);
    if (err) throw invalidArgument(`network_service_endpoint.path_ids[${i}] is not a SPIFFE ID: ${err}`);
  });
  if (ids[ids.length - 1] !== caller) {
    throw permissionDenied(`network_service_endpoint.path_ids ends with ${ids[ids.length - 1]}, but the caller is ${caller}`);
  }
  return [...ids];
}

const samePath = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Decides whether a call with registration path `path` may `op` the NSE `name` whose stored record is
 * `stored` (undefined: not registered). `path` undefined is an in-process or timer-driven call (an
 * expiry) and is trusted; a record without a path (registered before ownership existed) may be taken.
 */
export function checkOwnership(op: RegistryOp, name: string, stored: Pick<NetworkServiceEndpoint, 'pathIds'> | undefined, path: readonly string[] | undefined): void {
  const owner = stored?.pathIds ?? [];
  if (path === undefined || owner.length === 0 || samePath(owner, path)) return;
  const verb = op === 'register' ? 'refresh or replace' : 'unregister';
  const via = (p: readonly string[]) => (p.length > 1 ? ` (via ${p.slice(1).join(', ')})` : '');
  throw new StatusError(Code.PERMISSION_DENIED, `network service endpoint "${name}" belongs to ${owner[0]}${via(owner)}; ${path[0]}${via(path)} may not ${verb} it`);
}
