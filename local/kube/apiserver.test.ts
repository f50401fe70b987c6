// The pod API through @kubernetes/client-node, the client a controller uses: create, get, list, watch
// from a version, delete; the pod's status following its process under each restartPolicy; and the
// per-pod access: a token for its own namespace, served inside the pod's network namespace.
import '@nsm/sdk-k8s/node-compat';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, V1Pod, Watch } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { grantPodApi, podApiServer, POD_API_PORT } from './podaccess';
import { TestKubelet } from './testing/kubelet';

const template = (over: Partial<V1Pod['spec']> = {}, name = 'nse-a'): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'nse' } },
  spec: { nodeName: 'node2', restartPolicy: 'Never', containers: [{ name: 'nse', image: 'ghcr.io/nsm-ts/cmd-nse-icmp-responder:v0.1.0' }], ...over },
});

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let k: TestKubelet;
let api: CoreV1Api;
beforeEach(async () => {
  k = await new TestKubelet().listen();
  api = k.kubeConfig().makeApiClient(CoreV1Api);
});
afterEach(() => k.close());

const phase = async (name: string) => (await api.readNamespacedPod({ name, namespace: 'default' })).status?.phase;

describe('pods through client-node', () => {
  test('create starts the pod on its node; its status follows the process; Never keeps a completed pod down', async () => {
    const created = await api.createNamespacedPod({ namespace: 'default', body: template() });
    expect(created.metadata?.uid).toBeDefined();
    expect(await until('Running', async () => ((await phase('nse-a')) === 'Running' ? true : undefined))).toBe(true);
    expect(k.processes.get('nse-a')!.spec).toMatchObject({ node: 'node2', command: 'nse-icmp-responder', restartPolicy: 'Never' });
    k.processes.get('nse-a')!.exit(0);
    const pod = await api.readNamespacedPod({ name: 'nse-a', namespace: 'default' });
    expect(pod.status).toMatchObject({ phase: 'Succeeded', hostIP: '10.233.0.12', containerStatuses: [{ ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] });
    expect(k.started).toEqual(['nse-a']);
  });

  test.each([
    ['Never', 1, 'Failed', 0],
    ['OnFailure', 1, 'Running', 1],
    ['OnFailure', 0, 'Succeeded', 0],
    ['Always', 0, 'Running', 1],
  ] as const)('restartPolicy %s, exit %d → %s with %d restarts', async (policy, code, want, restarts) => {
    await api.createNamespacedPod({ namespace: 'default', body: template({ restartPolicy: policy }) });
    await until('started', () => k.processes.get('nse-a'));
    k.processes.get('nse-a')!.exit(code);
    const pod = await api.readNamespacedPod({ name: 'nse-a', namespace: 'default' });
    expect([pod.status?.phase, pod.status?.containerStatuses?.[0].restartCount]).toEqual([want, restarts]);
  });

  test('refusals carry the API server\'s status: 422 Invalid, 409 AlreadyExists, 404 NotFound', async () => {
    await expect(api.createNamespacedPod({ namespace: 'default', body: template({ containers: [] }) })).rejects.toMatchObject({ code: 422, body: expect.stringContaining('spec.containers: Required value') });
    await api.createNamespacedPod({ namespace: 'default', body: template() });
    await expect(api.createNamespacedPod({ namespace: 'default', body: template() })).rejects.toMatchObject({ code: 409, body: expect.stringContaining('AlreadyExists') });
    await expect(api.readNamespacedPod({ name: 'nse-a', namespace: 'other' })).rejects.toMatchObject({ code: 404 });
    await expect(api.deleteNamespacedPod({ name: 'nope', namespace: 'default' })).rejects.toMatchObject({ code: 404 });
  });

  test('a pod that cannot start says why, as a kubelet does: unknown node, image that is no bundle', async () => {
    await api.createNamespacedPod({ namespace: 'default', body: template({ nodeName: 'node9' }, 'lost') });
    await api.createNamespacedPod({ namespace: 'default', body: template({ containers: [{ name: 'c', image: 'busybox' }] }, 'bad-image') });
    const lost = await until('unschedulable', async () => (await api.readNamespacedPod({ name: 'lost', namespace: 'default' })).status?.conditions?.[0]);
    expect(lost).toMatchObject({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'node "node9" does not exist' });
    const bad = await until('waiting', async () => (await api.readNamespacedPod({ name: 'bad-image', namespace: 'default' })).status?.containerStatuses?.[0]);
    expect(bad.state?.waiting).toMatchObject({ reason: 'ErrImagePull' });
    expect(await phase('bad-image')).toBe('Pending');
    expect(k.started).toEqual([]);
  });

  test('list with label and field selectors; generateName', async () => {
    const gen = await api.createNamespacedPod({ namespace: 'default', body: { ...template(), metadata: { generateName: 'nse-', labels: { app: 'gen' } } } });
    await api.createNamespacedPod({ namespace: 'default', body: template({ nodeName: 'node1' }) });
    expect(gen.metadata?.name).toMatch(/^nse-\w{5}$/);
    const names = async (q: { labelSelector?: string; fieldSelector?: string }) => (await api.listNamespacedPod({ namespace: 'default', ...q })).items.map((p) => p.metadata?.name).sort();
    expect(await names({ labelSelector: 'app=gen' })).toEqual([gen.metadata?.name]);
    expect(await names({ fieldSelector: 'spec.nodeName=node1' })).toEqual(['nse-a']);
    expect(await names({ labelSelector: 'app in (gen, nse)' })).toHaveLength(2);
    await expect(api.listNamespacedPod({ namespace: 'default', fieldSelector: 'spec.nope=1' })).rejects.toMatchObject({ code: 400 });
  });

  test('watch from a list\'s version sees the changes after it; delete marks, then removes the pod', async () => {
    const list = await api.listNamespacedPod({ namespace: 'default' });
    const events: string[] = [];
    const ctrl = await new Watch(k.kubeConfig()).watch(
      '/api/v1/namespaces/default/pods',
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: V1Pod) => events.push(`${type} ${obj.status?.phase}${obj.metadata?.deletionTimestamp ? ' deleting' : ''}`),
      () => undefined,
    );
    await api.createNamespacedPod({ namespace: 'default', body: template() });
    await until('running', () => (events.some((e) => e.startsWith('MODIFIED Running')) ? true : undefined));
    const marked = await api.deleteNamespacedPod({ name: 'nse-a', namespace: 'default', gracePeriodSeconds: 0 });
    expect(marked.metadata?.deletionTimestamp).toBeDefined();
    await until('deleted', () => (events.some((e) => e.startsWith('DELETED')) ? true : undefined));
    ctrl.abort();
    expect(events[0]).toBe('ADDED Pending');
    expect(events.filter((e) => e.includes('deleting')).length).toBeGreaterThan(0);
    expect(events[events.length - 1]).toMatch(/^DELETED/);
    await expect(phase('nse-a')).rejects.toMatchObject({ code: 404 });
  });
});

