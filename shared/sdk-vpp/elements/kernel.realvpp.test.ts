// Kernel2Kernel on one real VPP 25.02 (root): the forwarder's dataplane chain makes a veth + af_packet
// interface per pod and cross-connects them, L2 for Ethernet payload, L3 (per-connection tables,
// static neighbours) for IP payload; pings cross VPP both ways, and after Close VPP holds exactly what
// it held before (interfaces, tables, routes, static neighbours) and the node namespace has no veth left.
import { Connection, Payload } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import type { NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { exec } from '@nsm/sdk-kernel/exec';
import { inNetnsArgv, Netns } from '@nsm/sdk-kernel/netns';
import { ensureHostDeps, TestNetnsSet } from '@nsm/sdk-kernel/testhost';
import { clientConnection, forwarderChain, kernelEndpoint, linkNames, ping, VppTestNode, vppState } from '../testing/realmesh';
import { describeWithVpp } from '../testing/realvpp';
import { reconcile } from './reconcile';

describeWithVpp('Kernel2Kernel on a real VPP', () => {
  const nets = new TestNetnsSet();
  let node: VppTestNode;
  let nsc: Netns;
  let nse: Netns;

  beforeAll(async () => {
    await ensureHostDeps();
    node = await VppTestNode.start(nets, 'node');
    [nsc, nse] = [await nets.add('nsc'), await nets.add('nse')];
  }, 600_000);

  afterAll(async () => {
    await node?.stop();
    await nets.cleanup();
  });

  async function roundTrip(id: string, payload: string, src: string[], dst: string[], pings: Array<[Netns, string]>) {
    const before = await vppState(node.vpp.api);
    const linksBefore = await linkNames(node.netns);
    const h = forwarderChain(node, kernelEndpoint(nse, 'nse-1'));
    let conn = await h.request(Context.background(), { connection: clientConnection(id, nsc, payload, src, dst), mechanismPreferences: [] });
    const during = await vppState(node.vpp.api);
    // A refresh changes nothing.
    conn = await h.request(Context.background(), { connection: conn, mechanismPreferences: [] });
    expect(await vppState(node.vpp.api)).toEqual(during);
    const results: string[] = [];
    try {
      for (const [from, to] of pings) results.push(`${to}: ${await ping(from, to)}`);
    } finally {
      await h.close(Context.background(), conn);
    }
    expect(await vppState(node.vpp.api)).toEqual(before);
    expect(await linkNames(node.netns)).toEqual(linksBefore);
    return { during, results };
  }

  it('Ethernet payload: L2 cross-connect, pings both ways, Close leaves nothing', async () => {
    const { during, results } = await roundTrip('e1', Payload.ETHERNET, ['172.16.1.101/24'], ['172.16.1.100/24'], [[nsc, '172.16.1.100'], [nse, '172.16.1.101']]);
    expect(during.interfaces.filter((i) => i.includes('host-'))).toHaveLength(2);
    expect(during.tables).toEqual(['ip4 0', 'ip6 0']);
    expect(results).toHaveLength(2);
  });

  it('IP payload (IPv4 and IPv6): L3 through per-connection tables, pings both ways, Close leaves nothing', async () => {
    const { during, results } = await roundTrip(
      'i1',
      Payload.IP,
      ['172.16.2.101/32', 'fd00:16:2::101/128'],
      ['172.16.2.100/32', 'fd00:16:2::100/128'],
      [[nsc, '172.16.2.100'], [nse, '172.16.2.101'], [nsc, 'fd00:16:2::100'], [nse, 'fd00:16:2::101']],
    );
    // Two tables per family, each with its default route to the other side; VPP knows the pods' MACs.
    expect(during.tables.filter((t) => !t.endsWith(' 0'))).toHaveLength(4);
    expect(during.routes.filter((r) => / (0\.0\.0\.0\/0|::\/0) -> host-/.test(r))).toHaveLength(4);
    expect(during.staticNeighbors).toHaveLength(4);
    expect(results).toHaveLength(4);
  });

  it('a failure after the endpoint side was built undoes it: VPP and the node as before', async () => {
    const before = await vppState(node.vpp.api);
    const links = await linkNames(node.netns);
    // The client's namespace already has an interface by the name the client asks for.
    await exec(inNetnsArgv(nsc, ['ip', 'link', 'add', 'nsm-9', 'type', 'veth', 'peer', 'name', 'nsm-9b']));
    try {
      const h = forwarderChain(node, kernelEndpoint(nse, 'nse-9'));
      await expect(h.request(Context.background(), { connection: clientConnection('f1', nsc, Payload.IP, ['172.16.4.101/32'], ['172.16.4.100/32'], 'nsm-9'), mechanismPreferences: [] })).rejects.toThrow(/nsm-9/);
    } finally {
      await exec(inNetnsArgv(nsc, ['ip', 'link', 'del', 'nsm-9']));
    }
    expect(await vppState(node.vpp.api)).toEqual(before);
    expect(await linkNames(node.netns)).toEqual(links);
    expect(await linkNames(nse)).toEqual(['lo']);
  });

  it('IP payload: two connections with the same addresses stay apart', async () => {
    const before = await vppState(node.vpp.api);
    const [nsc2, nse2] = [await nets.add('nsc2'), await nets.add('nse2')];
    // One forwarder (one chain); the endpoint side is nse for d1 and nse2 for d2.
    const endpoints: Record<string, NetworkServiceElement> = { d1: kernelEndpoint(nse, 'nse-1'), d2: kernelEndpoint(nse2, 'nse-1') };
    const h = forwarderChain(node, {
      request: (ctx, req, next) => endpoints[req.connection!.id].request!(ctx, req, next),
      close: async () => undefined,
    });
    const made: Connection[] = [];
    try {
      made.push(await h.request(Context.background(), { connection: clientConnection('d1', nsc, Payload.IP, ['172.16.3.101/32'], ['172.16.3.100/32']), mechanismPreferences: [] }));
      made.push(await h.request(Context.background(), { connection: clientConnection('d2', nsc2, Payload.IP, ['172.16.3.101/32'], ['172.16.3.100/32']), mechanismPreferences: [] }));
      expect((await vppState(node.vpp.api)).tables.filter((t) => !t.endsWith(' 0'))).toHaveLength(4);
      // Each client reaches its own endpoint: the reply carries that endpoint's TTL mark.
      await exec(inNetnsArgv(nse2, ['sysctl', '-qw', 'net.ipv4.ip_default_ttl=99']));
      expect(await exec(inNetnsArgv(nsc, ['ping', '-c', '2', '-i', '0.2', '-W', '2', '172.16.3.100'])).then((r) => r.stdout)).toMatch(/ttl=63/);
      expect(await exec(inNetnsArgv(nsc2, ['ping', '-c', '2', '-i', '0.2', '-W', '2', '172.16.3.100'])).then((r) => r.stdout)).toMatch(/ttl=98/);
    } finally {
      for (const c of made) await h.close(Context.background(), c);
    }
    expect(await vppState(node.vpp.api)).toEqual(before);
  });

  it('reconcile after the forwarder died with connections up: VPP and the node as before, and the same connections made again work', async () => {
    const before = await vppState(node.vpp.api);
    const links = await linkNames(node.netns);
    const specs: Array<[string, string, string[], string[]]> = [
      ['r1', Payload.IP, ['172.16.5.101/32', 'fd00:16:5::101/128'], ['172.16.5.100/32', 'fd00:16:5::100/128']],
      ['r2', Payload.ETHERNET, ['172.16.6.101/24'], ['172.16.6.100/24']],
    ];
    const [nse5, nse6] = [await nets.add('nse5'), await nets.add('nse6')];
    const make = async () => {
      const h = forwarderChain(node, { request: (ctx, req, next) => kernelEndpoint(req.connection!.id === 'r1' ? nse5 : nse6, 'nse-1').request!(ctx, req, next) });
      const made = [];
      for (const [id, payload, src, dst] of specs) made.push(await h.request(Context.background(), { connection: clientConnection(id, nsc, payload, src, dst, `nsm-${id}`), mechanismPreferences: [] }));
      await ping(nsc, '172.16.5.100');
      await ping(nsc, '172.16.6.100');
      return { h, made };
    };
    await make();
    // The forwarder is gone (its chain with it); its successor finds VPP and the node as they were.
    expect((await reconcile(node.vpp.api, { hostNetns: node.netns })).filter((x) => x.startsWith('host-'))).toHaveLength(4);
    expect(await vppState(node.vpp.api)).toEqual(before);
    expect(await linkNames(node.netns)).toEqual(links);
    expect(await linkNames(nsc)).toEqual(['lo']);
    // The clients heal through the successor: everything is made again and works.
    const { h, made } = await make();
    for (const c of made) await h.close(Context.background(), c);
    expect(await vppState(node.vpp.api)).toEqual(before);
  });
});
