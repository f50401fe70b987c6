// Real host effects (root): namespaces, veth pairs, addresses. Everything made here lives in
// namespaces named with a per-run random prefix and is removed in afterAll.
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from './exec';
import { applyIpContext } from './ipcontext';
import { deleteLink, getMac, linkExists, listLinks, setMac } from './link';
import { Netns, netnsFromPath, netnsFromUrl } from './netns';
import { closeIdleNamespaces, inodeUrlOf, onNamespaceReleased, openNamespaceCount, releaseDeadNamespaces } from './nsinode';
import { defaultNetlink } from './netlink/handles';
import { TEMP_IF_PREFIX } from './names';
import { ensureHostDeps, isRoot, TestNetnsSet } from './testhost';
import { createVethPair } from './veth';
import { disableOffloads } from './ethtool';

const describeHost = isRoot() ? describe : describe.skip;

describeHost('sdk-kernel on the host', () => {
  const nets = new TestNetnsSet();
  let node: Netns;
  let podA: Netns;
  let podB: Netns;
  /** A process inside podB, so podB can also be reached as /proc/<pid>/ns/net (the nsenter path). */
  let sleeper: ChildProcess | undefined;
  let podBByPid: Netns;

  beforeAll(async () => {
    await ensureHostDeps();
    node = await nets.add('node');
    podA = await nets.add('a');
    podB = await nets.add('b');
    sleeper = spawn('ip', ['netns', 'exec', podB.name!, 'sleep', '600'], { stdio: 'ignore' });
    const want = `net:[${statSync(podB.path).ino}]`;
    for (let i = 0; i < 200; i++) {
      try {
        if (readlinkSync(`/proc/${sleeper.pid}/ns/net`) === want) break;
      } catch {
        // not started yet
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    podBByPid = netnsFromPath(`/proc/${sleeper.pid}/ns/net`);
  }, 300_000);

  afterAll(async () => {
    sleeper?.kill('SIGKILL');
    await nets.cleanup();
  });

  const names = async (ns: Netns) => (await listLinks(ns)).map((l) => l.name).sort();
  const identityIno = (pid: number) => {
    try {
      return statSync(`/proc/${pid}/ns/net`).ino;
    } catch {
      return undefined;
    }
  };

  it('resolves netns URLs and rejects what is not one', () => {
    expect(netnsFromUrl(`file://${podA.path}`)).toMatchObject({ path: podA.path, name: podA.name });
    expect(podBByPid.name).toBeUndefined();
    expect(() => netnsFromUrl('file:///var/run/netns/nsm-no-such-ns')).toThrow('netns file:///var/run/netns/nsm-no-such-ns does not exist');
    expect(() => netnsFromUrl('unix:///var/run/netns/x')).toThrow(/must be an inode:\/\/<dev>\/<ino> or file:\/\/\/var\/run\/netns\/<name> URL/);
    const plain = join(tmpdir(), `nsm-not-a-netns-${process.pid}`);
    writeFileSync(plain, '');
    try {
      expect(() => netnsFromPath(plain)).toThrow(/is not a network namespace/);
    } finally {
      rmSync(plain, { force: true });
    }
    expect(() => netnsFromPath('/proc/self/ns/mnt')).toThrow(/not a network namespace/);
  });

  it('refuses /proc paths from peers: their pid is of another PID namespace', () => {
    for (const url of [`file:///proc/${sleeper!.pid}/ns/net`, 'file:///proc/1/ns/net', 'file:///proc/self/ns/net', `file:///proc/${process.pid}/fd/0`]) {
      expect(() => netnsFromUrl(url)).toThrow(/a \/proc path names a process of the sender's PID namespace.*send the namespace as inode:\/\//);
    }
    expect(() => netnsFromUrl('file:///tmp/some-bind-mount')).toThrow(/must be an inode:\/\/<dev>\/<ino> or file:\/\/\/var\/run\/netns\/<name> URL/);
  });

  it('resolves inode://<dev>/<ino> through a process in that namespace, and keeps it open while used', async () => {
    const url = inodeUrlOf(podB.path);
    const ns = netnsFromUrl(url);
    expect(ns.label).toBe(url);
    expect(ns.path).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    expect(statSync(ns.path).ino).toBe(statSync(podB.path).ino);
    await createVethPair({ hostName: 'veth-ino', hostNetns: node, peerName: 'nsm-ino', peerNetns: ns });
    expect(await names(podB)).toContain('nsm-ino');
    await deleteLink(node, 'veth-ino');
    // Closed when idle; the same Netns opens it again on its next use (the sleeper is still in it).
    closeIdleNamespaces(0);
    expect(openNamespaceCount()).toBe(0);
    expect(statSync(ns.path).ino).toBe(statSync(podB.path).ino);
    closeIdleNamespaces(0);
  });

  it('lets go of a pod\'s namespace once its last process has gone: descriptor and netlink sockets, so its interfaces go too', async () => {
    const pod = await nets.add('dying');
    const proc = spawn('ip', ['netns', 'exec', pod.name!, 'sleep', '600'], { stdio: 'ignore' });
    try {
      const want = statSync(pod.path).ino;
      while (identityIno(proc.pid!) !== want) await new Promise((r) => setTimeout(r, 10));
      const ns = netnsFromUrl(inodeUrlOf(pod.path));
      await createVethPair({ hostName: 'veth-dying', hostNetns: node, peerName: 'nsm-dying', peerNetns: ns });
      const sockets = defaultNetlink().size;
      const released: string[] = [];
      const stop = onNamespaceReleased((k) => released.push(k));
      // Still a process in it: nothing is released, whatever happens to its name.
      await exec(['ip', 'netns', 'del', pod.name!]);
      expect(releaseDeadNamespaces()).toBe(0);
      expect(await linkExists(node, 'veth-dying')).toBe(true);
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
      // Held by us alone now: the pair is still there until we let go.
      expect(await linkExists(node, 'veth-dying')).toBe(true);
      expect(releaseDeadNamespaces()).toBe(1);
      stop();
      expect(released).toEqual([`${statSync('/proc/self/ns/net').dev}:${want}`]);
      expect(openNamespaceCount()).toBe(0);
      expect(defaultNetlink().size).toBeLessThan(sockets);
      // The kernel frees the namespace, and the veth pair with it.
      for (let i = 0; i < 200 && (await linkExists(node, 'veth-dying')); i++) await new Promise((r) => setTimeout(r, 10));
      expect(await linkExists(node, 'veth-dying')).toBe(false);
      expect(() => ns.path).toThrow(/names no network namespace of a running process/);
    } finally {
      proc.kill('SIGKILL');
      await deleteLink(node, 'veth-dying').catch(() => undefined);
    }
  });

  it('refuses an inode that names no namespace, the forwarder\'s own or the host\'s', () => {
    const dev = statSync('/proc/self/ns/net').dev;
    // podA has no process in it: a named namespace, but nothing a peer could be running in.
    expect(() => netnsFromUrl(inodeUrlOf(podA.path))).toThrow(/names no network namespace of a running process on this node/);
    expect(() => netnsFromUrl(`inode://${dev}/1`)).toThrow(/names no network namespace of a running process/);
    expect(() => netnsFromUrl(`inode://${dev + 1}/${statSync(podB.path).ino}`)).toThrow(/is not the namespace file system's/);
    expect(() => netnsFromUrl(inodeUrlOf('/proc/self/ns/net'))).toThrow(/names the forwarder's own \(the node's\) network namespace/);
    expect(() => netnsFromUrl('inode://4/abc')).toThrow(/is not inode:\/\/<dev>\/<ino>/);
    expect(() => netnsFromUrl(`file://${node.path}`)).not.toThrow();
    expect(openNamespaceCount()).toBe(0);
  });

  it('creates a veth pair into a pod, configures both ends (IPv4+IPv6) and pings', async () => {
    // Host end in podA (named: `ip -n`), peer in podB reached through /proc/<pid>/ns/net (nsenter).
    const pair = await createVethPair({ hostName: 'veth-a', hostNetns: podA, peerName: 'nsm-1', peerNetns: podBByPid, mtu: 9000 });
    expect(pair.existed).toBe(false);
    expect(await names(podB)).toEqual(['lo', 'nsm-1']);
    expect((await listLinks(podB)).find((l) => l.name === 'nsm-1')).toMatchObject({ mtu: 9000, up: true, kind: 'veth' });

    await applyIpContext(podA, 'veth-a', { addrs: ['172.16.1.100/32', 'fd00:16::100/128'], routes: [{ prefix: '172.16.1.101/32' }, { prefix: 'fd00:16::101/128' }] });
    await applyIpContext(podBByPid, 'nsm-1', { addrs: ['172.16.1.101/32', 'fd00:16::101/128'], routes: [{ prefix: '172.16.1.100/32', via: '' }, { prefix: 'fd00:16::100/128' }] });
    // Applying the same context again is a no-op, not a "File exists" failure.
    await applyIpContext(podBByPid, 'nsm-1', { addrs: ['172.16.1.101/32'], routes: [{ prefix: '172.16.1.100/32' }] });

    await exec(['ip', 'netns', 'exec', podB.name!, 'ping', '-c', '2', '-i', '0.2', '-W', '2', '172.16.1.100']);
    await exec(['ip', 'netns', 'exec', podA.name!, 'ping', '-c', '2', '-i', '0.2', '-W', '2', 'fd00:16::101']);

    await setMac(podBByPid, 'nsm-1', '02:aa:bb:cc:dd:01');
    expect(await getMac(podB, 'nsm-1')).toBe('02:aa:bb:cc:dd:01');

    await disableOffloads(podBByPid, 'nsm-1');
    const { stdout } = await exec(['nsenter', `--net=${podB.path}`, 'ethtool', '-k', 'nsm-1']);
    expect(stdout).toMatch(/tx-checksumming: off/);
    expect(stdout).toMatch(/tcp-segmentation-offload: off/);
    expect(stdout).toMatch(/generic-segmentation-offload: off/);

    // Creating the same pair again (a restarted forwarder) is recognised, not an error.
    expect((await createVethPair({ hostName: 'veth-a', hostNetns: podA, peerName: 'nsm-1', peerNetns: podB })).existed).toBe(true);

    await deleteLink(podA, 'veth-a');
    await deleteLink(podA, 'veth-a'); // idempotent
    expect(await linkExists(podA, 'veth-a')).toBe(false);
    expect(await names(podB)).toEqual(['lo']);
  });

  it('works with the /proc/<pid>/fd/<n> form NSM hands a forwarder', async () => {
    const fd = openSync(podA.path, 'r');
    try {
      const ns = netnsFromPath(`/proc/${process.pid}/fd/${fd}`);
      await createVethPair({ hostName: 'veth-fd', hostNetns: node, peerName: 'nsm-fd', peerNetns: ns });
      await applyIpContext(ns, 'nsm-fd', { addrs: ['10.251.0.1/24'] });
      expect((await listLinks(podA)).map((l) => l.name)).toContain('nsm-fd');
      await deleteLink(node, 'veth-fd');
      expect(await names(podA)).toEqual(['lo']);
    } finally {
      closeSync(fd);
    }
  });

  it('reports a name already taken in the pod and leaves nothing behind', async () => {
    await exec(['ip', '-n', podB.name!, 'link', 'add', 'nsm-1', 'type', 'veth', 'peer', 'name', 'other']);
    try {
      await expect(createVethPair({ hostName: 'veth-x', hostNetns: node, peerName: 'nsm-1', peerNetns: podB })).rejects.toThrow(
        `interface nsm-1 already exists in netns ${podB.label}`,
      );
      expect(await linkExists(node, 'veth-x')).toBe(false);
      expect((await names(podB)).filter((n) => n.startsWith(TEMP_IF_PREFIX))).toEqual([]);
      expect(await names(podB)).toEqual(['lo', 'nsm-1', 'other']);
    } finally {
      await deleteLink(podB, 'nsm-1');
    }
  });

  it('reports a host-side name already taken and creates nothing in the pod', async () => {
    await exec(['ip', '-n', node.name!, 'link', 'add', 'veth-y', 'type', 'veth', 'peer', 'name', 'veth-y2']);
    try {
      await expect(createVethPair({ hostName: 'veth-y', hostNetns: node, peerName: 'nsm-1', peerNetns: podA })).rejects.toThrow(
        `interface veth-y already exists in netns ${node.label}`,
      );
      expect(await names(podA)).toEqual(['lo']);
    } finally {
      await deleteLink(node, 'veth-y');
    }
  });

  it('reports a namespace that has gone', async () => {
    const gone = await nets.add('gone');
    await exec(['ip', 'netns', 'del', gone.name!]);
    await expect(createVethPair({ hostName: 'veth-z', hostNetns: node, peerName: 'nsm-1', peerNetns: gone })).rejects.toThrow(/does not exist/);
    expect(await linkExists(node, 'veth-z')).toBe(false);
    await deleteLink(gone, 'nsm-1'); // a link in a vanished namespace is already deleted
  });
});
