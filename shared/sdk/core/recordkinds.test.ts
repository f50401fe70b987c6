import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { nsKind, nseKind } from './recordkinds';

const nse = NetworkServiceEndpoint.fromPartial({
  name: 'nse-1',
  networkServiceNames: ['a', 'b'],
  networkServiceLabels: { a: { labels: { app: 'x', node: 'n1' } } },
  url: 'tcp://10.0.0.1:5001',
  expirationTime: { seconds: 100, nanos: 5 },
});
const q = (p: Partial<NetworkServiceEndpoint>) => NetworkServiceEndpoint.fromPartial(p as never);

describe('query matching (api.md §8.5, exact names)', () => {
  test.each([
    ['empty template', q({}), true],
    ['exact name', q({ name: 'nse-1' }), true],
    ['name substring no longer matches', q({ name: 'nse' }), false],
    ['service subset', q({ networkServiceNames: ['b'] }), true],
    ['unknown service', q({ networkServiceNames: ['a', 'c'] }), false],
    ['label subset', q({ networkServiceLabels: { a: { labels: { app: 'x' } } } }), true],
    ['label mismatch', q({ networkServiceLabels: { a: { labels: { app: 'y' } } } }), false],
    ['labels of a missing service', q({ networkServiceLabels: { b: { labels: {} } } }), false],
    ['url substring', q({ url: '10.0.0.1' }), true],
    ['expiration seconds', q({ expirationTime: { seconds: 100, nanos: 0 } }), true],
    ['other expiration', q({ expirationTime: { seconds: 101, nanos: 0 } }), false],
  ])('NSE %s', (_what, query, want) => expect(nseKind.matches(query, nse)).toBe(want));

  const ns = NetworkService.fromPartial({ name: 'svc', payload: 'IP', matches: [{ sourceSelector: { a: 'b' }, routes: [] }] });
  test.each([
    ['empty', NetworkService.fromPartial({}), true],
    ['exact name', NetworkService.fromPartial({ name: 'svc' }), true],
    ['prefix', NetworkService.fromPartial({ name: 'sv' }), false],
    ['payload', NetworkService.fromPartial({ payload: 'ETHERNET' }), false],
    ['equal matches', NetworkService.fromPartial({ matches: [{ sourceSelector: { a: 'b' }, routes: [] }] }), true],
    ['other matches', NetworkService.fromPartial({ matches: [{ sourceSelector: { a: 'c' } }] }), false],
  ])('NS %s', (_what, query, want) => expect(nsKind.matches(query, ns)).toBe(want));
});
