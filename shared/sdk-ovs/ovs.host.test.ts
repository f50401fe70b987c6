// Real OVS (root): a private ovs-vswitchd in a "node" namespace cross-connecting two "pods", the way
// the OVS forwarder does for a local kernel-to-kernel connection. Everything is removed in afterAll.
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '@nsm/sdk-kernel/exec';
import { disableOffloads } from '@nsm/sdk-kernel/ethtool';
import { applyIpContext, IpContextSpec } from '@nsm/sdk-kernel/ipcontext';
import { deleteLinks, getMac, listLinks } from '@nsm/sdk-kernel/link';
import { hostIfName } from '@nsm/sdk-kernel/names';
import { Netns } from '@nsm/sdk-kernel/netns';
import { ensureHostDeps, isRoot, TestNetnsSet } from '@nsm/sdk-kernel/testhost';
import { createVethPair } from '@nsm/sdk-kernel/veth';
import { OvsDaemon } from './daemon';
import { crossConnectFlows, flowCookie, vlanFlows, vxlanFlows } from './flows';

const describeHost = isRoot() ? describe : describe.skip;
const BR = 'br-nsm';

/**
 * Whether `pid` is gone from /proc within a second. stop() returns once a daemon has exited; when
 * this test process started it, it stays a zombie until Node reaps it, which a loaded machine may
 * not have done yet.
 */
async function reaped(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 20));
  return !existsSync(`/proc/${pid}`);
}

