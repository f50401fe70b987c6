// Issue 16 end to end, on two nodes of a real local mesh with the supplier running as a pod and the
// runtime's pod API creating endpoints: ten clients on one node asking at once get ONE spawned
// endpoint there and all ping through it; when they are gone the endpoint retires; a client that asks
// just as it retires is served by a new one; at the end nothing is left (pods, registrations).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { findAll } from '@nsm/sdk/core/registry';
import { nseRegistryClient } from '@nsm/sdk/grpc/registry';
import { parseTopology } from '../../local/topology';
import { e2eUnavailable, eventually, nsc, TestMesh } from './harness';

const skip = e2eUnavailable() ?? (existsSync(join(__dirname, '../../cmd-nse-supplier-k8s/dist/cmd-nse-supplier-k8s.js')) ? undefined : 'bundle cmd-nse-supplier-k8s missing (run make build)');
const d = skip ? describe.skip : describe;
if (skip) test.skip(`scale-from-zero e2e skipped: ${skip}`, () => undefined);

jest.setTimeout(300_000);

const SERVICE = 'autoscale-icmp-responder';
const IDLE = '4s';
const run = promisify(execFile);

/** Asynchronously: the pod API the supplier uses is served by this process's mesh. */
async function inNs(ns: string, argv: string[]): Promise<string> {
  return (await run('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' })).stdout;
}

