// VPP started the way cmd-forwarder-vpp starts it without NSM_VPP_API_SOCKET (daemon.ts), from the
// runtime's binary; and NSM_VPP_INIT=AF_PACKET (uplink.ts) on a simulated node whose link holds an
// address, a gateway route and a permanent neighbour, against a real VPP 25.02.
import { mkdtempSync, rmSync } from 'node:fs';
import { exec } from '@nsm/sdk-kernel/exec';
import { ensureHostDeps, TestNetnsSet } from '@nsm/sdk-kernel/testhost';
import { VppApi } from './api';
import { VppConnection } from './connection';
import { VppProcess, vppStartupConf } from './daemon';
import { describeWithVpp, vppBinaries, VppInstance } from './testing/realvpp';
import { findHostLink, initAfPacket } from './uplink';

describe('VPP startup configuration', () => {
  it('has upstream\'s stanzas, the run directory\'s sockets and a prefix of its own; refuses what VPP would misread', () => {
    const conf = vppStartupConf({ runDir: '/tmp/vpp-a', hugepages: false, plugins: ['af_packet', 'vxlan'], heap: '128M', buffers: 4096, mainCore: 1 });
    expect(conf).toContain('socksvr { socket-name /tmp/vpp-a/api.sock }');
    expect(conf).toContain('  cli-listen /tmp/vpp-a/cli.sock');
    expect(conf).toContain('  nodaemon');
    expect(conf).toContain('api-trace { on }');
    expect(conf).toContain('cpu { main-core 1 }');
    expect(conf).toContain('memory { main-heap-size 128M main-heap-page-size 4k }');
    expect(conf).toContain('buffers { buffers-per-numa 4096 page-size 4k }');
    expect(vppStartupConf({ runDir: '/tmp/vpp-a', hugepages: true })).toContain('buffers { buffers-per-numa 32768 default data-size 3776 page-size default-hugepage }');
    expect(conf).toMatch(/plugin default \{ disable \}\n {2}plugin af_packet_plugin\.so \{ enable \}\n {2}plugin vxlan_plugin\.so \{ enable \}/);
    expect(vppStartupConf({ runDir: '/tmp/vpp-a' })).toMatch(/plugin dpdk_plugin\.so \{ disable \}/);
    const prefix = (c: string) => /api-segment \{ prefix (\S+) \}/.exec(c)?.[1];
    expect(prefix(conf)).not.toEqual(prefix(vppStartupConf({ runDir: '/tmp/vpp-b' })));
    expect(() => vppStartupConf({ runDir: '/tmp/a b' })).toThrow(/run directory/);
    expect(() => vppStartupConf({ runDir: '/tmp/x', heap: '1G }\nunix {' })).toThrow(/heap/);
    expect(() => vppStartupConf({ runDir: '/tmp/x', plugins: ['x.so { enable } plugin y'] })).toThrow(/plugin/);
  });
});

describeWithVpp('VPP as a child process, and the AF_PACKET uplink', () => {
  const nets = new TestNetnsSet();
  afterAll(() => nets.cleanup());

  it('starts, answers on its API socket, and is gone after stop; a VPP that cannot start is reported', async () => {
    const { vpp: bin } = await vppBinaries();
    const run = mkdtempSync('/tmp/nsmvpp-d-');
    try {
      const vpp = await VppProcess.start({ bin, runDir: run, hugepages: false, heap: '128M', buffers: 4096, mainCore: 0, plugins: ['af_packet', 'vxlan', 'wireguard', 'memif'] });
      const exited = new Promise((r) => vpp.once('exit', (code, signal) => r(signal ?? code)));
      const c = await VppConnection.connect(vpp.apiSocket, { timeoutMs: 5000 });
      expect((await new VppApi(c).showVersion()).version).toBe('25.02-release');
      await c.close();
      await vpp.stop();
      // VPP ends cleanly on SIGTERM.
      expect(await exited).toBe(0);
      await expect(VppProcess.start({ bin: '/nonexistent/vpp', runDir: run })).rejects.toThrow(/cannot start VPP|exited while starting/);
      await expect(VppProcess.start({ bin, runDir: run, config: '/nonexistent.conf', timeoutMs: 10_000 })).rejects.toThrow(/exited while starting/);
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });

  it('AF_PACKET: the link holding the tunnel IP goes into VPP with its MTU, address, routes and neighbours; again changes nothing; the host keeps its own', async () => {
    await ensureHostDeps();
    const node = await nets.add('node');
    const peer = await nets.add('peer');
    await exec(['ip', '-n', node.name!, 'link', 'add', 'eth0', 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer.name!]);
    for (const [ns, ip] of [[node, '10.98.0.1/24'], [peer, '10.98.0.254/24']] as const) {
      await exec(['ip', '-n', ns.name!, 'addr', 'add', ip, 'dev', 'eth0']);
      await exec(['ip', '-n', ns.name!, 'link', 'set', 'eth0', 'up']);
    }
    await exec(['ip', '-n', node.name!, 'route', 'add', 'default', 'via', '10.98.0.254']);
    await exec(['ip', '-n', node.name!, 'neigh', 'replace', '10.98.0.200', 'lladdr', '02:00:00:00:00:c8', 'dev', 'eth0', 'nud', 'permanent']);
    const hostBefore = (await exec(['ip', '-n', node.name!, '-br', 'addr'])).stdout;
    const vpp = await VppInstance.start({ name: 'uplink', netns: node });
    try {
      const link = await findHostLink(node, '10.98.0.1');
      expect(link).toMatchObject({ name: 'eth0', mtu: 1400, address: '10.98.0.1/24', routes: [{ prefix: '0.0.0.0/0', gateway: '10.98.0.254' }], neighbors: [{ ip: '10.98.0.200', mac: '02:00:00:00:00:c8' }] });
      expect(await findHostLink(node, '10.98.9.9')).toBeUndefined();
      expect((await findHostLink(node))?.address).toBe('10.98.0.1/24');
      const up = await initAfPacket(vpp.api, link!);
      const again = await initAfPacket(vpp.api, link!);
      expect(again.swIfIndex).toBe(up.swIfIndex);
      expect(await vpp.api.ipAddressDump(up.swIfIndex, false)).toEqual(['10.98.0.1/24']);
      expect((await vpp.api.ipRouteDump(0, false)).filter((r) => r.prefix === '0.0.0.0/0')).toEqual([{ prefix: '0.0.0.0/0', paths: [{ swIfIndex: up.swIfIndex, nextHop: '10.98.0.254' }] }]);
      expect((await vpp.api.ipNeighborDump(false)).map((n) => [n.ip, n.mac])).toContainEqual(['10.98.0.200', '02:00:00:00:00:c8']);
      expect((await vpp.api.interfaceDump('host-eth0'))[0].mtu[0]).toBe(1400);
      // VPP reaches the gateway from the node's address; the host still has its own address and route.
      expect(await vpp.cli('ping', '10.98.0.254', 'repeat', '2')).toMatch(/2 sent, 2 received/);
      expect((await exec(['ip', '-n', node.name!, '-br', 'addr'])).stdout).toEqual(hostBefore);
      expect((await exec(['ip', '-n', node.name!, 'link', 'show', 'eth0'])).stdout).toMatch(/ mtu 1400 /);
      expect((await exec(['ip', 'netns', 'exec', peer.name!, 'ping', '-c', '1', '-W', '2', '10.98.0.1'])).stdout).toMatch(/1 received/);
    } finally {
      await vpp.stop();
    }
  });
});
