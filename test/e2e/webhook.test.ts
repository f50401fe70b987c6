// The admission webhook in the local runtime's loop, on a real mesh: a webhook configured without the
// images it must inject refuses to start and `apply` says which setting is missing; started as the
// manifest configures it, it mutates pods created from manifests and through the pod API alike; init
// containers run to completion before the containers, and one that fails keeps them from starting;
// deleting the pods leaves no process, namespace or file of theirs.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { splitManifests } from '../../local/kube/manifests';
import { e2eUnavailable, eventually, TestMesh } from './harness';

const skip = e2eUnavailable() ?? (existsSync(`${__dirname}/../../cmd-admission-webhook/dist/cmd-admission-webhook.js`) ? undefined : 'bundle cmd-admission-webhook missing (run make build)');
const d = skip ? describe.skip : describe;
if (skip) test.skip(`webhook e2e skipped: ${skip}`, () => undefined);

jest.setTimeout(180_000);

const objects = (yaml: string) => splitManifests(yaml).objects;

/** `marker`: a file the app needs, which an init container may make (containers share only volumes). */
const annotated = (name: string, extra = '', marker = `/nonexistent/${name}-init`) => `
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  annotations:
    networkservicemesh.io: kernel://icmp-responder/nsm-1
spec:
  restartPolicy: Never
${extra}
  containers:
    - name: app
      image: alpine
      command: ["sh", "-c", "test -f ${marker} && exec sleep 600"]
`;

d('admission webhook in the local runtime', () => {
  const t = new TestMesh(`whk${process.pid % 10000}`);
  beforeAll(() => t.up());
  afterAll(async () => {
    await t.down();
  });

  test('without NSM_CONTAINER_IMAGES the webhook does not start, and apply names the setting', async () => {
    await expect(t.mesh.applyManifests(objects(annotated('p0')), { NSM_CONTAINER_IMAGES: '' })).rejects.toThrow(/admission webhook exited with \d+: .*NSM_CONTAINER_IMAGES is not set/);
    expect(t.mesh.webhook.running).toBe(false);
    expect(t.mesh.kube.store.has('p0')).toBe(false);
    expect(t.mesh.supervisor.names()).not.toContain('p0');
  });

  test('init containers run to completion first; the app then runs beside the injected client', async () => {
    // The pod's folder is what its containers share here (each has its own /tmp, as in a cluster,
    // where they would share an emptyDir volume).
    const marker = join(t.paths.podDir('p1'), 'init-done');
    const init = `  initContainers:
    - name: prepare
      image: busybox
      command: ["sh", "-c", "sleep 1; touch ${marker}"]`;
    const [created] = await t.mesh.applyManifests(objects(annotated('p1', init, marker)));
    expect(created).toMatchObject({ name: 'p1', phase: 'Running' });
    const pod = t.mesh.kube.store.byName('p1')!;
    expect(pod.spec.containers.map((c) => c.name)).toEqual(['app', 'cmd-nsc', 'coredns']);
    expect((pod.spec.initContainers as Array<{ name: string }>).map((c) => c.name)).toEqual(['prepare']);
    // The app found the init container's file (it exits 1 otherwise, and Never restarts it).
    await new Promise((r) => setTimeout(r, 1000));
    expect(t.mesh.supervisor.status().find((p) => p.name === 'p1')).toMatchObject({ running: true });
    expect(t.mesh.supervisor.status().find((p) => p.name === 'p1.cmd-nsc')).toMatchObject({ running: true });
    expect(t.mesh.supervisor.names()).not.toContain('p1.prepare');
  });

  test('a failing init container keeps the containers from starting', async () => {
    const init = `  initContainers:
    - name: prepare
      image: busybox
      command: ["sh", "-c", "exit 3"]`;
    const [created] = await t.mesh.applyManifests(objects(annotated('p2', init)));
    expect(created.phase).toBe('Failed');
    expect(t.mesh.kube.store.byName('p2')!.status.message).toMatch(/init container prepare exited with 3/);
    expect(t.mesh.supervisor.names().filter((n) => n.startsWith('p2'))).toEqual([]);
  });

  test('a pod created through the pod API goes through the webhook too', async () => {
    const body = splitManifests(annotated('p3')).objects[0];
    (body.spec as Record<string, unknown>).nodeName = 'node1';
    const { pod, started } = await t.mesh.kube.createPod('default', body);
    await started;
    expect(pod.spec.containers.map((c) => c.name)).toEqual(['app', 'cmd-nsc', 'coredns']);
  });

  test('deleting the pods leaves nothing of theirs', async () => {
    for (const p of ['p1', 'p2', 'p3']) await t.mesh.deletePod(p);
    await eventually('pods gone', () => {
      const left = t.mesh.supervisor.names().filter((n) => /^p\d/.test(n));
      if (left.length) throw new Error(`processes left: ${left.join(', ')}`);
      return true;
    });
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toMatch(new RegExp(`${t.paths.mesh}-p\\d`));
    expect(existsSync(t.paths.podDir('p1'))).toBe(false);
    expect(t.mesh.kube.store.list().items.map((p) => p.metadata.name)).toEqual([]);
  });
});
