import { Connection, Mechanism, MonitorScopeSelector, NetworkServiceRequest } from '@nsm/api';
import { Code } from '../core/errors';
import { checkClose, checkRequest, checkSelector, checkTokenMetadata } from './connection';

const many = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));
const seg = (p: object = {}) => ({ name: 'nsc', id: 'nsc-1', token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', expires: { seconds: 1_900_000_000, nanos: 0 }, metrics: {}, ...p });
const conn = (p: object = {}) => Connection.fromPartial({ id: 'nsc-1', networkService: 'icmp-responder', ...p });
const kernel = Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { name: 'nsm-1', inodeURL: 'file:///proc/1234/ns/net' } });
const request = (c: Connection, prefs: Mechanism[] = [kernel]): NetworkServiceRequest => ({ connection: c, mechanismPreferences: prefs });
const OK = undefined;
const BAD = Code.INVALID_ARGUMENT;
const BIG = Code.RESOURCE_EXHAUSTED;

type Case = [string, NetworkServiceRequest, Code | undefined, RegExp | undefined];

// One line per case: the Request, the code it gets (none: accepted), what the message says.
const requests: Case[] = [
  ['a first Request from an NSC', request(conn({ labels: { app: 'nsc' } })), OK, undefined],
  ['a refresh with a full path', request(conn({ path: { index: 0, pathSegments: [seg(), seg({ name: 'nsmgr-node1', id: '0b7c2a8e-1d2f-4c3b-9a1e-5f6a7b8c9d0e' })] }, state: 2 })), OK, undefined],
  ['no connection', { connection: undefined, mechanismPreferences: [] }, BAD, /request\.connection is required/],
  ['no network service', request(conn({ networkService: '' })), BAD, /connection\.network_service must not be empty/],
  ['a service name with a space', request(conn({ networkService: 'icmp responder' })), BAD, /connection\.network_service: "icmp responder" contains whitespace/],
  ['a service name of 254 bytes', request(conn({ networkService: 's'.repeat(254) })), BIG, /network_service: 254 bytes long, at most 253/],
  ['an id with a quote', request(conn({ id: "nsc-1'; drop" })), BAD, /connection\.id: "nsc-1'; drop" is not an id/],
  ['an id of 257 bytes', request(conn({ id: 'i'.repeat(257) })), BIG, /connection\.id: 257 bytes long/],
  ['a unicode id', request(conn({ id: 'nsc-é' })), BAD, /is not an id/],
  ['a bogus payload', request(conn({ payload: 'CARRIER' })), BAD, /payload: "CARRIER" is not a payload/],
  ['state 7', request(conn({ state: 7 })), BAD, /state: "7" is not a connection state/],
  ['state -1', request(conn({ state: -1 })), BAD, /state: "-1"/],
  ['65 labels', request(conn({ labels: Object.fromEntries(many(65, (i) => [`l${i}`, 'v'])) })), BIG, /connection\.labels: 65 entries, at most 64/],
  ['10,000 labels', request(conn({ labels: Object.fromEntries(many(10_000, (i) => [`l${i}`, 'v'.repeat(100)])) })), BIG, /connection\.labels: 10000 entries/],
  ['a label key with a newline', request(conn({ labels: { 'a\nb': 'v' } })), BAD, /labels key: "a\\nb" contains whitespace/],
  ['a label value of 513 bytes', request(conn({ labels: { k: 'v'.repeat(513) } })), BIG, /labels\["k"\]: 513 bytes long/],
  ['a label value with a bell', request(conn({ labels: { k: '\u0007' } })), BAD, /labels\["k"\]: "\\u0007" contains control characters/],
  ['a label value with a bidi override', request(conn({ labels: { k: 'abc\u202edef' } })), BAD, /contains control characters/],
  ['unicode label values are fine', request(conn({ labels: { k: 'zürich' } })), OK, undefined],
  ['a via label naming a service domain', request(conn({ labels: { via: 'gw1.example' } })), OK, undefined],
  ['a via label that is no domain', request(conn({ labels: { via: 'gw1; reboot' } })), BAD, /labels\["via"\]: "gw1; reboot" is not a service domain/],
  ['33 path segments', request(conn({ path: { index: 0, pathSegments: many(33, () => seg()) } })), BIG, /path\.path_segments: 33 entries, at most 32/],
  ['a path index past the end', request(conn({ path: { index: 3, pathSegments: [seg()] } })), BAD, /path\.index 3 is out of range/],
  ['a segment token with spaces', request(conn({ path: { index: 0, pathSegments: [seg({ token: 'a b' })] } })), BAD, /path_segments\[0\]\.token: "a b" is not a token/],
  ['a segment token of 9000 bytes', request(conn({ path: { index: 0, pathSegments: [seg({ token: 't'.repeat(9000) })] } })), BIG, /path_segments\[0\]\.token: 9000 bytes long/],
  ['an expiry in year 10000', request(conn({ path: { index: 0, pathSegments: [seg({ expires: { seconds: 253_402_300_800, nanos: 0 } })] } })), BAD, /expires: .* is not a time between 1970 and 9999/],
  ['an expiry with negative nanos', request(conn({ path: { index: 0, pathSegments: [seg({ expires: { seconds: 1, nanos: -1 } })] } })), BAD, /is not a time/],
  ['33 metrics', request(conn({ path: { index: 0, pathSegments: [seg({ metrics: Object.fromEntries(many(33, (i) => [`m${i}`, '1'])) })] } })), BIG, /metrics: 33 entries/],
  ['a mechanism preference with a shell-shaped src_ip', request(conn(), [kernel, kernel, Mechanism.fromPartial({ cls: 'REMOTE', type: 'VXLAN', parameters: { src_ip: '192.0.2.1\nnetns add X #' } })]), BAD, /^mechanism_preferences\[2\]\.parameters\["src_ip"\]: "192\.0\.2\.1\\nnetns add X #" is not an IP address$/],
  ['1,000 mechanism preferences', request(conn(), many(1000, () => kernel)), BIG, /mechanism_preferences: 1000 entries, at most 16/],
  ["the connection's own mechanism", request(conn({ mechanism: { cls: 'LOCAL', type: 'KERNEL', parameters: { name: 'a:b' } } })), BAD, /connection\.mechanism\.parameters\["name"\]/],
  ['its context', request(conn({ context: { ipContext: { excludedPrefixes: ['10.0.0.0/8; reboot'] } } })), BAD, /connection\.context\.ip_context\.excluded_prefixes\[0\]/],
];

