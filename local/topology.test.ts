import { NetworkService } from '@nsm/api';
import { mergeTopologies, parseTopology } from './topology';

describe('topology: networkServices and the pod fields of the pod API', () => {
  test('NetworkServices in the resource\'s spec form, with matches, templates and fallthrough', () => {
    const t = parseTopology(`
networkServices:
  - name: autoscale-icmp-responder
    payload: ETHERNET
    matches:
      - source_selector:
        fallthrough: true
        routes:
          - destination_selector: {app: nse-icmp-responder, nodeName: "{{.nodeName}}"}
      - routes:
          - destination_selector: {app: icmp-responder-supplier}
        metadata: {labels: {p2p: "true"}}
`);
    expect(t.networkServices).toEqual([
      NetworkService.fromPartial({
        name: 'autoscale-icmp-responder',
        payload: 'ETHERNET',
        pathIds: [],
        matches: [
          { sourceSelector: {}, fallthrough: true, metadata: undefined, routes: [{ destinationSelector: { app: 'nse-icmp-responder', nodeName: '{{.nodeName}}' }, weight: 0 }] },
          { sourceSelector: {}, fallthrough: false, metadata: { labels: { p2p: 'true' } }, routes: [{ destinationSelector: { app: 'icmp-responder-supplier' }, weight: 0 }] },
        ],
      }),
    ]);
  });

  test('pods: the supplier command, restartPolicy, args, labels, kubeApi', () => {
    const t = parseTopology(`
pods:
  - {name: s, node: node1, command: nse-supplier-k8s, restartPolicy: Never, args: ["--log-level", "debug"], labels: {app: x}, kubeApi: false}
`);
    expect(t.pods).toEqual([{ name: 's', node: 'node1', command: 'nse-supplier-k8s', env: {}, restartPolicy: 'Never', args: ['--log-level', 'debug'], labels: { app: 'x' }, vpp: false, kubeApi: false }]);
  });

  test('pods: a DNS server beside the command', () => {
    const t = parseTopology(`
pods:
  - {name: nse, command: nse-icmp-responder, dnsServer: {hosts: {my.example.nsm: 172.16.1.100, v6.example.nsm: "2001:db8::1"}}}
`);
    expect(t.pods?.[0].dnsServer).toEqual({ hosts: { 'my.example.nsm': '172.16.1.100', 'v6.example.nsm': '2001:db8::1' } });
  });

  test.each([
    ['networkServices: {a: 1}', /networkServices must be a list/],
    ['pods: [{name: p, command: nse-icmp-responder, dnsServer: {hosts: {"a b": 1.2.3.4}}}]', /dnsServer.hosts: "a b" is not a DNS name/],
    ['pods: [{name: p, command: nse-icmp-responder, dnsServer: {hosts: {a.nsm: "1.2.3.4,--conf-file=/x"}}}]', /dnsServer.hosts\["a.nsm"\]: .* is not an IP address/],
    ['pods: [{name: p, command: nse-icmp-responder, dnsServer: {hosts: {}}}]', /dnsServer.hosts must have 1-64 entries/],
    ['pods: [{name: p, command: nse-icmp-responder, dnsServer: [a]}]', /dnsServer.hosts must be a map/],
    ['networkServices: [{name: "Bad Name"}]', /must be a DNS subdomain name/],
    ['networkServices: [{name: ok, payload: UDP}]', /payload must be ETHERNET or IP/],
    ['networkServices: [{name: ok, matches: all}]', /matches must be a list/],
    ['pods: [{name: p, command: nsc, restartPolicy: Sometimes}]', /restartPolicy must be one of Always, OnFailure, Never/],
    ['pods: [{name: p, command: nsc, args: "-v"}]', /args must be a list of strings/],
    ['pods: [{name: p, command: nsc, kubeApi: "yes"}]', /kubeApi must be true or false/],
    ['pods: [{name: p, command: sleep}]', /command must be one of nsc, nse-icmp-responder, nse-supplier-k8s/],
  ])('%s is refused', (yaml, msg) => expect(() => parseTopology(yaml)).toThrow(msg));
});

describe('several topology documents (nsm-local up -f with manifests)', () => {
  test('later keys win, env maps merge, webhookEnv is read', () => {
    const t = mergeTopologies([parseTopology('nodes: [node1]\nnsmgrEnv: {A: "1"}'), parseTopology('pods: []\nnsmgrEnv: {B: "2"}\nwebhookEnv: {NSM_CONTAINER_IMAGES: x/cmd-nsc:v1}')]);
    expect(t.nodes?.map((n) => n.name)).toEqual(['node1']);
    expect(t.pods).toEqual([]);
    expect(t.nsmgrEnv).toEqual({ A: '1', B: '2' });
    expect(t.webhookEnv).toEqual({ NSM_CONTAINER_IMAGES: 'x/cmd-nsc:v1' });
  });
});