d('scale from zero on a local mesh', () => {
  const t = new TestMesh(`sfz${process.pid % 10000}`);
  // Not under /tmp: the supplier, a pod, has a /tmp of its own (a ConfigMap's stand-in is a host file).
  const dir = mkdtempSync(join('/var/tmp', 'sfz-'));
  const template = join(dir, 'pod-template.yaml');
  const registry = () => nseRegistryClient(`unix://${join(t.paths.root, 'registry.sock')}`, t.mesh.sourceOf('registry'));
  const spawned = () =>
    t.mesh.kube.store
      .list({ labels: [{ key: 'app', op: '=', values: ['nse-icmp-responder'] }] })
      .items.filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => ({ name: p.metadata.name, node: p.spec.nodeName, phase: p.status.phase }));
  const clientIf = async (pod: string): Promise<RegExpExecArray | false> => {
    const out = await inNs(t.ns(pod), ['ip', '-4', '-o', 'addr', 'show', 'dev', 'nsm-1']).catch(() => '');
    return /inet 169\.254\.(\d+)\.(\d+)\/32/.exec(out) ?? false;
  };
  /** The endpoint's address for a client: point-to-point pairs, the endpoint's first. */
  const peerOf = (m: RegExpExecArray | false) => {
    if (!m) throw new Error('no client address');
    return `169.254.${m[1]}.${Number(m[2]) - 1}`;
  };
  const endpointOf = (pod: string) => {
    const line = readFileSync(join(t.paths.logs, `${pod}.log`), 'utf8').split('\n').find((l) => l.includes('connection established'));
    return line ? (JSON.parse(line).endpoint as string) : undefined;
  };
  const registered = async (name: string) => {
    const c = registry();
    try {
      const { ctx, cancel } = Context.background().withTimeout(5000);
      const found = await findAll(c, ctx, NetworkServiceEndpoint.fromPartial({ name })).finally(cancel);
      return found.some((r) => !r.deleted && r.item.name === name);
    } finally {
      c.close();
    }
  };

  beforeAll(async () => {
    writeFileSync(
      template,
      `apiVersion: v1
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
        - {name: NSM_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: NSM_CONNECT_TO, value: "unix:///var/lib/networkservicemesh/nsm.io.sock"}
        - {name: NSM_SERVICE_NAMES, value: ${SERVICE}}
        - {name: NSM_LABELS, value: "app:nse-icmp-responder"}
        - {name: NSM_REGISTER_SERVICE, value: "false"}
        - {name: NSM_CIDR_PREFIX, value: 169.254.0.0/16}
        - {name: NSM_IDLE_TIMEOUT, value: ${IDLE}}
`,
    );
    await t.down().catch(() => undefined);
    await t.up(
      parseTopology(`
nodes: [node1, node2]
networkServices:
  - name: ${SERVICE}
    payload: ETHERNET
    matches:
      - fallthrough: true
        routes:
          - destination_selector: {app: nse-icmp-responder, nodeName: "{{.nodeName}}"}
      - routes:
          - destination_selector: {app: icmp-responder-supplier}
pods:
  - name: supplier
    node: node1
    command: nse-supplier-k8s
    env:
      NSM_SERVICE_NAME: ${SERVICE}
      NSM_LABELS: app:icmp-responder-supplier
      NSM_POD_DESCRIPTION_FILE: ${template}
`),
    );
  });

  afterAll(async () => {
    await t.down();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (name: string, node: string) => nsc(name, { NSM_NETWORK_SERVICES: `kernel://${SERVICE}/nsm-1`, NSM_REQUEST_TIMEOUT: '30s' }, node);

  test('ten clients on node2 asking at once get one endpoint, on node2, and all ping through it', async () => {
    expect(spawned()).toEqual([]);
    const names = Array.from({ length: 10 }, (_, i) => `nsc-${i}`);
    await t.pods(...names.map((n) => client(n, 'node2')));
    const addrs = await Promise.all(names.map((n) => eventually(`nsm-1 in ${n}`, () => clientIf(n), 120_000)));
    const pods = spawned();
    expect(pods).toEqual([{ name: expect.stringMatching(/^nse-icmp-responder-\w{5}$/), node: 'node2', phase: 'Running' }]);
    // The interface comes before the client hears the answer: wait for its log too.
    const endpoints = await Promise.all(names.map((n) => eventually(`${n} connected`, () => endpointOf(n), 60_000)));
    expect(new Set(endpoints)).toEqual(new Set([pods[0].name]));
    await Promise.all(names.map((n, i) => inNs(t.ns(n), ['ping', '-c', '2', '-W', '3', peerOf(addrs[i])])));
    expect(await registered(pods[0].name)).toBe(true);
  });

  test('retirement: with the clients gone the endpoint retires; a client asking as it retires gets a new endpoint', async () => {
    const [old] = spawned();
    await Promise.all(Array.from({ length: 10 }, (_, i) => t.mesh.deletePod(`nsc-${i}`)));
    const deletedAt = Date.now();
    // The endpoint logs its retirement when the idle timer fires; then it unregisters and exits.
    await eventually('the endpoint retiring', () => readFileSync(join(t.paths.logs, `${old.name}.log`), 'utf8').includes('idle timeout reached'), 30_000);
    const retiredAfter = Date.now() - deletedAt;
    await t.pods(client('nsc-late', 'node2'));
    const m = await eventually('nsm-1 in nsc-late', () => clientIf('nsc-late'), 120_000);
    await inNs(t.ns('nsc-late'), ['ping', '-c', '2', '-W', '3', peerOf(m)]);
    // The retiring endpoint may still be on its way out (it unregisters, then exits): the new one is the other.
    const now = spawned().filter((p) => p.name !== old.name);
    expect(now).toEqual([{ name: expect.stringMatching(/^nse-icmp-responder-\w{5}$/), node: 'node2', phase: 'Running' }]);
    expect(await eventually('nsc-late connected', () => endpointOf('nsc-late'))).toBe(now[0].name);
    // The retired endpoint's pod completed and the supplier deleted it; its registration is gone.
    await eventually('the retired pod deleted', () => !t.mesh.kube.store.has(old.name), 30_000);
    expect(spawned()).toEqual(now);
    expect(await registered(old.name)).toBe(false);
    expect(retiredAfter).toBeLessThan(4000 + 8000);
  });

  test('a client on node1 gets its own endpoint on node1; after it leaves, both endpoints retire and nothing is left', async () => {
    await t.pods(client('nsc-n1', 'node1'));
    const m = await eventually('nsm-1 in nsc-n1', () => clientIf('nsc-n1'), 120_000);
    await inNs(t.ns('nsc-n1'), ['ping', '-c', '2', '-W', '3', peerOf(m)]);
    const byNode: Record<string, string> = Object.fromEntries(spawned().map((p) => [p.node ?? '', p.name]));
    expect(Object.keys(byNode).sort()).toEqual(['node1', 'node2']);
    expect(await eventually('nsc-n1 connected', () => endpointOf('nsc-n1'))).toBe(byNode.node1);
    await Promise.all([t.mesh.deletePod('nsc-n1'), t.mesh.deletePod('nsc-late')]);
    await eventually('both endpoints retired and deleted', () => spawned().length === 0 && !Object.values(byNode).some((n) => t.mesh.kube.store.has(n)), 30_000);
    for (const name of Object.values(byNode)) expect(await registered(name)).toBe(false);
    const { stdout } = await run('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(stdout.split('\n').filter((l) => l.includes(`${t.paths.mesh}-nse-icmp-responder`))).toEqual([]);
    expect(t.mesh.kube.store.list().items.map((p) => p.metadata.name)).toEqual(['supplier']);
    for (const node of ['node1', 'node2']) expect(t.nsmLeftovers(node)).toEqual([]);
  });
});