test.each(requests)('Request: %s', (...[, r, code, message]: Case) => {
  const run = () => checkRequest(r);
  if (code === undefined) return expect(run).not.toThrow();
  expect(run).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message!) }));
});

test.each([
  ['a Close as the NSC sends it', conn({ path: { index: 0, pathSegments: [seg()] } }), OK, undefined],
  ['a Close without service (refused only in a Request)', conn({ networkService: '' }), OK, undefined],
  ['no connection', undefined as unknown as Connection, BAD, /connection is required/],
  ['a Close with a hostile endpoint name', conn({ networkServiceEndpointName: 'nse\n' }), BAD, /network_service_endpoint_name/],
] as [string, Connection, Code | undefined, RegExp | undefined][])('Close: %s', (...[, c, code, message]: [string, Connection, Code | undefined, RegExp | undefined]) => {
  const run = () => checkClose(c);
  if (code === undefined) return expect(run).not.toThrow();
  expect(run).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message!) }));
});

test.each([
  ['an nsmgr following its forwarder', MonitorScopeSelector.fromPartial({ pathSegments: [{ name: 'forwarder-node1', id: 'x-1' }] }), OK, undefined],
  ['an empty selector', MonitorScopeSelector.fromPartial({}), OK, undefined],
  ['33 segments', MonitorScopeSelector.fromPartial({ pathSegments: many(33, () => ({ name: 'a' })) }), BIG, /path_segments: 33 entries/],
  ['65 services', MonitorScopeSelector.fromPartial({ networkServices: many(65, (i) => `s${i}`) }), BIG, /network_services: 65 entries/],
  ['a service with a newline', MonitorScopeSelector.fromPartial({ networkServices: ['a\nb'] }), BAD, /network_services\[0\]/],
] as [string, MonitorScopeSelector, Code | undefined, RegExp | undefined][])('selector: %s', (...[, s, code, message]: [string, MonitorScopeSelector, Code | undefined, RegExp | undefined]) => {
  const run = () => checkSelector(s);
  if (code === undefined) return expect(run).not.toThrow();
  expect(run).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message!) }));
});

test.each([
  ['a token and its expiry as Go writes them', { t: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', e: '2026-11-21T10:00:00.123456789Z' }, OK],
  ['an offset expiry', { t: 'a.b.c', e: '2026-11-21T10:00:00+01:00' }, OK],
  ['a token with a newline', { t: 'a.b.c\nx', e: '2026-11-21T10:00:00Z' }, BAD],
  ['a token of 9000 bytes', { t: 'a'.repeat(9000) }, BIG],
  ['an expiry in words', { t: 'a.b.c', e: 'tomorrow' }, BAD],
  ['an expiry out of range', { t: 'a.b.c', e: '2026-13-45T99:99:99Z' }, BAD],
] as [string, { t?: string; e?: string }, Code | undefined][])('metadata: %s', (...[, m, code]: [string, { t?: string; e?: string }, Code | undefined]) => {
  const md: Record<string, string> = {};
  if (m.t !== undefined) md['nsm-client-token'] = m.t;
  if (m.e !== undefined) md['nsm-client-token-expires'] = m.e;
  const run = () => checkTokenMetadata(md, 'nsm-client-token', 'nsm-client-token-expires');
  if (code === undefined) return expect(run).not.toThrow();
  expect(run).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/^metadata nsm-client-token/) }));
});
