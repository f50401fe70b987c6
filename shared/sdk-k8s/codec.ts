// Conversion between our registry messages and the custom-resource `spec`. The Go registry stores the
// protobuf structs through encoding/json, so the spec uses the Go field tags (snake_case) with
// `omitempty`, and a Timestamp is the struct `{seconds, nanos}`, not an RFC 3339 string (api.md §1.3,
// components.md §2). We write exactly that shape, so Go and TypeScript registries can share a cluster.
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import type { Timestamp } from '@nsm/api';
import type { RegistryKind } from '@nsm/sdk/core/recordkinds';

export const GROUP = 'networkservicemesh.io';
export const VERSION = 'v1';

type Json = Record<string, unknown>;
type StringMap = Record<string, string>;

/** What the store needs to know about one resource. */
export interface CrdCodec<T extends { name: string }> {
  readonly kind: RegistryKind;
  readonly plural: string;
  /** Prefix handed to metadata.generateName when a record comes without a name, if the kind allows it. */
  readonly generatePrefix?: string;
  toSpec(item: T): Json;
  /** `name` is metadata.name, the record's key. */
  fromSpec(spec: unknown, name: string): T;
}

/** A message value: encoding/json keeps a non-nil pointer even when all its fields are empty (`{}`). */
class Msg {
  constructor(readonly value: Json) {}
}

// encoding/json with omitempty drops "", 0, false, nil and empty maps and slices.
function obj(entries: [string, unknown][]): Json {
  const out: Json = {};
  for (const [k, v] of entries) {
    if (v instanceof Msg) out[k] = v.value;
    else if (v === undefined || v === null || v === '' || v === 0 || v === false) continue;
    else if (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0) continue;
    else out[k] = v;
  }
  return out;
}

const asObj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asStr = (v: unknown): string => (typeof v === 'string' ? v : '');
const asNum = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0);
const asStrings = (v: unknown): string[] => asArr(v).filter((s): s is string => typeof s === 'string');
/** Reads a key in its Go spelling, falling back to proto3-JSON camelCase for hand-written CRs. */
const field = (o: Json, snake: string, camel = snake): unknown => (o[snake] !== undefined ? o[snake] : o[camel]);

function stringMap(v: unknown): StringMap {
  const out: StringMap = {};
  for (const [k, s] of Object.entries(asObj(v))) if (typeof s === 'string') out[k] = s;
  return out;
}

function timestampToJson(ts: Timestamp | undefined): Msg | undefined {
  return ts && new Msg(obj([['seconds', ts.seconds], ['nanos', ts.nanos]]));
}

/** Accepts the Go struct form (seconds may be a string, as int64 is in proto3 JSON) and an RFC 3339 string. */
function timestampFromJson(v: unknown): Timestamp | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return rfc3339ToTimestamp(v);
  const o = asObj(v);
  return { seconds: asNum(o.seconds), nanos: asNum(o.nanos) };
}

function rfc3339ToTimestamp(s: string): Timestamp | undefined {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse stops at milliseconds; the fraction is read again for nanoseconds.
  const frac = /\.(\d{1,9})/.exec(s)?.[1] ?? '';
  return { seconds: Math.floor(ms / 1000), nanos: Number(frac.padEnd(9, '0') || 0) };
}

export const networkServiceCodec: CrdCodec<NetworkService> = {
  kind: 'NetworkService',
  plural: 'networkservices',
  toSpec: (ns) =>
    obj([
      ['name', ns.name],
      ['payload', ns.payload],
      [
        'matches',
        ns.matches.map((m) =>
          obj([
            ['source_selector', m.sourceSelector],
            ['routes', m.routes.map((r) => obj([['destination_selector', r.destinationSelector], ['weight', r.weight]]))],
            ['fallthrough', m.fallthrough],
            ['metadata', m.metadata ? new Msg(obj([['labels', m.metadata.labels]])) : undefined],
          ]),
        ),
      ],
      ['path_ids', ns.pathIds],
    ]),
  fromSpec: (spec, name) => {
    const s = asObj(spec);
    return NetworkService.fromPartial({
      name,
      payload: asStr(s.payload),
      matches: asArr(s.matches).map((mv) => {
        const m = asObj(mv);
        const md = field(m, 'metadata');
        return {
          sourceSelector: stringMap(field(m, 'source_selector', 'sourceSelector')),
          routes: asArr(m.routes).map((rv) => {
            const r = asObj(rv);
            return { destinationSelector: stringMap(field(r, 'destination_selector', 'destinationSelector')), weight: asNum(r.weight) };
          }),
          fallthrough: m.fallthrough === true,
          metadata: md && typeof md === 'object' ? { labels: stringMap(asObj(md).labels) } : undefined,
        };
      }),
      pathIds: asStrings(field(s, 'path_ids', 'pathIds')),
    });
  },
};

// The Go registry copies only name, service names, labels, url and expiration_time into the spec. We
// also keep initial_registration_time and path_ids (their Go json tags, so a Go reader understands
// them) because a store must return what it was given.
export const networkServiceEndpointCodec: CrdCodec<NetworkServiceEndpoint> = {
  kind: 'NetworkServiceEndpoint',
  plural: 'networkserviceendpoints',
  generatePrefix: 'nse-',
  toSpec: (nse) =>
    obj([
      ['name', nse.name],
      ['network_service_names', nse.networkServiceNames],
      [
        'network_service_labels',
        Object.fromEntries(Object.entries(nse.networkServiceLabels).map(([k, v]) => [k, obj([['labels', v?.labels ?? {}]])])),
      ],
      ['url', nse.url],
      ['expiration_time', timestampToJson(nse.expirationTime)],
      ['initial_registration_time', timestampToJson(nse.initialRegistrationTime)],
      ['path_ids', nse.pathIds],
    ]),
  fromSpec: (spec, name) => {
    const s = asObj(spec);
    const labels = asObj(field(s, 'network_service_labels', 'networkServiceLabels'));
    return NetworkServiceEndpoint.fromPartial({
      name,
      networkServiceNames: asStrings(field(s, 'network_service_names', 'networkServiceNames')),
      networkServiceLabels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, { labels: stringMap(asObj(v).labels) }])),
      url: asStr(s.url),
      expirationTime: timestampFromJson(field(s, 'expiration_time', 'expirationTime')),
      initialRegistrationTime: timestampFromJson(field(s, 'initial_registration_time', 'initialRegistrationTime')),
      pathIds: asStrings(field(s, 'path_ids', 'pathIds')),
    });
  },
};
