// The supplier against the local runtime's pod API, through @kubernetes/client-node as in a cluster,
// and an in-process registry: one pod per node however many Requests come at once; clear errors for a
// template that cannot start (refused, failing, never registering) without blocking the node; the
// retirement race; garbage collection of its own completed pods only; adoption after a restart.
import '@nsm/sdk-k8s/node-compat';
import { CoreV1Api } from '@kubernetes/client-node';
import { NetworkServiceEndpoint } from '@nsm/api';
import { registryServer, RegistryServer } from '@nsm/sdk/chains/registry';
import { Context } from '@nsm/sdk/core/context';
import { Code } from '@nsm/sdk/core/errors';
import { kubePods } from '../../cmd-nse-supplier-k8s/src/pods';
import { Supplier } from '../../cmd-nse-supplier-k8s/src/supplier';
import { parseTemplate, PodTemplate } from '../../cmd-nse-supplier-k8s/src/template';
import { TestKubelet } from '../../local/kube/testing/kubelet';

const SERVICE = 'autoscale-icmp-responder';
const TEMPLATE = `
apiVersion: v1
kind: Pod
metadata:
  name: nse-icmp-responder
  labels: {app: nse-icmp-responder}
spec:
  restartPolicy: Never
  containers:
    - name: nse
      image: ghcr.io/nsm-ts/cmd-nse-icmp-responder:v0.1.0
      env:
        - name: NSM_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: NSM_IDLE_TIMEOUT
          value: 15s
`;
const tpl = (text = TEMPLATE) => parseTemplate(text, 'pod.yaml');

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let k: TestKubelet;
let reg: RegistryServer;
const suppliers: Supplier[] = [];
beforeEach(async () => {
  k = await new TestKubelet().listen();
  reg = registryServer();
});
afterEach(async () => {
  for (const s of suppliers.splice(0)) s.close();
  await k.close();
  await reg.close();
});

async function supplier(template: PodTemplate = tpl(), opts: { startTimeoutMs?: number; failureBackoffMs?: number } = {}) {
  const s = new Supplier({
    pods: kubePods(k.kubeConfig(), 'default'),
    template,
    service: SERVICE,
    registry: reg.nse,
    startTimeoutMs: opts.startTimeoutMs ?? 10_000,
    failureBackoffMs: opts.failureBackoffMs ?? 10_000,
  });
  suppliers.push(s);
  await s.start();
  return s;
}

/** What an endpoint does when its process is up: it registers under its pod name. */
const nse = (name: string) => NetworkServiceEndpoint.fromPartial({ name, networkServiceNames: [SERVICE], networkServiceLabels: { [SERVICE]: { labels: {} } }, url: `unix:///${name}.sock` });
const register = (name: string) => reg.nse.register(Context.background(), nse(name));
const unregister = (name: string) => reg.nse.unregister(Context.background(), nse(name));
/** A Request for a client on `node`, with the client's per-attempt deadline. */
const supply = (s: Supplier, node?: string, ms = 10_000) => {
  const { ctx, cancel } = Context.background().withTimeout(ms);
  return s.supply(ctx, node).finally(cancel);
};
const api = () => k.kubeConfig().makeApiClient(CoreV1Api);
const pods = async () => (await api().listNamespacedPod({ namespace: 'default' })).items.map((p) => ({ name: p.metadata!.name!, node: p.spec?.nodeName, phase: p.status?.phase }));

