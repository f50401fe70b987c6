import { NetworkService } from '@nsm/api';
import { isMultiCluster, mergeTopologies, parseClusters, parseTopology } from './topology';

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

describe('topology: clusters', () => {
  test('defaults per cluster: domain my.<name>, trust domain nsm.<name>, federation with all others', () => {
    const t = parseClusters(`
clusters:
  - name: cluster1
    nodes: [node1]
    pods: [{name: nsc, node: node1, command: nsc}]
  - name: cluster2
    domain: second.example
    trustDomain: td2.example
    federatesWith: [cluster1]
    proxyEnv: {NSM_LOG_LEVEL: DEBUG}
svidLifetime: 10s
`);
    expect(t.svidLifetimeMs).toBe(10_000);
    expect(t.clusters.map((c) => [c.name, c.domain, c.trustDomain, c.federatesWith])).toEqual([
      ['cluster1', 'my.cluster1', 'nsm.cluster1', undefined],
      ['cluster2', 'second.example', 'td2.example', ['cluster1']],
    ]);
    expect(t.clusters[0].topology).toMatchObject({ trustDomain: 'nsm.cluster1', nodes: [{ name: 'node1', forwarder: 'ovs' }], pods: [{ name: 'nsc', command: 'nsc' }] });
    expect(t.clusters[1].proxyEnv).toEqual({ NSM_LOG_LEVEL: 'DEBUG' });
    expect(isMultiCluster('clusters: []')).toBe(true);
    expect(isMultiCluster('nodes: [node1]')).toBe(false);
  });

  test.each([
    ['clusters: []', /non-empty list/],
    ['clusters: [{name: c1}]\nnodes: [node1]', /nodes must go inside a cluster/],
    ['clusters: [{name: Cluster1}]', /name "Cluster1"/],
    ['clusters: [{name: averyveryverylongname}]', /max 12/],
    ['clusters: [{name: c1}, {name: c1}]', /name "c1" is used twice/],
    ['clusters: [{name: c1, domain: a.example}, {name: c2, domain: a.example}]', /domain "a.example" is used twice/],
    ['clusters: [{name: c1, domain: localhost}]', /DNS name with at least two labels/],
    ['clusters: [{name: c1, trustDomain: "Bad TD"}]', /not a trust domain name/],
    ['clusters: [{name: c1, federatesWith: [c9]}]', /federatesWith "c9" is neither/],
    ['clusters: [{name: c1, federatesWith: [nsm.c1]}]', /names the cluster itself/],
    ['clusters: [{name: c1, federatesWith: c2}]', /must be a list/],
    ['clusters: [{name: c1, svidLifetime: 1h}]', /svidLifetime is set for all clusters/],
    ['clusters: [{name: c1, pods: [{name: x, command: rm}]}]', /pods\[0\].command/],
  ])('refused: %s', (text, why) => expect(() => parseClusters(text)).toThrow(why));
});