describeHost('sdk-ovs on the host', () => {
  const nets = new TestNetnsSet();
  const tmp = mkdtempSync('/tmp/nsmovs-');
  const daemons: OvsDaemon[] = [];
  const children: ChildProcess[] = [];
  let node: Netns;
  let pod1: Netns;
  let pod2: Netns;
  let ovsd: OvsDaemon;

  beforeAll(async () => {
    await ensureHostDeps();
    [node, pod1, pod2] = [await nets.add('node'), await nets.add('pod1'), await nets.add('pod2')];
    ovsd = await OvsDaemon.start({ runDir: join(tmp, 'ovs'), netns: node });
    daemons.push(ovsd);
    await ovsd.ovs.ensureBridge(BR);
  }, 300_000);

  // A failed test must not leave its connection to break the next one.
  const live = new Set<string>();
  afterEach(async () => {
    if (!ovsd.alive()) return;
    for (const id of live) await disconnect(id).catch(() => undefined);
    const ports = await ovsd.ovs.listPorts(BR).catch(() => []);
    await ovsd.ovs.delPorts(BR, ports.map((p) => p.name)).catch(() => undefined);
    await ovsd.ovs.delFlows(BR).catch(() => undefined);
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of daemons) await d.stop().catch(() => undefined);
    await nets.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** One local kernel-to-kernel connection: two veth pairs, two OVS ports, two flows, pod config. */
  async function connect(connId: string, ctx1?: IpContextSpec, ctx2?: IpContextSpec) {
    const src = hostIfName(connId, 'src');
    const dst = hostIfName(connId, 'dst');
    live.add(connId);
    await Promise.all([
      createVethPair({ hostName: src, hostNetns: node, peerName: 'nsm-1', peerNetns: pod1, mtu: 16000 }),
      createVethPair({ hostName: dst, hostNetns: node, peerName: 'nsm-1', peerNetns: pod2, mtu: 16000 }),
    ]);
    const ofp = await ovsd.ovs.addPorts(BR, [src, dst], { 'nsm-connection-id': connId });
    await ovsd.ovs.addFlows(BR, crossConnectFlows(ofp[src], ofp[dst], flowCookie(connId)));
    await Promise.all([
      ctx1 && applyIpContext(pod1, 'nsm-1', ctx1),
      ctx2 && applyIpContext(pod2, 'nsm-1', ctx2),
      disableOffloads(pod1, 'nsm-1'),
      disableOffloads(pod2, 'nsm-1'),
    ]);
    return { src, dst, ofp };
  }

  async function disconnect(connId: string) {
    const src = hostIfName(connId, 'src');
    const dst = hostIfName(connId, 'dst');
    await ovsd.ovs.delFlows(BR, { cookie: flowCookie(connId) });
    await ovsd.ovs.delPorts(BR, [src, dst]);
    await deleteLinks(node, [src, dst]);
    live.delete(connId);
  }

  async function assertNothingLeft() {
    expect(await ovsd.ovs.dumpFlows(BR)).toEqual([]);
    expect(await ovsd.ovs.listPorts(BR)).toEqual([]);
    expect((await listLinks(node)).map((l) => l.name).sort()).toEqual([BR, 'lo', 'ovs-netdev']);
    expect((await listLinks(pod1)).map((l) => l.name)).toEqual(['lo']);
    expect((await listLinks(pod2)).map((l) => l.name)).toEqual(['lo']);
  }

  const ping = (ns: Netns, addr: string) => exec(['nsenter', `--net=${ns.path}`, 'ping', '-c', '3', '-i', '0.2', '-W', '2', addr]);
  const newConnId = () => `conn-${randomBytes(6).toString('hex')}`;
  const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

  it('cross-connects two pods (IP payload): ping, iperf3, counters, clean teardown', async () => {
    const connId = newConnId();
    const t0 = process.hrtime.bigint();
    const { src, dst, ofp } = await connect(connId, { addrs: ['172.16.1.101/31'] }, { addrs: ['172.16.1.100/31'] });
    const setupMs = ms(t0);

    await ping(pod1, '172.16.1.100');
    await ping(pod2, '172.16.1.101');

    const flows = await ovsd.ovs.dumpFlows(BR, { cookie: flowCookie(connId) });
    expect(flows).toHaveLength(2);
    // ovs-ofctl prints cookies without leading zeros (flowCookie keeps all 16 digits): compare numbers.
    const cookie = BigInt(flowCookie(connId));
    for (const f of flows) {
      expect(BigInt(f.cookie)).toBe(cookie);
      expect(f.priority).toBe(100);
      expect(f.nPackets).toBeGreaterThan(0);
    }
    const { stdout: dumped } = await exec(['ovs-ofctl', '-O', 'OpenFlow13', 'dump-flows', ovsd.ovs.mgmtTarget(BR)]);
    expect(dumped).toContain(`cookie=0x${cookie.toString(16)}`);

    // What a restarted forwarder sees: its ports, their numbers and whose they are.
    const ports = await ovsd.ovs.listPorts(BR);
    expect(ports.map((p) => p.name).sort()).toEqual([src, dst].sort());
    for (const p of ports) {
      expect(p.externalIds['nsm-connection-id']).toBe(connId);
      expect(p.ofport).toBeGreaterThan(0);
      expect(await ovsd.ovs.portOfNumber(BR, p.ofport)).toBe(p.name);
      expect(await ovsd.ovs.ofport(p.name)).toBe(p.ofport);
      expect(p.ofport).toBe(ofp[p.name]);
    }

    // TCP through the userspace datapath (stalls without the offload changes).
    const server = spawn('nsenter', [`--net=${pod2.path}`, 'iperf3', '-s', '-1', '-B', '172.16.1.100'], { stdio: 'ignore' });
    children.push(server);
    let bps = 0;
    for (let i = 0; i < 50 && !bps; i++) {
      // iperf3 -J reports failures inside the JSON (and may still exit 0).
      const { stdout } = await exec(['nsenter', `--net=${pod1.path}`, 'iperf3', '-c', '172.16.1.100', '-t', '2', '-J'], { timeoutMs: 20_000 }).catch(
        (e: { stdout?: string }) => ({ stdout: e.stdout ?? '{}' }),
      );
      const r = JSON.parse(stdout || '{}') as { error?: string; end?: { sum_received?: { bits_per_second: number } } };
      if (r.error && /refused|unable to connect/i.test(r.error)) await new Promise((res) => setTimeout(res, 100));
      else if (r.error) throw new Error(`iperf3: ${r.error}`);
      else bps = r.end?.sum_received?.bits_per_second ?? 0;
    }
    expect(bps).toBeGreaterThan(0);

    const t1 = process.hrtime.bigint();
    await disconnect(connId);
    const teardownMs = ms(t1);
    await assertNothingLeft();

    // A few more rounds for a steadier figure.
    const setups: number[] = [];
    const teardowns: number[] = [];
    for (let i = 0; i < 5; i++) {
      const id = newConnId();
      const a = process.hrtime.bigint();
      await connect(id, { addrs: ['172.16.1.101/31'] }, { addrs: ['172.16.1.100/31'] });
      setups.push(ms(a));
      const b = process.hrtime.bigint();
      await disconnect(id);
      teardowns.push(ms(b));
    }
    await assertNothingLeft();
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    console.log(
      `OVS netdev connection: first setup ${setupMs.toFixed(1)} ms, teardown ${teardownMs.toFixed(1)} ms; ` +
        `median of 5: setup ${median(setups).toFixed(1)} ms, teardown ${median(teardowns).toFixed(1)} ms; ` +
        `iperf3 2 s: ${(bps / 1e9).toFixed(2)} Gbit/s`,
    );
  });

  it('cross-connects Ethernet payload: no IP context, yet ARP and ping work at L2', async () => {
    const connId = newConnId();
    await connect(connId);
    // The forwarder configured no addresses; the pods' own (here: the test's) make L2 traffic visible.
    await exec(['ip', '-n', pod1.name!, 'addr', 'add', '10.250.0.1/24', 'dev', 'nsm-1']);
    await exec(['ip', '-n', pod2.name!, 'addr', 'add', '10.250.0.2/24', 'dev', 'nsm-1']);
    await ping(pod1, '10.250.0.2');
    const { stdout } = await exec(['ip', '-n', pod1.name!, 'neigh', 'show', '10.250.0.2', 'dev', 'nsm-1']);
    expect(stdout).toContain(await getMac(pod2, 'nsm-1'));
    expect((await ovsd.ovs.dumpFlows(BR)).every((f) => f.nPackets > 0)).toBe(true);
    await disconnect(connId);
    await assertNothingLeft();
  });

  it('creates VXLAN ports and accepts VLAN/VXLAN rules', async () => {
    const connId = newConnId();
    const { ofp, src, dst } = await connect(connId);
    // 127.0.0.2 is on the node namespace's own loopback: whatever the pods send stays in that namespace.
    const vxPort = await ovsd.ovs.addVxlanPort(BR, { name: 'v1270002', remoteIp: '127.0.0.2', localIp: '127.0.0.1', key: 'flow', dstPort: 4789, externalIds: { 'nsm-remote': '127.0.0.2' } });
    const vx = (await ovsd.ovs.listPorts(BR)).find((p) => p.name === 'v1270002');
    expect(vx).toMatchObject({ type: 'vxlan', options: { remote_ip: '127.0.0.2', key: 'flow', dst_port: '4789', local_ip: '127.0.0.1' }, externalIds: { 'nsm-remote': '127.0.0.2' } });
    expect(vx!.ofport).toBe(vxPort);

    // Priority 200: the same in_port matches as the connection's own rules, which must survive.
    const cookie = flowCookie(`${connId}-extra`);
    await ovsd.ovs.addFlows(BR, [...vxlanFlows(ofp[src], vxPort, 4242, cookie, 200), ...vlanFlows(vxPort, ofp[dst], 100, cookie, 200)]);
    const extra = await ovsd.ovs.dumpFlows(BR, { cookie });
    expect(extra).toHaveLength(4);
    expect(extra.map((f) => f.actions).join(' ')).toMatch(/push_vlan:0x8100/);
    expect(extra.map((f) => f.match).join(' ')).toMatch(/tun_id=0x1092/);
    // Removing by cookie removes exactly that connection's rules.
    await ovsd.ovs.delFlows(BR, { cookie });
    expect(await ovsd.ovs.dumpFlows(BR)).toHaveLength(2);

    await ovsd.ovs.delPorts(BR, ['v1270002']);
    await disconnect(connId);
    await assertNothingLeft();
  });

  it('fails clearly when a device does not exist, leaving no port', async () => {
    await expect(ovsd.ovs.addPorts(BR, ['tapsrc-nothere'])).rejects.toThrow(/OVS cannot use interface tapsrc-nothere: could not open network device tapsrc-nothere/);
    await expect(ovsd.ovs.ofport('tapsrc-nothere')).rejects.toThrow('OVS interface tapsrc-nothere does not exist');
    expect(await ovsd.ovs.listPorts(BR)).toEqual([]);
  });

  it('fails to start cleanly: clear error, no processes, no files', async () => {
    const dir = join(tmp, 'bad');
    await expect(OvsDaemon.start({ runDir: dir, schema: '/nonexistent.ovsschema' })).rejects.toThrow(/ovsdb-tool create/);
    expect(existsSync(dir)).toBe(false);
  });

  it('runs independent instances in other namespaces, adopts live ones, and stops without leftovers', async () => {
    const node2 = await nets.add('node2');
    const dir2 = join(tmp, 'ovs2');
    const d2 = await OvsDaemon.start({ runDir: dir2, netns: node2 });
    daemons.push(d2);
    await d2.ovs.ensureBridge('br-two');
    expect(await d2.ovs.listBridges()).toEqual(['br-two']);
    expect(await ovsd.ovs.listBridges()).toEqual([BR]);
    expect(d2.pids().ovsVswitchd).not.toBe(ovsd.pids().ovsVswitchd);
    expect((await listLinks(node2)).map((l) => l.name).sort()).toEqual(['br-two', 'lo', 'ovs-netdev']);

    // A restarted forwarder finds its predecessor's daemons and keeps them (with their flows).
    await d2.ovs.addFlows('br-two', ['cookie=0x7,priority=1,actions=drop']);
    const again = await OvsDaemon.start({ runDir: dir2, netns: node2 });
    expect(again.adopted).toBe(true);
    expect(again.pids()).toEqual(d2.pids());
    expect(await again.ovs.dumpFlows('br-two')).toHaveLength(1);

    const pids = Object.values(again.pids()) as number[];
    await again.stop();
    expect(existsSync(dir2)).toBe(false);
    for (const pid of pids) expect(await reaped(pid)).toBe(true);
    expect((await listLinks(node2)).map((l) => l.name)).toEqual(['lo']);

    // And the main instance, the same way.
    const mainPids = Object.values(ovsd.pids()) as number[];
    expect(mainPids).toHaveLength(2);
    await ovsd.stop();
    expect(existsSync(join(tmp, 'ovs'))).toBe(false);
    for (const pid of mainPids) expect(await reaped(pid)).toBe(true);
    expect((await listLinks(node)).map((l) => l.name)).toEqual(['lo']);
  });
});
