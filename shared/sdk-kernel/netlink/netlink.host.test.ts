// Real host effects (root): every operation of the netlink package against real namespaces, checked
// with iproute2/ethtool as an independent reader, packets sent through what it built, and errors as
// callers see them. Everything lives in namespaces with a per-run random prefix, removed in afterAll.
import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Code } from '@nsm/sdk/core/errors';
import { message } from './codec';
import { IFLA_IFNAME, NLM_F_ACK, NLM_F_REQUEST, RTM_GETLINK } from './consts';
import { exec } from '../exec';
import { Netns, netnsFromPath, netnsFromUrl } from '../netns';
import { ensureHostDeps, isRoot, TestNetnsSet } from '../testhost';
import {
  addRedirects,
  addRules,
  addVeth,
  addVxlan,
  applyIpContext,
  createVethPair,
  deleteLink,
  deleteLinks,
  deleteRules,
  deleteVethPair,
  disableOffloads,
  flushNeighbors,
  flushTable,
  getFeatures,
  getLink,
  listAddresses,
  listLinks,
  listNeighbors,
  listRedirects,
  listRoutes,
  listRules,
  NetlinkCache,
  readSysctl,
  removeRedirects,
  replaceNeighbors,
  replaceRoute,
  setLink,
  writeSysctl,
} from './index';
import { routeMessages } from './route';

const describeHost = isRoot() ? describe : describe.skip;

const ipJson = async <T>(ns: Netns, ...args: string[]): Promise<T> => JSON.parse((await exec(['ip', '-n', ns.name!, '-j', ...args])).stdout || '[]') as T;
const ping = (ns: Netns, ip: string) => exec(['ip', 'netns', 'exec', ns.name!, 'ping', '-c', '1', '-W', '2', ip]);
/**
 * Open sockets of this process (netlink sockets among them), by inode. Compared as sets: a test file
 * that ran before in the same worker may still close sockets of its own meanwhile.
 */
const openSockets = () =>
  new Set(
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        return target.startsWith('socket:') ? [target] : [];
      } catch {
        return [];
      }
    }),
  );

