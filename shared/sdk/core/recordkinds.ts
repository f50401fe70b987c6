// What differs between the two registries, in one place: how a record is named on the wire, what an
// empty template looks like, how a query template matches a record (api.md §8.5, with the later exact
// name rule) and what makes a record malformed. The registry elements (shared/sdk/registry), chains and
// gRPC edge are generic over it.
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { invalidArgument } from './errors';

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
  /** Throws INVALID_ARGUMENT naming the first bad field of a record about to be registered. */
  validate(item: T | undefined): void;
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

// Label keys and names: printable, no whitespace; Kubernetes-style length limits.
// eslint-disable-next-line no-control-regex -- control characters are what this rejects
const badText = /[\s\u0000-\u001f\u007f]/;

function checkName(field: string, name: string, required: boolean): void {
  if (typeof name !== 'string') throw invalidArgument(`${field} must be a string`);
  if (!name) {
    if (required) throw invalidArgument(`${field} must not be empty`);
    return;
  }
  if (name.length > 253) throw invalidArgument(`${field} is longer than 253 characters`);
  if (badText.test(name)) throw invalidArgument(`${field} "${name}" contains whitespace or control characters`);
}

function checkLabelMap(field: string, m: Record<string, string> | undefined): void {
  if (m === undefined || m === null) return;
  if (typeof m !== 'object') throw invalidArgument(`${field} must be a map`);
  for (const [k, v] of Object.entries(m)) {
    if (!k) throw invalidArgument(`${field} has an empty key`);
    if (k.length > 317 || badText.test(k)) throw invalidArgument(`${field} key "${k}" is not a valid label key`);
    if (typeof v !== 'string') throw invalidArgument(`${field}["${k}"] must be a string`);
    // eslint-disable-next-line no-control-regex -- control characters are what this rejects
    if (/[\u0000-\u001f\u007f]/.test(v)) throw invalidArgument(`${field}["${k}"] contains control characters`);
  }
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
  validate(ns) {
    if (!ns) throw invalidArgument('network_service is required');
    checkName('network_service.name', ns.name, true);
    if (ns.payload && badText.test(ns.payload)) throw invalidArgument(`network_service.payload "${ns.payload}" is malformed`);
    (ns.matches ?? []).forEach((m, i) => {
      const f = `network_service.matches[${i}]`;
      if (!m) throw invalidArgument(`${f} is empty`);
      checkLabelMap(`${f}.source_selector`, m.sourceSelector);
      (m.routes ?? []).forEach((d, j) => {
        if (!d) throw invalidArgument(`${f}.routes[${j}] is empty`);
        checkLabelMap(`${f}.routes[${j}].destination_selector`, d.destinationSelector);
      });
      checkLabelMap(`${f}.metadata.labels`, m.metadata?.labels);
    });
  },
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
  validate(nse) {
    if (!nse) throw invalidArgument('network_service_endpoint is required');
    const empty =
      !nse.name && !nse.url && (nse.networkServiceNames ?? []).length === 0 && isEmptyMap(nse.networkServiceLabels);
    if (empty) throw invalidArgument('network_service_endpoint is empty: it needs at least a url and network_service_names');
    checkName('network_service_endpoint.name', nse.name, false);
    if (!nse.url) throw invalidArgument('network_service_endpoint.url must not be empty');
    if (badText.test(nse.url) || !(/^[a-z][a-z0-9+.-]*:/i.test(nse.url) || /^[^/:]+:\d+$/.test(nse.url)))
      throw invalidArgument(`network_service_endpoint.url "${nse.url}" is not a URL (want unix:///path or tcp://host:port)`);
    (nse.networkServiceNames ?? []).forEach((n, i) => checkName(`network_service_endpoint.network_service_names[${i}]`, n, true));
    for (const [svc, l] of Object.entries(nse.networkServiceLabels ?? {})) {
      if (!svc) throw invalidArgument('network_service_endpoint.network_service_labels has an empty service name');
      if (badText.test(svc)) throw invalidArgument(`network_service_endpoint.network_service_labels key "${svc}" is not a valid service name`);
      checkLabelMap(`network_service_endpoint.network_service_labels["${svc}"].labels`, l?.labels);
    }
    const t = nse.expirationTime;
    if (t && (!Number.isFinite(t.seconds) || t.seconds < 0 || t.nanos < 0 || t.nanos >= 1e9))
      throw invalidArgument('network_service_endpoint.expiration_time is out of range');
  },
};