describe('supplier', () => {
  test('ten Requests for one node at once start one pod there; all are told to retry once it registered', async () => {
    const s = await supplier();
    const answers = Array.from({ length: 10 }, () => supply(s, 'node2').catch((e) => e));
    const started = await until('the pod', () => k.started[0]);
    expect(started).toMatch(/^nse-icmp-responder-\w{5}$/);
    expect(k.processes.get(started)!.spec).toMatchObject({ node: 'node2', env: { NSM_NAME: started, NSM_IDLE_TIMEOUT: '15s' }, restartPolicy: 'Never' });
    await register(started);
    for (const err of await Promise.all(answers)) expect(err).toMatchObject({ code: Code.UNAVAILABLE, message: `endpoint ${started} started on node node2; the client's next attempt reaches it` });
    expect(k.started).toEqual([started]);
    expect(await pods()).toEqual([{ name: started, node: 'node2', phase: 'Running' }]);
    // Late Requests for the node: ready, retry; another node gets its own pod.
    await expect(supply(s, 'node2')).rejects.toThrow(`endpoint ${started} is ready on node node2`);
    const other = supply(s, 'node1').catch((e) => e);
    const second = await until('a second pod', () => k.started[1]);
    expect(k.processes.get(second)!.spec.node).toBe('node1');
    await register(second);
    expect(await other).toMatchObject({ code: Code.UNAVAILABLE });
  });

  test('a Request without nodeName, or with a hostile one, is INVALID_ARGUMENT and creates nothing', async () => {
    const s = await supplier();
    await expect(supply(s, undefined)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/has no nodeName/) });
    await expect(supply(s, 'node1; rm -rf /')).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/is not a node name/) });
    expect(await pods()).toEqual([]);
  });

  test('a refused create is a clear error at once; within the backoff the same error, after it a new try', async () => {
    // Two containers of one name: the API server refuses the create (422).
    const twoContainers = TEMPLATE.replace('  containers:\n', '  containers:\n    - {name: nse, image: busybox}\n');
    const s = await supplier(tpl(twoContainers), { failureBackoffMs: 300 });
    const err = await supply(s, 'node2').catch((e) => e);
    expect(err).toMatchObject({ code: Code.INVALID_ARGUMENT });
    expect(err.message).toMatch(/^cannot create an endpoint pod on node node2 from template nse-icmp-responder: create pod: Pod "nse-icmp-responder-\w{5}" is invalid: spec.containers\[1\].name: Duplicate value: "nse"/);
    await expect(supply(s, 'node2')).rejects.toBe(err);
    await new Promise((r) => setTimeout(r, 350));
    const again = await supply(s, 'node2').catch((e) => e);
    expect(again).not.toBe(err);
    expect(again.message).toMatch(/Duplicate value: "nse"/);
    expect(await pods()).toEqual([]);
  });

  test.each([
    ['an image that is no bundle', TEMPLATE.replace('ghcr.io/nsm-ts/cmd-nse-icmp-responder:v0.1.0', 'busybox:1.36'), undefined, /cannot start: ErrImagePull: image "busybox:1.36" is none of this repository's bundles/],
    ['a process that exits at once', TEMPLATE, 2, /pod nse-icmp-responder-\w{5} failed: exit code 2 \(Error\)/],
  ])('a pod that cannot start (%s): FAILED_PRECONDITION with the reason, and the pod is deleted', async (_n, text, exitCode, msg) => {
    const s = await supplier(tpl(text));
    const answer = supply(s, 'node1').catch((e) => e);
    if (exitCode !== undefined) (await until('the process', () => [...k.processes.values()][0])).exit(exitCode);
    const err = await answer;
    expect(err).toMatchObject({ code: Code.FAILED_PRECONDITION, message: expect.stringMatching(msg) });
    expect(err.message).toMatch(/^endpoint on node node1: /);
    await until('the pod deleted', async () => ((await pods()).length === 0 ? true : undefined));
  });

  test('a pod that never registers fails after the start timeout and is deleted', async () => {
    const s = await supplier(tpl(), { startTimeoutMs: 400 });
    const err = await supply(s, 'node1').catch((e) => e);
    expect(err).toMatchObject({ code: Code.UNAVAILABLE, message: expect.stringMatching(/did not register within 400 ms/) });
    await until('the pod deleted', async () => ((await pods()).length === 0 ? true : undefined));
  });

  test('the Request\'s deadline bounds the wait: the client hears "still starting" before its own timeout', async () => {
    const s = await supplier();
    const t0 = Date.now();
    const err = await supply(s, 'node1', 1200).catch((e) => e);
    expect(err).toMatchObject({ code: Code.UNAVAILABLE, message: expect.stringMatching(/is still starting after \d+ ms; retry/) });
    expect(Date.now() - t0).toBeLessThan(1100);
    expect(k.started).toHaveLength(1);
  });

  test('retirement race: once the endpoint unregisters, a Request starts a new pod while the old one still exits; completed pods of its own go, others stay', async () => {
    const s = await supplier();
    const first = supply(s, 'node2').catch((e) => e);
    const old = await until('the pod', () => k.started[0]);
    await register(old);
    await first;
    // A pod of someone else's on the node that completes: not the supplier's to delete.
    await api().createNamespacedPod({ namespace: 'default', body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'foreign' }, spec: { nodeName: 'node2', restartPolicy: 'Never', containers: [{ name: 'c', image: 'cmd-nsc' }] } } });
    (await until('foreign', () => k.processes.get('foreign'))).exit(0);

    // The endpoint retires: it unregisters first, then its process exits.
    await unregister(old);
    await until('the node forgotten', () => (s.state().node2 === undefined ? true : undefined));
    const next = supply(s, 'node2').catch((e) => e);
    const fresh = await until('a new pod', () => k.started[2]);
    expect(fresh).not.toBe(old);
    expect(k.processes.get(old)!.running).toBe(true);
    await register(fresh);
    expect(await next).toMatchObject({ code: Code.UNAVAILABLE, message: expect.stringContaining(fresh) });
    k.processes.get(old)!.exit(0);
    await until('the retired pod deleted', async () => ((await pods()).some((p) => p.name === old) ? undefined : true));
    expect((await pods()).map((p) => `${p.name} ${p.phase}`).sort()).toEqual([`${fresh} Running`, 'foreign Succeeded'].sort());
    expect(s.state()).toEqual({ node2: { phase: 'ready', pod: fresh } });
  });

  test('a restarted supplier adopts the running pod of a node instead of starting another', async () => {
    const s1 = await supplier();
    const answer = supply(s1, 'node1').catch((e) => e);
    const pod = await until('the pod', () => k.started[0]);
    await register(pod);
    await answer;
    s1.close();
    const s2 = await supplier();
    await until('adopted', () => (s2.state().node1?.phase === 'ready' ? true : undefined));
    await expect(supply(s2, 'node1')).rejects.toThrow(`endpoint ${pod} is ready on node node1`);
    expect(k.started).toEqual([pod]);
  });
});

describe('pod template', () => {
  test.each([
    ['not a pod', 'kind: Service\nmetadata: {name: x}\nspec: {containers: [{name: a}]}', /kind is Service, want Pod/],
    ['no name', 'kind: Pod\nspec: {containers: [{name: a}]}', /metadata.name is required/],
    ['no containers', 'kind: Pod\nmetadata: {name: x}\nspec: {}', /spec.containers is required/],
    ['not YAML', '{{', /not YAML or JSON/],
  ])('%s is fatal', (_n, text, msg) => expect(() => parseTemplate(text, 'pod.yaml')).toThrow(msg));

  test('what will not work is said at start', () => {
    const t = parseTemplate('kind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: a, image: cmd-nse-icmp-responder}]}', 'pod.yaml');
    expect(t.warnings).toEqual([expect.stringMatching(/restartPolicy is Always/), expect.stringMatching(/no container sets NSM_NAME from metadata.name/)]);
  });
});