describe('a pod\'s own access', () => {
  test('its token may use pods in its namespace only; no token is 401', async () => {
    const server = podApiServer('s3cret', 'team-a', (req, res, caller) => void k.kube.api.serve(req, res, caller));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const as = (token?: string) => {
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
        users: [{ name: 'u', ...(token ? { token } : {}) }],
        contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
        currentContext: 'c',
      });
      return kc.makeApiClient(CoreV1Api);
    };
    try {
      await expect(as('s3cret').createNamespacedPod({ namespace: 'team-a', body: template() })).resolves.toMatchObject({ metadata: { namespace: 'team-a' } });
      await expect(as('s3cret').listNamespacedPod({ namespace: 'default' })).rejects.toMatchObject({
        code: 403,
        body: expect.stringContaining('User \\"system:serviceaccount:team-a:default\\" cannot list resource \\"pods\\" in API group \\"\\" in the namespace \\"default\\"'),
      });
      await expect(as('s3cret').listPodForAllNamespaces()).rejects.toMatchObject({ code: 403 });
      await expect(as('wrong').listNamespacedPod({ namespace: 'team-a' })).rejects.toMatchObject({ code: 401 });
      await expect(as().listNamespacedPod({ namespace: 'team-a' })).rejects.toMatchObject({ code: 401 });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  const root = process.getuid?.() === 0;
  (root ? test : test.skip)('inside the pod\'s network namespace, through the kubeconfig it is given', async () => {
    const netns = `kube-t${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'podapi-'));
    execFileSync('ip', ['netns', 'add', netns]);
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    try {
      k.kube.store.add({ ...template(), metadata: { name: 'nse-a', namespace: 'default' }, status: { phase: 'Pending' } } as never);
      const access = await grantPodApi({ netns, podDir: dir, pod: 'supplier', namespace: 'default', serve: (req, res, caller) => void k.kube.api.serve(req, res, caller) });
      try {
        const cfg = parse(readFileSync(access.kubeconfig, 'utf8'));
        expect(cfg.clusters[0].cluster.server).toBe(`http://127.0.0.1:${POD_API_PORT}`);
        const token = cfg.users[0].user.token as string;
        // Asynchronously: the server answering is this process.
        const { stdout: out } = await promisify(execFile)('ip', ['netns', 'exec', netns, 'curl', '-sf', '--max-time', '5', '-H', `Authorization: Bearer ${token}`, `http://127.0.0.1:${POD_API_PORT}/api/v1/namespaces/default/pods`], { encoding: 'utf8' });
        expect(JSON.parse(out).items.map((p: V1Pod) => p.metadata?.name)).toEqual(['nse-a']);
        // The listening socket lives in the pod's namespace.
        expect(execFileSync('ip', ['netns', 'exec', netns, 'ss', '-Hltn'], { encoding: 'utf8' })).toContain(`127.0.0.1:${POD_API_PORT}`);
      } finally {
        access.close();
      }
    } finally {
      execFileSync('ip', ['netns', 'del', netns]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
