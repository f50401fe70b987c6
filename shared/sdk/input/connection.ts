// Whole NetworkService messages: a Request (connection and mechanism preferences), a Connection (a
// Close, a reply of the next hop, a monitor event) and a MonitorScopeSelector, every field parsed and
// bounded; and the per-call token metadata that ends up in a path segment.
import { Connection, Label, MonitorScopeSelector, NetworkServiceRequest, PathSegment, Payload, Timestamp } from '@nsm/api';
import { invalidArgument } from '../core/errors';
import { checkContext } from './context';
import { isDnsName } from './formats';
import { Limits, MAX_TIMESTAMP_SECONDS } from './limits';
import { checkMechanism, checkPreferences } from './mechanism';
import { checkBytes, checkFormat, checkText, entries, keyPath, list, malformed, requireString, show } from './text';
import { checkDomain, isInterdomain } from './interdomain';

/** Connection and segment ids: printable ASCII without spaces, quotes or backslashes (UUIDs, `nsc-1`). */
const ID = /^[\x21-\x7e]+$/;
const ID_EXCLUDED = /["'`\\]/;
/** A JWT in compact form (base64url segments and dots); standard base64 characters tolerated. */
const TOKEN = /^[A-Za-z0-9_\-.=+/]+$/;
const PAYLOADS = new Set<string>(['', Payload.IP, Payload.ETHERNET]);
/** Connection.State values api v1.15 knows: UP, DOWN, REFRESH_REQUESTED, RESELECT_REQUESTED. */
const MAX_STATE = 3;

/** A component or service name: at most 253 bytes, no whitespace or control characters. */
export function checkName(field: string, v: unknown, required = false): string {
  return checkText(field, v, Limits.nameBytes, { required, noSpace: true });
}

/** A network service or endpoint name: a name, whose `@domain` (interdomain, if any) is a DNS name or ip:port. */
export function checkServiceName(field: string, v: unknown, required = false): string {
  const s = checkName(field, v, required);
  if (isInterdomain(s)) checkDomain(field, s);
  return s;
}

export function checkId(field: string, v: unknown, required = false): string {
  const s = requireString(field, v);
  if (!s) {
    if (required) throw invalidArgument(`${field} must not be empty`);
    return s;
  }
  checkBytes(field, s, Limits.idBytes);
  if (!ID.test(s) || ID_EXCLUDED.test(s)) throw malformed(field, s, 'is not an id (printable ASCII without spaces, quotes or backslashes)');
  return s;
}

export function checkToken(field: string, v: unknown): string {
  const s = requireString(field, v);
  if (!s) return s;
  checkBytes(field, s, Limits.tokenBytes);
  if (!TOKEN.test(s)) throw malformed(field, s, 'is not a token (a JWT in compact form)');
  return s;
}

export function checkTimestamp(field: string, t: Timestamp | undefined): void {
  if (t === undefined || t === null) return;
  const ok =
    typeof t === 'object' &&
    Number.isInteger(t.seconds) &&
    Number.isInteger(t.nanos) &&
    t.seconds >= 0 &&
    t.seconds <= MAX_TIMESTAMP_SECONDS &&
    t.nanos >= 0 &&
    t.nanos < 1e9;
  if (!ok) throw invalidArgument(`${field}: {seconds: ${show(String(t?.seconds))}, nanos: ${show(String(t?.nanos))}} is not a time between 1970 and 9999`);
}

/** A label map: at most 64 entries; keys without whitespace or control characters, values without control characters. */
export function checkLabels(field: string, m: Record<string, string> | undefined): void {
  for (const [k, v] of entries(field, m, Limits.labels)) {
    checkText(`${field} key`, k, Limits.labelKeyBytes, { required: true, noSpace: true });
    checkText(keyPath(field, k), v, Limits.labelValueBytes);
  }
}

function checkSegment(field: string, s: PathSegment): void {
  if (!s || typeof s !== 'object') throw invalidArgument(`${field} is not a path segment`);
  checkName(`${field}.name`, s.name);
  checkId(`${field}.id`, s.id);
  checkToken(`${field}.token`, s.token);
  checkTimestamp(`${field}.expires`, s.expires);
  for (const [k, v] of entries(`${field}.metrics`, s.metrics, Limits.metrics)) {
    checkText(`${field}.metrics key`, k, Limits.metricKeyBytes, { required: true, noSpace: true });
    checkText(keyPath(`${field}.metrics`, k), v, Limits.metricValueBytes);
  }
}

/** Every field of a Connection; `field` is its path (`connection`, `request.connection`, ...). */
export function checkConnection(field: string, c: Connection | undefined): void {
  if (!c || typeof c !== 'object') throw invalidArgument(`${field} is required`);
  checkId(`${field}.id`, c.id);
  checkServiceName(`${field}.network_service`, c.networkService);
  checkServiceName(`${field}.network_service_endpoint_name`, c.networkServiceEndpointName);
  const payload = requireString(`${field}.payload`, c.payload ?? '');
  if (!PAYLOADS.has(payload)) throw malformed(`${field}.payload`, payload, 'is not a payload (IP or ETHERNET)');
  const state = c.state ?? 0;
  if (!Number.isInteger(state) || state < 0 || state > MAX_STATE) throw malformed(`${field}.state`, String(state), 'is not a connection state (0-3)');
  checkLabels(`${field}.labels`, c.labels);
  // The remote VLAN mechanism picks the host NIC by this label (a service domain, api.md §5.1).
  const via = c.labels?.[Label.via];
  if (via) checkFormat(keyPath(`${field}.labels`, Label.via), via, isDnsName, 'a service domain (a DNS name)');
  checkMechanism(`${field}.mechanism`, c.mechanism);
  checkContext(`${field}.context`, c.context);
  const path = c.path;
  if (path) {
    const segs = list(`${field}.path.path_segments`, path.pathSegments, Limits.pathSegments);
    if (!Number.isInteger(path.index) || path.index < 0 || (segs.length > 0 && path.index >= segs.length)) {
      throw invalidArgument(`${field}.path.index ${Number.isFinite(path.index) ? path.index : show(String(path.index))} is out of range: the path has ${segs.length} segment(s)`);
    }
    segs.forEach((s, i) => checkSegment(`${field}.path.path_segments[${i}]`, s));
  }
}

/** A Request as a server receives it. */
export function checkRequest(r: NetworkServiceRequest | undefined): void {
  if (!r || typeof r !== 'object') throw invalidArgument('request is required');
  if (!r.connection) throw invalidArgument('request.connection is required');
  checkConnection('connection', r.connection);
  if (!r.connection.networkService) throw invalidArgument('connection.network_service must not be empty');
  checkPreferences('mechanism_preferences', r.mechanismPreferences);
}

/** A Close as a server receives it. */
export function checkClose(c: Connection | undefined): void {
  checkConnection('connection', c);
}

/** A MonitorConnections selector: a bounded pattern of segments and service names. */
export function checkSelector(s: MonitorScopeSelector | undefined): void {
  if (!s) return;
  list('path_segments', s.pathSegments, Limits.pathSegments).forEach((seg, i) => checkSegment(`path_segments[${i}]`, seg));
  list('network_services', s.networkServices, Limits.selectorServices).forEach((n, i) => checkName(`network_services[${i}]`, n, true));
}

/** RFC 3339 as Go writes it (api.md §5.4), e.g. 2024-01-02T03:04:05.123456789Z or +01:00. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** The token and its expiry from the call metadata (nsm-client-token, nsm-client-token-expires). */
export function checkTokenMetadata(md: Record<string, string> | undefined, tokenKey: string, expiresKey: string): void {
  if (!md) return;
  if (md[tokenKey] !== undefined) checkToken(`metadata ${tokenKey}`, md[tokenKey]);
  const exp = md[expiresKey];
  if (exp !== undefined && exp !== '' && (exp.length > 64 || !RFC3339.test(exp) || Number.isNaN(Date.parse(exp)))) {
    throw malformed(`metadata ${expiresKey}`, exp, 'is not an RFC 3339 time');
  }
}