describeHost('netlink on the host', () => {
  const nets = new TestNetnsSet();
  const nl = new NetlinkCache({ idleMs: 60_000 });
  let node: Netns;
  let podA: Netns;
  let podB: Netns;
  let sleeper: ChildProcess | undefined;
  let podBByPid: Netns;
  let socketsBefore = new Set<string>();

  beforeAll(async () => {
    await ensureHostDeps();
    await exec([process.execPath, resolve(__dirname, '../../../tools/build-addon.mjs')], { timeoutMs: 120_000 });
    socketsBefore = openSockets();
    node = await nets.add('node');
    podA = await nets.add('a');
    podB = await nets.add('b');
    // podB also as /proc/<pid>/ns/net, the form a forwarder gets from NSM.
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
    nl.closeAll();
    sleeper?.kill('SIGKILL');
    await nets.cleanup();
  });

  it('creates a veth pair straight into a pod, idempotently, and names the clash when a name is taken', async () => {
    const pair = await createVethPair({ hostName: 'tap-a', hostNetns: node, peerName: 'nsm-1', peerNetns: podBByPid, mtu: 9000, alias: 'conn-1' }, nl);
    expect(pair.existed).toBe(false);
    // Both ends' indexes come back with the creation (NLM_F_ECHO), each in its own namespace.
    expect(pair.hostIndex).toBe((await getLink(node, 'tap-a', nl))!.index);
    expect(pair.peerIndex).toBe((await getLink(podB, 'nsm-1', nl))!.index);
    const [host] = await ipJson<{ ifname: string; mtu: number; ifalias?: string; flags: string[]; linkinfo: { info_kind: string } }[]>(node, '-d', 'link', 'show', 'tap-a');
    expect(host).toMatchObject({ ifname: 'tap-a', mtu: 9000, ifalias: 'conn-1', linkinfo: { info_kind: 'veth' } });
    expect(host.flags).toContain('UP');
    const [peer] = await ipJson<{ ifname: string; mtu: number; flags: string[] }[]>(podB, 'link', 'show', 'nsm-1');
    expect(peer).toMatchObject({ ifname: 'nsm-1', mtu: 9000 });
    expect(peer.flags).toContain('UP');

    // The same pair again (a refresh, a restarted forwarder): success, marked as existing.
    expect((await createVethPair({ hostName: 'tap-a', hostNetns: node, peerName: 'nsm-1', peerNetns: podB }, nl)).existed).toBe(true);
    // Host name taken by another pair.
    await expect(createVethPair({ hostName: 'tap-a', hostNetns: node, peerName: 'nsm-2', peerNetns: podB }, nl)).rejects.toMatchObject({
      code: Code.ALREADY_EXISTS,
      message: expect.stringContaining('interface tap-a already exists in netns nsmt'),
    });
    // Pod name taken: reported as the pod's, and no host end is left behind.
    await expect(createVethPair({ hostName: 'tap-b', hostNetns: node, peerName: 'nsm-1', peerNetns: podB }, nl)).rejects.toMatchObject({
      code: Code.ALREADY_EXISTS,
      message: `interface nsm-1 already exists in netns ${podB.label}`,
    });
    expect((await listLinks(node, nl)).map((l) => l.name).sort()).toEqual(['lo', 'tap-a']);

    await deleteVethPair(node, 'tap-a', nl);
    await deleteVethPair(node, 'tap-a', nl); // idempotent
    expect((await ipJson<{ ifname: string }[]>(podB, 'link', 'show')).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('rejects bad input before the kernel sees it, and maps kernel refusals to statuses', async () => {
    for (const bad of ['', 'x'.repeat(16), 'a b', 'a/b', '.', '..']) {
      await expect(createVethPair({ hostName: bad, hostNetns: node, peerName: 'nsm-9', peerNetns: podB }, nl)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    }
    await expect(createVethPair({ hostName: 'tap-z', hostNetns: node, peerName: 'nsm-9', peerNetns: podB, mtu: 70000 }, nl)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(applyIpContext(podA, 'lo', { addrs: ['10.0.0.1/33'] }, nl)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(applyIpContext(podA, 'lo', { neighbors: [{ ip: '10.0.0.2', mac: 'zz:00:00:00:00:00' }] }, nl)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(applyIpContext(podA, 'nope0', { addrs: ['10.0.0.1/32'] }, nl)).rejects.toMatchObject({ code: Code.NOT_FOUND, message: expect.stringContaining('interface nope0 not found') });
    await expect(setLink(podA, 'nope0', { up: true }, nl)).rejects.toMatchObject({ code: Code.NOT_FOUND });
    // Refused by the kernel itself: a route through a device that is down.
    await addVeth(podA, { name: 'dn0', peerName: 'dn1', up: false }, nl);
    await expect(replaceRoute(podA, { dst: '10.9.9.0/24', dev: 'dn0' }, nl)).rejects.toMatchObject({
      code: Code.FAILED_PRECONDITION,
      message: expect.stringMatching(/^route 10\.9\.9\.0\/24 dev dn0 in netns .*: ENETDOWN/),
    });
    await deleteLinks(podA, ['dn0'], nl);
    // A file that is not a namespace: the addon's setns() refuses it.
    const plain = join(tmpdir(), `nsm-nl-not-a-netns-${process.pid}`);
    writeFileSync(plain, '');
    try {
      await expect(getLink({ path: plain, label: plain }, 'lo', nl)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('setns') });
    } finally {
      rmSync(plain, { force: true });
    }
    await expect(getLink({ path: '/var/run/netns/nsm-no-such-ns', label: 'x' }, 'lo', nl)).rejects.toMatchObject({ code: Code.NOT_FOUND });
  });

  it('configures both ends (IPv4 + IPv6, routes, neighbours) and packets pass', async () => {
    await createVethPair({ hostName: 'veth-a', hostNetns: podA, peerName: 'nsm-1', peerNetns: podBByPid }, nl);
    await applyIpContext(podA, 'veth-a', { addrs: ['172.16.1.100/32', 'fd00:16::100/128'], routes: [{ prefix: '172.16.1.101/32' }, { prefix: 'fd00:16::101/128' }] }, nl);
    await applyIpContext(
      podBByPid,
      'nsm-1',
      { addrs: ['172.16.1.101/32', 'fd00:16::101/128'], routes: [{ prefix: '172.16.1.100/31', via: '172.16.1.100' }, { prefix: 'fd00:16::100/128' }], mtu: 1400 },
      nl,
    );
    // Again: a no-op, not "File exists".
    await applyIpContext(podBByPid, 'nsm-1', { addrs: ['172.16.1.101/32'], routes: [{ prefix: '172.16.1.100/31', via: '172.16.1.100' }] }, nl);
    await ping(podB, '172.16.1.100');
    await ping(podA, 'fd00:16::101');

    const addrs = await ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>(podB, 'addr', 'show', 'nsm-1');
    expect(addrs[0].addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(expect.arrayContaining(['172.16.1.101/32', 'fd00:16::101/128']));
    expect((await listAddresses(podB, 'nsm-1', nl)).map((a) => `${a.ip}/${a.len}`)).toEqual(expect.arrayContaining(['172.16.1.101/32', 'fd00:16::101/128']));
    const routes = await ipJson<{ dst: string; gateway?: string; flags: string[] }[]>(podB, 'route', 'show', 'dev', 'nsm-1');
    expect(routes).toContainEqual(expect.objectContaining({ dst: '172.16.1.100/31', gateway: '172.16.1.100', flags: ['onlink'] }));
    expect((await ipJson<{ mtu: number }[]>(podB, 'link', 'show', 'nsm-1'))[0].mtu).toBe(1400);

    await replaceNeighbors(podB, [{ dev: 'nsm-1', ip: '172.16.1.50', mac: '02:00:00:00:00:50', state: 'permanent' }, { dev: 'nsm-1', ip: 'fd00:16::50', mac: '02:00:00:00:00:51', state: 'permanent' }], nl);
    const neigh = await ipJson<{ dst: string; lladdr: string; state: string[] }[]>(podB, 'neigh', 'show', 'dev', 'nsm-1');
    expect(neigh).toContainEqual({ dst: '172.16.1.50', lladdr: '02:00:00:00:00:50', state: ['PERMANENT'] });
    expect((await listNeighbors(podB, 'nsm-1', nl)).map((n) => n.ip)).toEqual(expect.arrayContaining(['172.16.1.50', 'fd00:16::50']));
    expect(await flushNeighbors(podB, 'nsm-1', nl)).toBeGreaterThanOrEqual(2);
    expect((await ipJson<{ state: string[] }[]>(podB, 'neigh', 'show', 'dev', 'nsm-1')).filter((n) => n.state.includes('PERMANENT'))).toEqual([]);

    await deleteLinks(podA, ['veth-a'], nl);
  });

  it('changes links: rename, alias, MTU, MAC, up/down; lists and reads them as ip does', async () => {
    await addVeth(podA, { name: 'l0', peerName: 'l1' }, nl);
    await setLink(podA, 'l0', { name: 'l0-renamed', alias: 'recover-me', mtu: 1280, mac: '02:11:22:33:44:55', up: false }, nl);
    const [j] = await ipJson<{ ifname: string; ifalias: string; mtu: number; address: string; flags: string[]; ifindex: number; link: string }[]>(podA, 'link', 'show', 'l0-renamed');
    expect(j).toMatchObject({ ifname: 'l0-renamed', ifalias: 'recover-me', mtu: 1280, address: '02:11:22:33:44:55' });
    expect(j.flags).not.toContain('UP');
    const mine = await getLink(podA, 'l0-renamed', nl);
    expect(mine).toMatchObject({ name: 'l0-renamed', index: j.ifindex, alias: 'recover-me', mtu: 1280, mac: '02:11:22:33:44:55', up: false, kind: 'veth', peerName: 'l1' });
    const all = await ipJson<{ ifname: string; ifindex: number }[]>(podA, 'link', 'show');
    expect((await listLinks(podA, nl)).map((l) => [l.name, l.index])).toEqual(all.map((l) => [l.ifname, l.ifindex]));
    await setLink(podA, 'l0-renamed', { alias: '' }, nl);
    expect((await getLink(podA, 'l0-renamed', nl))?.alias).toBeUndefined();
    await deleteLinks(podA, ['l0-renamed', 'not-there'], nl);
    expect(await getLink(podA, 'l1', nl)).toBeUndefined();
    // A link the kernel cannot delete (loopback) fails the call, naming it, and is left as it was;
    // the others are deleted all the same.
    await addVeth(podA, { name: 'x0', peerName: 'x1' }, nl);
    await expect(deleteLinks(podA, ['x0', 'lo'], nl)).rejects.toMatchObject({ code: Code.UNIMPLEMENTED, message: expect.stringContaining('delete link lo') });
    expect((await ipJson<{ ifname: string; group: string }[]>(podA, 'link', 'show')).map((l) => [l.ifname, l.group])).toEqual([['lo', 'default']]);
    // A namespace that has gone took its links with it: deleting is success.
    await deleteLinks({ path: '/var/run/netns/nsm-gone-already', label: 'gone' }, ['x'], nl);
  });

  it('reports a deletion done once the links have gone, while the kernel finishes it; their names are free at once', async () => {
    await createVethPair({ hostName: 'da', hostNetns: node, peerName: 'eth7', peerNetns: podA }, nl);
    await createVethPair({ hostName: 'db', hostNetns: node, peerName: 'eth7', peerNetns: podB }, nl);
    await deleteLinks(node, ['da', 'db'], nl);
    const left = async () => [...(await ipJson<{ ifname: string }[]>(node, 'link', 'show')), ...(await ipJson<{ ifname: string }[]>(podA, 'link', 'show')), ...(await ipJson<{ ifname: string }[]>(podB, 'link', 'show'))].map((l) => l.ifname);
    expect((await left()).filter((n) => ['da', 'db', 'eth7'].includes(n))).toEqual([]);
    // The same names again, while the teardown socket may still wait for the kernel's acknowledgement.
    await createVethPair({ hostName: 'da', hostNetns: node, peerName: 'eth7', peerNetns: podA }, nl);
    expect((await getLink(node, 'da', nl))?.kind).toBe('veth');
    await deleteLinks(node, ['da'], nl);
    // The acknowledgements come; nothing is left in flight.
    for (let i = 0; i < 200 && nl.teardown(node).pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(nl.teardown(node).pending).toBe(0);
    expect((await left()).filter((n) => ['da', 'db', 'eth7'].includes(n))).toEqual([]);
  });

  it('joins two pods through the node with tc redirects (first packet passes, offloads on), and removes them', async () => {
    await createVethPair({ hostName: 'ha', hostNetns: node, peerName: 'eth1', peerNetns: podA }, nl);
    await createVethPair({ hostName: 'hb', hostNetns: node, peerName: 'eth1', peerNetns: podB }, nl);
    await applyIpContext(podA, 'eth1', { addrs: ['10.77.0.1/24'] }, nl);
    await applyIpContext(podB, 'eth1', { addrs: ['10.77.0.2/24'] }, nl);
    const redirects = [
      { from: 'ha', to: 'hb' },
      { from: 'hb', to: 'ha' },
    ];
    await addRedirects(node, redirects, nl);
    await addRedirects(node, redirects, nl); // a second time replaces, does not stack
    const [ha, hb] = [await getLink(node, 'ha', nl), await getLink(node, 'hb', nl)];
    expect(await listRedirects(node, 'ha', nl)).toEqual([{ prio: 1, to: hb!.index }]);
    expect(await listRedirects(node, 'hb', nl)).toEqual([{ prio: 1, to: ha!.index }]);
    const tc = (await exec(['tc', '-n', node.name!, 'filter', 'show', 'dev', 'ha', 'ingress'])).stdout;
    expect(tc).toMatch(/u32/);
    expect(tc).toMatch(/Egress Redirect to device hb/);

    const t0 = Date.now();
    await ping(podA, '10.77.0.2'); // the very first packet (ARP, then ICMP) goes through
    expect(Date.now() - t0).toBeLessThan(900);
    // TCP with the default offloads (no ethtool workaround on this path).
    const features = await getFeatures(podA, 'eth1', nl);
    expect(features.active).toContain('tx-tcp-segmentation');
    const server = spawn('ip', ['netns', 'exec', podB.name!, 'iperf3', '-s', '-1'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const out = JSON.parse((await exec(['ip', 'netns', 'exec', podA.name!, 'iperf3', '-c', '10.77.0.2', '-t', '1', '-J'], { timeoutMs: 15_000 })).stdout) as { end: { sum_received: { bytes: number } } };
      expect(out.end.sum_received.bytes).toBeGreaterThan(1_000_000);
    } finally {
      server.kill('SIGKILL');
    }

    await removeRedirects(node, ['ha', 'hb', 'gone0'], nl);
    expect(await listRedirects(node, 'ha', nl)).toEqual([]);
    await expect(ping(podA, '10.77.0.2')).rejects.toThrow();
    await deleteLinks(node, ['ha', 'hb'], nl);
  });

  it('joins a pod to a VXLAN device across two nodes with tc redirects', async () => {
    const node2 = await nets.add('node2');
    await addVeth(node, { name: 'u1', peerName: 'u2', peerNetns: node2 }, nl);
    await applyIpContext(node, 'u1', { addrs: ['10.98.0.1/24'] }, nl);
    await applyIpContext(node2, 'u2', { addrs: ['10.98.0.2/24'] }, nl);
    await addVxlan(node, { name: 'vx0', vni: 4242, local: '10.98.0.1', remote: '10.98.0.2', dev: 'u1', mtu: 1450 }, nl);
    await addVxlan(node2, { name: 'vx0', vni: 4242, local: '10.98.0.2', remote: '10.98.0.1', dstPort: 4789, mtu: 1450 }, nl);
    const [vx] = await ipJson<{ mtu: number; linkinfo: { info_kind: string; info_data: { id: number; remote: string; local: string; port: number; learning: boolean } } }[]>(node, '-d', 'link', 'show', 'vx0');
    expect(vx.linkinfo).toMatchObject({ info_kind: 'vxlan', info_data: { id: 4242, remote: '10.98.0.2', local: '10.98.0.1', port: 4789, learning: false } });
    await createVethPair({ hostName: 'pa', hostNetns: node, peerName: 'nsm-x', peerNetns: podA, mtu: 1450 }, nl);
    await createVethPair({ hostName: 'pb', hostNetns: node2, peerName: 'nsm-x', peerNetns: podB, mtu: 1450 }, nl);
    await applyIpContext(podA, 'nsm-x', { addrs: ['10.78.0.1/24'] }, nl);
    await applyIpContext(podB, 'nsm-x', { addrs: ['10.78.0.2/24'] }, nl);
    await addRedirects(node, [{ from: 'pa', to: 'vx0' }, { from: 'vx0', to: 'pa' }], nl);
    await addRedirects(node2, [{ from: 'pb', to: 'vx0' }, { from: 'vx0', to: 'pb' }], nl);
    await ping(podA, '10.78.0.2');
    await expect(addVxlan(node, { name: 'vx1', vni: 1 << 24, remote: '10.98.0.2' }, nl)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(addVxlan(node, { name: 'vx1', vni: 1, remote: 'fd00::1', local: '10.98.0.1' }, nl)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await deleteLinks(node, ['pa', 'vx0', 'u1'], nl);
    await deleteLinks(node2, ['pb', 'vx0'], nl);
    nl.release(node2);
  });

  it('installs policy rules and routes in a table, lists and flushes them', async () => {
    await addVeth(node, { name: 'r0', peerName: 'r1' }, nl);
    const rules = [4, 6].map((family) => ({ family: family as 4 | 6, iif: 'r0', table: 1100, pref: 1100 }));
    await addRules(node, rules, nl);
    await addRules(node, rules, nl); // kept, not duplicated
    const ipRules = await ipJson<{ priority: number; iif: string; table: string }[]>(node, 'rule', 'show');
    expect(ipRules.filter((r) => r.priority === 1100)).toEqual([expect.objectContaining({ priority: 1100, iif: 'r0', table: '1100' })]);
    expect((await listRules(node, 6, nl)).filter((r) => r.pref === 1100)).toEqual([{ family: 6, pref: 1100, table: 1100, iif: 'r0' }]);
    await replaceRoute(node, { dst: '0.0.0.0/0', dev: 'r0', table: 1100 }, nl);
    await replaceRoute(node, { dst: '::/0', dev: 'r0', table: 1100 }, nl);
    await replaceRoute(node, { dst: '192.168.50.7/32', dev: 'r0', via: '192.168.50.1', table: 1100 }, nl);
    const ipRoutes = await ipJson<{ dst: string }[]>(node, 'route', 'show', 'table', '1100');
    expect(ipRoutes.map((r) => r.dst).sort()).toEqual(['192.168.50.7', 'default']);
    expect((await listRoutes(node, 4, 1100, nl)).map((r) => r.info.dst).sort()).toEqual(['0.0.0.0/0', '192.168.50.7/32']);
    expect(await flushTable(node, 1100, nl)).toBe(3);
    expect(await ipJson(node, 'route', 'show', 'table', '1100')).toEqual([]);
    // Past one batch (1024 messages) and one datagram of dump: 1500 routes in, listed, flushed.
    const many = Array.from({ length: 1500 }, (_, i) => ({ dst: `10.${100 + (i >> 8)}.${i & 255}.0/24`, dev: 'r0', table: 1101 }));
    const outcomes = await nl.route(node).exchange(await routeMessages(node, 'replace', many, nl));
    expect(outcomes.filter((o) => o.errno)).toEqual([]);
    expect((await listRoutes(node, 4, 1101, nl)).length).toBe(1500);
    expect(await flushTable(node, 1101, nl)).toBe(1500);
    expect(await ipJson(node, 'route', 'show', 'table', '1101')).toEqual([]);
    await deleteRules(node, rules, nl);
    await deleteRules(node, rules, nl); // idempotent
    expect((await ipJson<{ priority: number }[]>(node, 'rule', 'show')).filter((r) => r.priority === 1100)).toEqual([]);
    await deleteLinks(node, ['r0'], nl);
  });

  it('turns offloads off without ethtool processes, as ethtool -K does', async () => {
    await addVeth(podA, { name: 'o0', peerName: 'o1' }, nl);
    await disableOffloads(podA, 'o0', undefined, nl);
    // The oracle: ethtool itself, doing the same to the other end of the pair.
    await exec(['ip', 'netns', 'exec', podA.name!, 'ethtool', '-K', 'o1', 'tx', 'off', 'tso', 'off', 'gso', 'off']);
    const shown = async (dev: string) => (await exec(['ip', 'netns', 'exec', podA.name!, 'ethtool', '-k', dev])).stdout.split('\n').slice(1).join('\n');
    const k = await shown('o0');
    expect(k).toEqual(await shown('o1'));
    for (const f of ['tx-checksumming', 'tcp-segmentation-offload', 'generic-segmentation-offload']) expect(k).toMatch(new RegExp(`^${f}: off`, 'm'));
    const feats = await getFeatures(podA, 'o0', nl);
    expect(feats.active).not.toContain('tx-generic-segmentation');
    expect(feats.active).toContain('rx-checksum');
    await expect(disableOffloads(podA, 'o0', ['warp-drive'], nl)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(disableOffloads(podA, 'nope0', undefined, nl)).rejects.toMatchObject({ code: Code.NOT_FOUND });
    await deleteLinks(podA, ['o0'], nl);
  });

  it('reads and writes /proc/sys/net inside a namespace', async () => {
    await writeSysctl(podA, ['ipv4', 'ip_forward'], '1');
    expect(await readSysctl(podA, ['ipv4', 'ip_forward'])).toBe('1');
    expect((await exec(['ip', 'netns', 'exec', podA.name!, 'cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim()).toBe('1');
    expect((await exec(['ip', 'netns', 'exec', podB.name!, 'cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim()).toBe('0');
    await expect(readSysctl(podA, ['ipv4', '..', 'x'])).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(writeSysctl(podA, ['ipv4', 'ip_forward'], '1\n0')).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(readSysctl(podA, ['ipv4', 'conf', 'nope0', 'rp_filter'])).rejects.toMatchObject({ code: Code.NOT_FOUND });
  });

  it('does not block the event loop while the kernel deletes links', async () => {
    const names = Array.from({ length: 24 }, (_, i) => `del${i}`);
    for (const n of names) await addVeth(podA, { name: n, peerName: `${n}p` }, nl);
    let maxLag = 0;
    let last = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      maxLag = Math.max(maxLag, now - last);
      last = now;
    }, 2);
    const t0 = Date.now();
    // One link per request: each waits for its own RCU grace periods in the kernel (~20 ms).
    await Promise.all(names.map((n) => deleteLink(podA, n, nl)));
    const took = Date.now() - t0;
    clearInterval(timer);
    expect((await listLinks(podA, nl)).map((l) => l.name)).toEqual(['lo']);
    expect(took).toBeGreaterThan(100);
    // The deletions ran on the threadpool: the loop kept ticking while the kernel worked.
    expect(maxLag).toBeLessThan(took / 4);
  });

  it('changes and lookups go out on the calling thread, one system call each; on a threadpool socket, those queued behind one under way go together, each caller getting its own outcomes', async () => {
    const cache = new NetlinkCache();
    try {
      await addVeth(podA, { name: 'mrg0', peerName: 'mrg0p' }, cache);
      const sock = cache.route(podA);
      const before = { ...sock.counts };
      const found = await Promise.all(Array.from({ length: 20 }, (_, i) => getLink(podA, i % 2 ? 'mrg0' : 'nope0', cache)));
      expect(found.map((l) => l?.name)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 ? 'mrg0' : undefined)));
      // 20 lookups, and for each veth found one more for its peer's name: 30 exchanges, 30 calls.
      expect(sock.counts.exchanges - before.exchanges).toBe(30);
      expect(sock.counts.sends - before.sends).toBe(30);
      // The teardown socket goes through the threadpool: the first exchange alone, the rest together.
      const pooled = cache.teardown(podA);
      const get = (name: string) => message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, (w) => (w.u8(0).u8(0).u16(0).i32(0).u32(0).u32(0), w.attrString(IFLA_IFNAME, name)));
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => pooled.exchange([get(i % 2 ? 'mrg0' : 'nope0')])));
      expect(outcomes.map(([o]) => o.errno === 0)).toEqual(Array.from({ length: 20 }, (_, i) => i % 2 === 1));
      expect(pooled.counts.exchanges).toBe(20);
      expect(pooled.counts.sends).toBeLessThanOrEqual(3);
      // offThread on the calling-thread socket: those go through the threadpool too (and so queue and merge).
      const mid = { ...sock.counts };
      const offThread = await Promise.all(Array.from({ length: 20 }, (_, i) => sock.exchange([get(i % 2 ? 'mrg0' : 'nope0')], { offThread: true })));
      expect(offThread.map(([o]) => o.errno === 0)).toEqual(Array.from({ length: 20 }, (_, i) => i % 2 === 1));
      expect(sock.counts.exchanges - mid.exchanges).toBe(20);
      expect(sock.counts.sends - mid.sends).toBeLessThanOrEqual(3);
      await deleteLink(podA, 'mrg0', cache);
    } finally {
      cache.closeAll();
    }
  });

  it('keeps one socket per namespace, closes idle ones and those whose namespace has gone; no descriptor leaks', async () => {
    const cache = new NetlinkCache({ idleMs: 200 });
    const tmp = await nets.add('tmp');
    await listLinks(tmp, cache);
    await listLinks(tmp, cache);
    await listLinks(netnsFromUrl(`file://${tmp.path}`), cache);
    expect(cache.size).toBe(1);
    await listLinks(undefined, cache);
    expect(cache.size).toBe(2);
    await exec(['ip', 'netns', 'del', tmp.name!]);
    cache.sweep(Date.now()); // the namespace file has gone: its socket goes now, not after idleMs
    expect(cache.size).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(cache.size).toBe(0); // idle
    cache.closeAll();
    nl.closeAll();
    expect([...openSockets()].filter((s) => !socketsBefore.has(s))).toEqual([]);
  });
});
