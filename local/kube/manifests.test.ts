import { planPod } from './containers';
import { podsOf, splitManifests, templateHash } from './manifests';
import { validatePod } from './podspec';

const node = { name: 'node1', ip: '10.233.0.11', nsmSocket: '/tmp/nsm-local/x/nodes/node1/nsm.io.sock' };

describe('splitManifests', () => {
  test('topology documents and Kubernetes objects, in order; a List is its items', () => {
    const { topology, objects } = splitManifests(`
nodes: [node1]
---
apiVersion: v1
kind: Pod
metadata: {name: a}
---
---
apiVersion: v1
kind: List
items:
  - {apiVersion: apps/v1, kind: Deployment, metadata: {name: d}}
`);
    expect(topology).toEqual([{ nodes: ['node1'] }]);
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['Pod/a', 'Deployment/d']);
  });

  test.each([
    ['kind without apiVersion', 'kind: Pod\nmetadata: {name: a}', /needs both apiVersion and kind/],
    ['a list document', '- a\n- b', /document 1 is not a map/],
    ['broken YAML', 'a: [1, 2', /document 1:/],
  ])('%s is refused', (_n, text, msg) => expect(() => splitManifests(text)).toThrow(msg));
});

describe('podsOf', () => {
  const deployment = (over: Record<string, unknown> = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns1' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' }, annotations: { x: 'y' } }, spec: { containers: [{ name: 'c', image: 'alpine', command: ['sleep', '1'] }] } }, ...over },
  });

  test('a Deployment is replicas pods named <name>-<pod-template-hash>-<5 random>, labelled with the hash', () => {
    const pods = podsOf(deployment());
    expect(pods).toHaveLength(3);
    const hash = templateHash(deployment().spec.template);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    for (const { namespace, pod } of pods) {
      expect(namespace).toBe('ns1');
      const meta = pod.metadata as { name: string; labels: Record<string, string>; annotations: Record<string, string> };
      expect(meta.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(meta.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
      expect(meta.annotations).toEqual({ x: 'y' });
      // Each is a pod the API server accepts.
      expect(validatePod(pod, 'ns1', () => false).metadata.name).toBe(meta.name);
    }
    expect(new Set(pods.map((p) => (p.pod.metadata as { name: string }).name)).size).toBe(3);
    // Another template, another hash.
    expect(templateHash({ ...deployment().spec.template, spec: {} })).not.toBe(hash);
  });

  test.each([
    ['a selector that does not match the template', deployment({ selector: { matchLabels: { app: 'other' } } }), /selector` does not match template `labels`/],
    ['no selector', deployment({ selector: undefined }), /spec.selector: Required value/],
    ['a negative replica count', deployment({ replicas: -1 }), /spec.replicas: Invalid value/],
    ['no template', deployment({ template: undefined }), /spec.template: Required value/],
    ['another kind', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }, /applies Pods \(v1\) and Deployments \(apps\/v1\) only/],
  ])('%s is refused', (_n, obj, msg) => expect(() => podsOf(obj as never)).toThrow(msg));
});

describe('planPod: a mutated pod onto processes', () => {
  const mutated = (extra: Record<string, unknown> = {}) =>
    validatePod(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'alpine' },
        spec: {
          nodeName: 'node1',
          containers: [
            { name: 'alpine', image: 'alpine:3.20', command: ['sleep', 'infinity'] },
            {
              name: 'cmd-nsc',
              image: 'ghcr.io/nsm-ts/cmd-nsc:v0.1.0',
              env: [
                { name: 'SPIFFE_ENDPOINT_SOCKET', value: 'unix:///run/spire/sockets/agent.sock' },
                { name: 'NSM_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'NSM_NETWORK_SERVICES', value: 'kernel://icmp-responder/nsm-1' },
              ],
            },
            { name: 'coredns', image: 'networkservicemesh/coredns:master', args: ['-conf', '/etc/coredns/Corefile'] },
          ],
          ...extra,
        },
      },
      'default',
      () => false,
    );

  test('app from the host, the injected cmd-nsc as its bundle, coredns not run; init containers first', () => {
    const plan = planPod(mutated({ initContainers: [{ name: 'init', image: 'busybox', command: ['true'] }] }), node);
    expect(plan).toEqual({
      spec: expect.objectContaining({
        name: 'alpine',
        node: 'node1',
        command: 'nsc',
        initContainers: [{ name: 'init', argv: ['true'], env: {} }],
        containers: [
          { name: 'alpine', argv: ['sleep', 'infinity'], env: {} },
          { name: 'cmd-nsc', bundle: 'nsc', argv: [], env: { NSM_NAME: 'alpine', NSM_NETWORK_SERVICES: 'kernel://icmp-responder/nsm-1' } },
        ],
      }),
    });
  });

  test('an init container that cannot run keeps the pod from starting', () => {
    expect(planPod(mutated({ initContainers: [{ name: 'init', image: 'ghcr.io/x/cmd-nsc-init:v1' }] }), node)).toEqual({ waiting: { reason: 'ErrImageNeverPull', message: expect.stringMatching(/container init: image "ghcr.io\/x\/cmd-nsc-init:v1" is not pulled/) } });
  });

  test('a container whose env cannot be made fails the pod; a pod with nothing to run does not start', () => {
    const bad = mutated();
    bad.spec.containers[0].env = [{ name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }];
    expect(planPod(bad, node)).toEqual({ waiting: { reason: 'CreateContainerConfigError', message: expect.stringMatching(/env S: secretKeyRef/) } });
    const nothing = mutated();
    nothing.spec.containers = [nothing.spec.containers[2], { name: 'other', image: 'nginx' }];
    expect(planPod(nothing, node)).toEqual({ waiting: expect.objectContaining({ reason: 'ErrImageNeverPull' }) });
  });

  test('a single bundle container is still a topology pod', () => {
    const one = mutated();
    one.spec.containers = [one.spec.containers[1]];
    expect(planPod(one, node)).toEqual({ spec: expect.objectContaining({ command: 'nsc', args: [] }) });
    expect((planPod(one, node) as { spec: object }).spec).not.toHaveProperty('containers');
  });
});
