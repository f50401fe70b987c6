import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { Code } from '../core/errors';
import { checkNetworkService, checkNetworkServiceEndpoint, RecordUse } from './registry';

const many = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));
const nse = (p: object) => NetworkServiceEndpoint.fromPartial({ name: 'nse-1', url: 'unix:///var/lib/nse.sock', networkServiceNames: ['icmp-responder'], ...p });
const ns = (p: object) => NetworkService.fromPartial({ name: 'icmp-responder', ...p });
const OK = undefined;
const BAD = Code.INVALID_ARGUMENT;
const BIG = Code.RESOURCE_EXHAUSTED;

type NseCase = [string, NetworkServiceEndpoint, RecordUse, Code | undefined, RegExp | undefined];

// One line per case: the record, how it is used, the code it gets (none: accepted), what the message says.
const endpoints: NseCase[] = [
  ['an NSE as it registers', nse({ networkServiceLabels: { 'icmp-responder': { labels: { app: 'x' } } } }), 'record', OK, undefined],
  ['a forwarder over TCP', nse({ url: 'tcp://10.233.0.2:5001', networkServiceNames: ['forwarder'] }), 'record', OK, undefined],
  ['no name (the registry names it)', nse({ name: '' }), 'record', OK, undefined],
  ['an empty record', NetworkServiceEndpoint.fromPartial({}), 'record', BAD, /is empty/],
  ['no url', nse({ url: '' }), 'record', BAD, /url must not be empty/],
  ['a url with a command', nse({ url: 'tcp://10.0.0.1:5001;reboot' }), 'record', BAD, /url: "tcp:\/\/10\.0\.0\.1:5001;reboot" is not a URL/],
  ['a url of another scheme', nse({ url: 'http://10.0.0.1:80' }), 'record', BAD, /is not a URL/],
  ['a unix url up a level', nse({ url: 'unix:///var/../etc/passwd' }), 'record', BAD, /is not a URL/],
  ['a name with a newline', nse({ name: 'nse\n1' }), 'record', BAD, /\.name: "nse\\n1" contains whitespace/],
  ['a name of 300 bytes', nse({ name: 'n'.repeat(300) }), 'record', BIG, /\.name: 300 bytes long/],
  ['33 service names', nse({ networkServiceNames: many(33, (i) => `s${i}`) }), 'record', BIG, /network_service_names: 33 entries, at most 32/],
  ['an empty service name', nse({ networkServiceNames: [''] }), 'record', BAD, /network_service_names\[0\] must not be empty/],
  ['33 label sets', nse({ networkServiceLabels: Object.fromEntries(many(33, (i) => [`s${i}`, { labels: {} }])) }), 'record', BIG, /network_service_labels: 33 entries/],
  ['65 labels in a set', nse({ networkServiceLabels: { s: { labels: Object.fromEntries(many(65, (i) => [`l${i}`, 'v'])) } } }), 'record', BIG, /labels: 65 entries/],
  ['a label set for a service with a space', nse({ networkServiceLabels: { 'a b': { labels: {} } } }), 'record', BAD, /network_service_labels key: "a b"/],
  ['an expiry in year 10000', nse({ expirationTime: { seconds: 253_402_300_800, nanos: 0 } }), 'record', BAD, /expiration_time/],
  ['a registration time before 1970', nse({ initialRegistrationTime: { seconds: -5, nanos: 0 } }), 'record', BAD, /initial_registration_time/],
  ['33 path ids', nse({ pathIds: many(33, (i) => `spiffe://nsm.local/${i}`) }), 'record', BIG, /path_ids: 33 entries/],
  ['a path id with a space', nse({ pathIds: ['spiffe://a b'] }), 'record', BAD, /path_ids\[0\]/],
  ['a Find template: empty', NetworkServiceEndpoint.fromPartial({}), 'template', OK, undefined],
  ['a Find template: a url substring', NetworkServiceEndpoint.fromPartial({ url: '10.233.0' }), 'template', OK, undefined],
  ['a Find template: a url with a newline', NetworkServiceEndpoint.fromPartial({ url: 'a\nb' }), 'template', BAD, /url/],
  ['a Find template: 33 names', NetworkServiceEndpoint.fromPartial({ networkServiceNames: many(33, (i) => `s${i}`) }), 'template', BIG, /33 entries/],
];

test.each(endpoints)('NSE: %s', (...[, item, use, code, message]: NseCase) => {
  const run = () => checkNetworkServiceEndpoint('network_service_endpoint', item, use);
  if (code === undefined) return expect(run).not.toThrow();
  expect(run).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message!) }));
});

type NsCase = [string, NetworkService, RecordUse, Code | undefined, RegExp | undefined];

const services: NsCase[] = [
  ['a service with matches', ns({ payload: 'ETHERNET', matches: [{ sourceSelector: { app: 'x' }, routes: [{ destinationSelector: { nodeName: '{{.nodeName}}' } }], metadata: { labels: { p2p: 'true' } } }] }), 'record', OK, undefined],
  ['no name', ns({ name: '' }), 'record', BAD, /name must not be empty/],
  ['a bogus payload', ns({ payload: 'IP\nETHERNET' }), 'record', BAD, /payload/],
  ['33 matches', ns({ matches: many(33, () => ({ routes: [] })) }), 'record', BIG, /matches: 33 entries/],
  ['33 routes in a match', ns({ matches: [{ routes: many(33, () => ({ destinationSelector: {} })) }] }), 'record', BIG, /routes: 33 entries/],
  ['a selector key with a newline', ns({ matches: [{ sourceSelector: { 'a\nb': 'v' } }] }), 'record', BAD, /source_selector key/],
  ['a metadata label of 600 bytes', ns({ matches: [{ metadata: { labels: { k: 'v'.repeat(600) } } }] }), 'record', BIG, /metadata\.labels\["k"\]: 600 bytes/],
  ['an Unregister template: name only', NetworkService.fromPartial({ name: 'x' }), 'template', OK, undefined],
];

test.each(services)('NS: %s', (...[, item, use, code, message]: NsCase) => {
  const run = () => checkNetworkService('network_service', item, use);
  if (code === undefined) return expect(run).not.toThrow();
  expect(run).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message!) }));
});
