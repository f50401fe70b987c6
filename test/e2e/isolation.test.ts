// Issue 13 end to end: pods isolated as containers (own PID, mount, UTS and IPC namespaces, a private
// /tmp, of the mesh's folder only what hostPath mounts share), the namespace handed over in upstream's
// inode://<dev>/<ino> form, and the rule that a Request may only name its sender's own namespace.
// The outside client is `nsm-local request --netns self` run as a process of a pod: a raw Request
// built by hand, as an upstream client sends it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { e2eUnavailable, eventually, inNs, nsc, nse, root, TestMesh } from './harness';

const cli = join(root, 'dist-local', 'nsm-local.js');
const skip = e2eUnavailable() ?? (existsSync(cli) ? undefined : 'dist-local/nsm-local.js missing (run make build)');
const d = skip ? describe.skip : describe;
if (skip) test.skip(`isolation e2e skipped: ${skip}`, () => undefined);

jest.setTimeout(180_000);

d('pods isolated like containers, upstream\'s netns hand-over', () => {
  const t = new TestMesh(`iso${process.pid % 10000}`);
  const request = (pod: string, ...args: string[]) => [process.execPath, cli, '--mesh', t.paths.mesh, 'request', '--as', pod, '--service', 'icmp-responder', ...args];
  const outcome = (out: string) => JSON.parse(out) as { granted: boolean; code: string; message: string; inodeURL: string };
  /** Runs argv and resolves with its output; asynchronously, since the mesh (its Workload API) is served by this process. */
  const run = (argv: string[]) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.once('error', reject);
      child.once('exit', () => resolve(out));
    });
  const podArgv = (pod: string, argv: string[]) => ['nsenter', '-t', String(t.mesh.supervisor.status().find((p) => p.name === pod)!.pid), '--all', '--', ...argv];
  const inodeOf = (pod: string) => t.inPod(pod, ['stat', '-L', '-c', 'inode://%d/%i', '/proc/self/ns/net']).trim();

  beforeAll(async () => {
    await t.down().catch(() => undefined);
    await t.up();
    await t.pods(nse('nse-1', { NSM_SERVICE_NAMES: 'icmp-responder', NSM_CIDR_PREFIX: '172.16.1.96/28' }), nsc('nsc-1', { NSM_NETWORK_SERVICES: 'kernel://icmp-responder/nsm-1' }));
    await eventually('nsm-1 in nsc-1', () => inNs(t.ns('nsc-1'), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1']).includes('inet 172.16.1.'));
  });

  afterAll(async () => {
    await t.down();
  });

  test('a pod sees only its own processes, its own host name, a private /tmp and only its shares of the mesh folder', () => {
    const ps = t.inPod('nsc-1', ['ps', '-eo', 'pid=,args=']).trim().split('\n');
    expect(ps).toHaveLength(2); // the client as PID 1, and ps
    expect(ps[0]).toMatch(/^\s*1 .*cmd-nsc\.js$/);
    expect(t.inPod('nsc-1', ['hostname']).trim()).toBe('nsc-1');
    // /tmp of the pod is its own: what it writes there is not on the host's, and the reverse.
    const hostFile = join('/tmp', `nsm-iso-host-${process.pid}`);
    writeFileSync(hostFile, 'host');
    try {
      t.inPod('nsc-1', ['sh', '-c', 'echo pod > /tmp/pod-file']);
      expect(existsSync('/tmp/pod-file')).toBe(false);
      expect(t.inPod('nsc-1', ['ls', '/tmp/'], { allowFail: true })).not.toContain(`nsm-iso-host-${process.pid}`);
    } finally {
      rmSync(hostFile, { force: true });
    }
    // Of the mesh's folder: the node's NSM socket folder, its own Workload API socket folder, its own folder.
    const seen = (dir: string) => t.inPod('nsc-1', ['ls', '-1', dir]).trim().split('\n').filter(Boolean).sort();
    expect(seen(t.paths.root)).toEqual(['nodes', 'pods', 'spire']);
    expect(seen(join(t.paths.root, 'nodes', 'node1'))).toEqual(['nsm']);
    expect(seen(join(t.paths.root, 'spire'))).toEqual(['nsc-1']);
    expect(seen(join(t.paths.root, 'pods'))).toEqual(['nsc-1']);
    expect(readdirSync(join(t.paths.root, 'nodes', 'node1'))).toContain('forwarder.sock'); // there on the host, hidden in the pod
    // The host's named namespaces (nodes, other pods) are not to be seen either.
    expect(t.inPod('nsc-1', ['ls', '-A', '/run/netns']).trim()).toBe('');
  });

  test('the client pings the endpoint (both handed their namespace over as inode://: the forwarder takes no other form from a pod)', () => {
    const peer = inNs(t.ns('nsc-1'), ['ip', '-4', '-o', 'route', 'show', 'dev', 'nsm-1']).split(/\s+/)[0];
    t.inPod('nsc-1', ['ping', '-c', '2', '-W', '2', peer]);
  });

  test('an outside client speaking upstream\'s inode form, run as a process of a pod, gets an interface in that pod', async () => {
    const done = run(podArgv('nsc-1', request('nsc-1', '--netns', 'self', '--interface', 'nsm-up', '--hold', '6')));
    await eventually('nsm-up in nsc-1', () => inNs(t.ns('nsc-1'), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-up'], { allowFail: true }).includes('inet 172.16.1.'));
    const r = outcome(await done);
    expect(r).toMatchObject({ granted: true, code: 'OK' });
    expect(r.inodeURL).toBe(inodeOf('nsc-1'));
    // Closed again: the interface is gone.
    await eventually('nsm-up gone', () => !inNs(t.ns('nsc-1'), ['ip', 'link'], { allowFail: true }).includes('nsm-up'));
  });

  test('a pod may only name its own namespace: another pod\'s, the node\'s or one that is no namespace is refused and nothing is made', async () => {
    const before = { nse: t.links('nse-1'), nsc: t.links('nsc-1'), node: t.nsmLeftovers() };
    const refused = async (url: string) => outcome(await run(podArgv('nsc-1', request('nsc-1', '--netns', url))));
    const other = await refused(inodeOf('nse-1'));
    expect(other).toMatchObject({ granted: false, code: 'PERMISSION_DENIED' });
    expect(other.message).toMatch(/is not the sender's own network namespace .*a Request may only name its sender's own namespace/);
    const nodeIno = inNs(t.ns('node1'), ['stat', '-L', '-c', 'inode://%d/%i', '/proc/self/ns/net']).trim();
    expect(await refused(nodeIno)).toMatchObject({ granted: false, code: 'PERMISSION_DENIED' });
    expect(await refused('inode://4/1')).toMatchObject({ granted: false, code: 'PERMISSION_DENIED' });
    expect(await refused(`file:///var/run/netns/${t.ns('nse-1')}`)).toMatchObject({ granted: false, code: 'PERMISSION_DENIED' });
    const proc = await refused('file:///proc/1/ns/net');
    expect(proc).toMatchObject({ granted: false, code: 'INVALID_ARGUMENT' });
    expect(proc.message).toMatch(/send the namespace as inode:\/\/<dev>\/<ino>/);
    expect({ nse: t.links('nse-1'), nsc: t.links('nsc-1'), node: t.nsmLeftovers() }).toEqual(before);
  });

  test('a process in the node\'s namespace naming it (its own) is refused by the forwarder, nothing made', async () => {
    const before = t.nsmLeftovers();
    const r = outcome(await run(['ip', 'netns', 'exec', t.ns('node1'), ...request('nsc-1', '--netns', 'self')]));
    expect(r).toMatchObject({ granted: false, code: 'PERMISSION_DENIED' });
    expect(r.message).toMatch(/names the forwarder's own \(the node's\) network namespace/);
    expect(t.nsmLeftovers()).toEqual(before);
  });

  test('killing a pod kills everything in its PID namespace; it comes back isolated again', async () => {
    // A process the pod started in the background, that would outlive its parent outside a PID namespace.
    const marker = `${3000 + (process.pid % 1000)}.25`;
    t.inPod('nsc-1', ['sh', '-c', `setsid sleep ${marker} >/dev/null 2>&1 &`]);
    const sleeping = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p) && (() => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker); } catch { return false; } })());
    await eventually('the background sleep', () => sleeping().length === 1);
    const pid = t.mesh.supervisor.status().find((p) => p.name === 'nsc-1')!.pid;
    const pidns = t.inPod('nsc-1', ['readlink', '/proc/1/ns/pid']).trim();
    expect(t.mesh.supervisor.signal('nsc-1', 'SIGKILL')).toBe(true);
    await eventually('the pod\'s processes gone', () => sleeping().length === 0);
    await eventually('nsc-1 restarted', () => { const p = t.mesh.supervisor.status().find((s) => s.name === 'nsc-1'); return !!p?.pid && p.pid !== pid && p.running; });
    await eventually('nsm-1 again', () => t.inPod('nsc-1', ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1'], { allowFail: true }).includes('inet 172.16.1.'));
    expect(t.inPod('nsc-1', ['readlink', '/proc/1/ns/pid']).trim()).not.toBe(pidns);
    expect(t.inPod('nsc-1', ['ps', '-eo', 'pid=,args=']).trim().split('\n')[0]).toMatch(/^\s*1 .*cmd-nsc\.js$/);
  });
});
