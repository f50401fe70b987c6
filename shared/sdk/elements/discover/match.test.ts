import { Match, NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { toTimestamp } from '../../core/conn';
import { isSubset, matchEndpoints, matchForwarders, renderTemplate } from './match';

describe('renderTemplate', () => {
  test.each([
    ['{{.nodeName}}', 'node-1'],
    ['{{ .nodeName }}', 'node-1'],
    ['pre-{{.nodeName}}-{{.app}}', 'pre-node-1-web'],
    ['{{.missing}}', '<no value>'],
    ['plain', 'plain'],
    ['{{nodeName}}', '{{nodeName}}'],
  ])('%s → %s', (tpl, want) => expect(renderTemplate(tpl, { nodeName: 'node-1', app: 'web' })).toBe(want));
});

describe('isSubset (selector ⊆ labels, with templates over vars)', () => {
  const vars = { nodeName: 'node-1' };
  const cases: [string, Record<string, string>, Record<string, string>, boolean][] = [
    ['empty selector', { a: '1' }, {}, true],
    ['both empty', {}, {}, true],
    ['equal value', { a: '1', b: '2' }, { a: '1' }, true],
    ['other value', { a: '1' }, { a: '2' }, false],
    ['missing key', { b: '1' }, { a: '1' }, false],
    ['selector larger than labels', { a: '1' }, { a: '1', b: '2' }, false],
    ['template rendered from vars', { nodeName: 'node-1' }, { nodeName: '{{.nodeName}}' }, true],
    ['template renders to another value', { nodeName: 'node-2' }, { nodeName: '{{.nodeName}}' }, false],
    ['literal template text still matches', { x: '{{.nodeName}}' }, { x: '{{.nodeName}}' }, true],
    ['missing var renders <no value>', { x: '<no value>' }, { x: '{{.nope}}' }, true],
    ['missing key compares as empty', { b: '', c: '' }, { a: '' }, true],
  ];
  test.each(cases)('%s', (_n, labels, selector, want) => expect(isSubset(labels, selector, vars)).toBe(want));
});

const nse = (name: string, labels: Record<string, string> = {}, service = 'svc', expiresMs?: number) =>
  NetworkServiceEndpoint.fromPartial({
    name,
    networkServiceNames: [service],
    networkServiceLabels: { [service]: { labels } },
    expirationTime: expiresMs === undefined ? undefined : toTimestamp(expiresMs),
  });
const ns = (matches: Partial<Match>[]) => NetworkService.fromPartial({ name: 'svc', matches });
const names = (l: NetworkServiceEndpoint[]) => l.map((e) => e.name);
const now = 1_000_000;

describe('matchEndpoints (api.md §8.6, sdk v1.11 behaviour)', () => {
  const all = [nse('a', { app: 'a', nodeName: 'node-1' }), nse('b', { app: 'b', nodeName: 'node-2' }), nse('c', { app: 'c' })];
  const cases: [string, Partial<Match>[], Record<string, string>, string[]][] = [
    ['no matches: every endpoint', [], {}, ['a', 'b', 'c']],
    ['source and destination', [{ sourceSelector: { want: 'b' }, routes: [{ destinationSelector: { app: 'b' }, weight: 0 }] }], { want: 'b' }, ['b']],
    ['source does not apply, next match', [{ sourceSelector: { want: 'x' }, routes: [{ destinationSelector: { app: 'a' }, weight: 0 }] }, { sourceSelector: {}, routes: [{ destinationSelector: { app: 'c' }, weight: 0 }] }], { want: 'b' }, ['c']],
    ['no match applies: nothing (we differ from v1.1.1)', [{ sourceSelector: { want: 'x' }, routes: [] }], {}, []],
    ['applied match with no candidates stops', [{ sourceSelector: {}, routes: [{ destinationSelector: { app: 'z' }, weight: 0 }] }, { sourceSelector: {}, routes: [{ destinationSelector: { app: 'c' }, weight: 0 }] }], {}, []],
    ['fallthrough continues', [{ sourceSelector: {}, fallthrough: true, routes: [{ destinationSelector: { app: 'z' }, weight: 0 }] }, { sourceSelector: {}, routes: [{ destinationSelector: { app: 'c' }, weight: 0 }] }], {}, ['c']],
    ['template from request labels', [{ sourceSelector: {}, routes: [{ destinationSelector: { nodeName: '{{.nodeName}}' }, weight: 0 }] }], { nodeName: 'node-2' }, ['b']],
    ['template in the source selector', [{ sourceSelector: { nodeName: '{{.nodeName}}' }, routes: [{ destinationSelector: { app: 'a' }, weight: 0 }] }], { nodeName: 'any' }, ['a']],
    ['routes in order, deduplicated', [{ sourceSelector: {}, routes: [{ destinationSelector: { app: 'c' }, weight: 0 }, { destinationSelector: {}, weight: 0 }] }], {}, ['c', 'a', 'b']],
    ['metadata-only match: every endpoint', [{ sourceSelector: {}, routes: [], metadata: { labels: { p2p: 'true' } } }], {}, ['a', 'b', 'c']],
    ['empty routes without metadata: nothing', [{ sourceSelector: {}, routes: [] }], {}, []],
  ];
  test.each(cases)('%s', (_n, matches, labels, want) => expect(names(matchEndpoints(labels, ns(matches), all, now))).toEqual(want));

  test('expired endpoints are dropped', () => {
    const list = [nse('old', {}, 'svc', now), nse('live', {}, 'svc', now + 1), nse('forever')];
    expect(names(matchEndpoints({}, ns([]), list, now))).toEqual(['live', 'forever']);
  });

  test('labels of another service do not count', () => {
    const other = nse('o', { app: 'c' }, 'other-svc');
    expect(names(matchEndpoints({}, ns([{ sourceSelector: {}, routes: [{ destinationSelector: { app: 'c' }, weight: 0 }] }]), [other], now))).toEqual([]);
  });
});

describe('matchForwarders (api.md §8.7)', () => {
  const fwd = (name: string, labels?: Record<string, string>) =>
    NetworkServiceEndpoint.fromPartial({ name, networkServiceNames: ['forwarder'], networkServiceLabels: labels ? { forwarder: { labels } } : {} });
  const list = [fwd('plain'), fwd('p2p', { p2p: 'true' }), fwd('vpp', { p2p: 'true', kind: 'vpp', nodeName: 'n1' })];
  const cases: [string, NetworkService | undefined, Record<string, string>, string[]][] = [
    ['no network service: all', undefined, {}, ['plain', 'p2p', 'vpp']],
    ['no matches: all', ns([]), {}, ['plain', 'p2p', 'vpp']],
    ['default wants p2p=true', ns([{ sourceSelector: {}, routes: [] }]), {}, ['p2p', 'vpp']],
    ['metadata labels', ns([{ sourceSelector: {}, metadata: { labels: { kind: 'vpp' } } }]), {}, ['vpp']],
    ['template in metadata', ns([{ sourceSelector: {}, metadata: { labels: { nodeName: '{{.nodeName}}' } } }]), { nodeName: 'n1' }, ['vpp']],
    ['no candidates stops', ns([{ sourceSelector: {}, metadata: { labels: { kind: 'ovs' } } }, { sourceSelector: {}, routes: [] }]), {}, []],
    ['fallthrough', ns([{ sourceSelector: {}, fallthrough: true, metadata: { labels: { kind: 'ovs' } } }, { sourceSelector: {}, routes: [] }]), {}, ['p2p', 'vpp']],
    ['source selector skips', ns([{ sourceSelector: { x: '1' }, metadata: { labels: { kind: 'vpp' } } }, { sourceSelector: {}, routes: [] }]), {}, ['p2p', 'vpp']],
    ['no match applies', ns([{ sourceSelector: { x: '1' } }]), {}, []],
  ];
  test.each(cases)('%s', (_n, service, labels, want) => expect(names(matchForwarders(labels, service, list, 'forwarder'))).toEqual(want));
});
