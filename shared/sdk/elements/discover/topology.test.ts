// Topology in the matches (issue 16): selector templates over the client's labels, selection by
// nodeName / clusterName / any label, fall-through to the endpoint of last resort, and the NOT_FOUND a
// client gets when nothing matches. The labels come from clientinfo in the nsmgr, as in a mesh.
import { Match, NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { FakeClock } from '../../core/clock';
import { Code } from '../../core/errors';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { bg, conn, fakeRegistry, req } from '../../testing/elements';
import { clientInfo, clientInfoLabels } from '../clientinfo';
import { clientUrlKey } from '../clienturl';
import { discover } from './index';
import { matchEndpoints } from './match';
import { renderTemplate } from './template';

describe('selector templates (Go text/template over the request labels)', () => {
  const vars = { nodeName: 'node-2', clusterName: 'east', 'app.kubernetes.io/name': 'web' };
  test.each([
    ['{{.nodeName}}', 'node-2'],
    ['{{ .nodeName }}', 'node-2'],
    ['{{.clusterName}}/{{.nodeName}}', 'east/node-2'],
    ['{{- .nodeName -}}', 'node-2'],
    ['a {{- .nodeName -}} b', 'anode-2b'],
    ['{{index . "app.kubernetes.io/name"}}', 'web'],
    ['{{ index . `app.kubernetes.io/name` }}', 'web'],
    ['{{index . "absent"}}', ''],
    ['{{.absent}}', '<no value>'],
    ['{{/* a comment */}}x', 'x'],
    ['{{.}}', 'map[app.kubernetes.io/name:web clusterName:east nodeName:node-2]'],
    // What Go fails to parse or run is compared as written.
    ['{{nodeName}}', '{{nodeName}}'],
    ['{{.nodeName', '{{.nodeName'],
    ['{{.nodeName.first}}', '{{.nodeName.first}}'],
    ['{{printf "%s" .nodeName}}', '{{printf "%s" .nodeName}}'],
    ['no action }}', 'no action }}'],
  ])('%s → %s', (tpl, want) => expect(renderTemplate(tpl, vars)).toBe(want));
});

const SVC = 'autoscale-icmp-responder';
const nse = (name: string, labels: Record<string, string>) =>
  NetworkServiceEndpoint.fromPartial({ name, url: `unix:///${name}.sock`, networkServiceNames: [SVC], networkServiceLabels: { [SVC]: { labels } } });
const route = (destinationSelector: Record<string, string>) => ({ destinationSelector, weight: 0 });
const service = (matches: Partial<Match>[]) => NetworkService.fromPartial({ name: SVC, payload: 'ETHERNET', matches });

/** The two matches of upstream's scale-from-zero example (sdk.md §8). */
const scaleFromZero = service([
  { sourceSelector: {}, fallthrough: true, routes: [route({ app: 'nse-icmp-responder', nodeName: '{{.nodeName}}' })] },
  { sourceSelector: {}, routes: [route({ app: 'icmp-responder-supplier' })] },
]);
const supplier = nse('supplier', { app: 'icmp-responder-supplier', nodeName: 'node1' });
const onNode1 = nse('icmp-1', { app: 'nse-icmp-responder', nodeName: 'node1' });
const onNode2 = nse('icmp-2', { app: 'nse-icmp-responder', nodeName: 'node2' });

describe('label selection and fall-through', () => {
  const cases: [string, NetworkService, Record<string, string>, NetworkServiceEndpoint[], string[]][] = [
    ['no endpoint on the node: fall through to the supplier', scaleFromZero, { nodeName: 'node2' }, [supplier, onNode1], ['supplier']],
    ['an endpoint on the node: it, not the supplier', scaleFromZero, { nodeName: 'node2' }, [supplier, onNode1, onNode2], ['icmp-2']],
    ['the other node gets its own', scaleFromZero, { nodeName: 'node1' }, [supplier, onNode1, onNode2], ['icmp-1']],
    ['no nodeName label: "<no value>" selects none, then the supplier', scaleFromZero, {}, [supplier, onNode1], ['supplier']],
    ['neither: nothing', scaleFromZero, { nodeName: 'node2' }, [onNode1], []],
    [
      'by cluster',
      service([{ sourceSelector: {}, routes: [route({ clusterName: '{{.clusterName}}' })] }]),
      { clusterName: 'west' },
      [nse('e', { clusterName: 'east' }), nse('w', { clusterName: 'west' })],
      ['w'],
    ],
    [
      'by any request label (the client asked for a colour)',
      service([{ sourceSelector: {}, routes: [route({ colour: '{{.colour}}' })] }]),
      { colour: 'blue', nodeName: 'node1' },
      [nse('red', { colour: 'red' }), nse('blue', { colour: 'blue' })],
      ['blue'],
    ],
    [
      'by a label that is no identifier, with index',
      service([{ sourceSelector: {}, routes: [route({ tier: '{{index . "app.kubernetes.io/tier"}}' })] }]),
      { 'app.kubernetes.io/tier': 'gold' },
      [nse('silver', { tier: 'silver' }), nse('gold', { tier: 'gold' })],
      ['gold'],
    ],
    [
      'source selectors pick the match by the client\'s labels',
      service([
        { sourceSelector: { podName: 'special-client' }, routes: [route({ app: 'a' })] },
        { sourceSelector: {}, routes: [route({ app: 'b' })] },
      ]),
      { podName: 'special-client' },
      [nse('a', { app: 'a' }), nse('b', { app: 'b' })],
      ['a'],
    ],
    [
      'a match without fallthrough stops even when empty',
      service([
        { sourceSelector: {}, routes: [route({ nodeName: '{{.nodeName}}' })] },
        { sourceSelector: {}, routes: [route({ app: 'icmp-responder-supplier' })] },
      ]),
      { nodeName: 'node9' },
      [supplier],
      [],
    ],
    [
      'routes in order: the local one first, then the others',
      service([{ sourceSelector: {}, routes: [route({ nodeName: '{{.nodeName}}' }), route({})] }]),
      { nodeName: 'node2' },
      [onNode1, onNode2],
      ['icmp-2', 'icmp-1'],
    ],
  ];
  test.each(cases)('%s', (_n, ns, labels, all, want) => expect(matchEndpoints(labels, ns, all, 0).map((e) => e.name)).toEqual(want));
});

describe('through the chain: clientinfo labels, then discover', () => {
  function mesh(nses: NetworkServiceEndpoint[], node: string) {
    const reached: string[] = [];
    const target: NetworkServiceElement = {
      async request(ctx, r) {
        reached.push(`${r.connection!.networkServiceEndpointName}@${ctx.get(clientUrlKey)}`);
        return r.connection!;
      },
    };
    const d = discover({ ns: fakeRegistry([scaleFromZero]), nse: fakeRegistry(nses), clock: new FakeClock(0) });
    return { reached, h: handler(chain(clientInfo(clientInfoLabels({ NODE_NAME: node, CLUSTER_NAME: 'c1' })), d, target)) };
  }

  test('the nsmgr\'s node decides which endpoint the request reaches', async () => {
    const m2 = mesh([supplier, onNode1, onNode2], 'node2');
    await m2.h.request(bg(), req(conn({ id: '1', networkService: SVC })));
    expect(m2.reached).toEqual(['icmp-2@unix:///icmp-2.sock']);
    const m3 = mesh([supplier, onNode1, onNode2], 'node3');
    await m3.h.request(bg(), req(conn({ id: '1', networkService: SVC })));
    expect(m3.reached).toEqual(['supplier@unix:///supplier.sock']);
  });

  test('a client label is not overwritten by the node\'s', async () => {
    const m = mesh([supplier, onNode1, onNode2], 'node2');
    await m.h.request(bg(), req(conn({ id: '1', networkService: SVC, labels: { nodeName: 'node1' } })));
    expect(m.reached).toEqual(['icmp-1@unix:///icmp-1.sock']);
  });

  test('no match: NOT_FOUND that names the labels and what each match did', async () => {
    const m = mesh([onNode1], 'node2');
    const err = m.h.request(bg(), req(conn({ id: '1', networkService: SVC })));
    await expect(err).rejects.toMatchObject({ code: Code.NOT_FOUND });
    await expect(err).rejects.toThrow(
      `no network service endpoint matches network service "${SVC}" for labels {nodeName: node2, clusterName: c1} (1 registered): ` +
        'match 1 (fallthrough): no endpoint with {app: nse-icmp-responder, nodeName: node2}; match 2: no endpoint with {app: icmp-responder-supplier}',
    );
    expect(m.reached).toEqual([]);
  });
});
