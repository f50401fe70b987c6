// What differs between the two registries, in one place: how a record is named on the wire, what an
// empty template looks like, how a query template matches a record (api.md §8.5, with the later exact
// name rule) and what makes a record or a template malformed (the checks live in input/registry.ts).
// The registry elements (shared/sdk/registry), chains and gRPC edge are generic over it.
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { checkNetworkService, checkNetworkServiceEndpoint } from '../input/registry';

/** The two record types of the registry API. */
export type RegistryKind = 'NetworkService' | 'NetworkServiceEndpoint';

export interface RecordKind<T extends { name: string }> {
  readonly kind: RegistryKind;
  /** The proto field name of the record in queries and responses, used in error messages. */
  readonly field: 'network_service' | 'network_service_endpoint';
  empty(): T;
  /** A template matching exactly one name. */
  byName(name: string): T;
  clone(item: T): T;
  /** True when `item` satisfies the query template `query`. */
  matches(query: T, item: T): boolean;
  /** Throws INVALID_ARGUMENT (malformed) or RESOURCE_EXHAUSTED (too large) naming the first bad field of a record about to be registered. */
  validate(item: T | undefined): void;
  /** The same for a template (a Find query, an Unregister): every field may be empty. */
  validateTemplate(item: T | undefined): void;
}

const isEmptyMap = (m: object | undefined) => !m || Object.keys(m).length === 0;

/** Every (k, v) of `want` is in `have`. */
export function isSubset(have: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean {
  if (!want) return true;
  for (const [k, v] of Object.entries(want)) if (!have || have[k] !== v) return false;
  return true;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export const nsKind: RecordKind<NetworkService> = {
  kind: 'NetworkService',
  field: 'network_service',
  empty: () => NetworkService.fromPartial({}),
  byName: (name) => NetworkService.fromPartial({ name }),
  clone: (item) => structuredClone(item),
  matches(q, r) {
    if (q.name && q.name !== r.name) return false;
    if (q.payload && q.payload !== r.payload) return false;
    if (q.matches && q.matches.length > 0 && !deepEqual(q.matches, r.matches ?? [])) return false;
    return true;
  },
  validate: (ns) => checkNetworkService('network_service', ns, 'record'),
  validateTemplate: (ns) => checkNetworkService('network_service', ns, 'template'),
};

export const nseKind: RecordKind<NetworkServiceEndpoint> = {
  kind: 'NetworkServiceEndpoint',
  field: 'network_service_endpoint',
  empty: () => NetworkServiceEndpoint.fromPartial({}),
  byName: (name) => NetworkServiceEndpoint.fromPartial({ name }),
  clone: (item) => structuredClone(item),
  matches(q, r) {
    if (q.name && q.name !== r.name) return false;
    if (!isEmptyMap(q.networkServiceLabels)) {
      for (const [svc, want] of Object.entries(q.networkServiceLabels)) {
        const have = r.networkServiceLabels?.[svc];
        if (!have || !isSubset(have.labels, want?.labels)) return false;
      }
    }
    if (q.expirationTime && q.expirationTime.seconds !== r.expirationTime?.seconds) return false;
    if (q.networkServiceNames && q.networkServiceNames.length > 0) {
      const names = new Set(r.networkServiceNames ?? []);
      if (!q.networkServiceNames.every((n) => names.has(n))) return false;
    }
    if (q.url && !(r.url ?? '').includes(q.url)) return false;
    return true;
  },
  validate: (nse) => checkNetworkServiceEndpoint('network_service_endpoint', nse, 'record'),
  validateTemplate: (nse) => checkNetworkServiceEndpoint('network_service_endpoint', nse, 'template'),
};
