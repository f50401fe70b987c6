// Issue 15 end to end, on a two-node mesh with the default NSM_DATAPATH=auto: local (veth-veth) and
// VXLAN (veth-VXLAN device) connections are joined in the kernel by tc redirects, not by OVS;
// WireGuard is routed; TCP runs with offloads on; nothing is left after Close (links, qdiscs, ports,
// rules); the forwarders start no process while Requests and Closes come and go (every child process
// they start is traced by a preloaded hook); a forwarder restart keeps a tc-joined data path up and
// the healed connection adopts it.
import { join } from 'node:path';
import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { NsmConnection, rpcClose, rpcRequest } from '@nsm/sdk/grpc/clients';
import type { TokenGenerator } from '@nsm/sdk/token';
import { existsSync, readFileSync } from 'node:fs';
import { createNetns } from '../../local/host';
import { e2eUnavailable, eventually, inNs, nsc, nse, root, TestMesh } from './harness';

const skip = e2eUnavailable();
const d = skip ? describe.skip : describe;
if (skip) test.skip(`fast path e2e skipped: ${skip}`, () => undefined);

jest.setTimeout(300_000);

d('kernel fast path (NSM_DATAPATH=auto) on a two-node mesh', () => {
  const t = new TestMesh(`fp${process.pid % 10000}`);
  // The test acts as a workload of the mesh with an SVID of its own, like a pod would.
  let tokens: TokenGenerator;
  const trace = (node: string) => join(t.paths.nodeDir(node), 'spawns.jsonl');
  const spawns = (node: string): string[] => (existsSync(trace(node)) ? readFileSync(trace(node), 'utf8').split('\n').filter(Boolean) : []);
  const client = t.ns('client');
  let cc: NsmConnection;
  let n = 0;

  const request = (service: string): NetworkServiceRequest => {
    n++;
    return {
      // As a client chain sends it: the client's own segment first, which its token is stamped into.
      connection: Connection.fromPartial({ id: `fp-${n}`, networkService: service, path: { index: 0, pathSegments: [{ name: 'fp-client', id: `fp-${n}`, token: '', metrics: {} }] } }),
      mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: `file:///var/run/netns/${client}`, name: `fp${n}` } })],
    };
  };
  const connect = (service: string) => rpcRequest(Context.background().withTimeout(30_000).ctx, cc, request(service), tokens);
  const close = (c: Connection) => rpcClose(Context.background().withTimeout(30_000).ctx, cc, c, tokens);
  const peer = (c: Connection) => c.context!.ipContext!.dstIpAddrs[0].split('/')[0];
  const ping = (c: Connection) => inNs(client, ['ping', '-c', '1', '-W', '2', peer(c)]);
  const hostEnds = (node: string) => t.links(node).filter((l) => /^tap(src|dst)-/.test(l));

  beforeAll(async () => {
    await t.down().catch(() => undefined);
    const traced = (node: string) => ({ NODE_OPTIONS: `--require ${join(root, 'test/e2e/spawn-trace.js')}`, NSM_SPAWN_TRACE: trace(node) });
    await t.up({
      nodes: [
        { name: 'node1', forwarder: 'ovs', env: {}, forwarderEnv: traced('node1') },
        { name: 'node2', forwarder: 'ovs', env: {}, forwarderEnv: traced('node2') },
      ],
    });
    await t.pods(
      nse('nse-local', { NSM_SERVICE_NAMES: 'fp-local', NSM_CIDR_PREFIX: '172.16.20.0/24' }),
      nse('nse-eth', { NSM_SERVICE_NAMES: 'fp-eth', NSM_CIDR_PREFIX: '172.16.21.0/24' }, 'node2'),
      nse('nse-ip', { NSM_SERVICE_NAMES: 'fp-ip', NSM_PAYLOAD: 'IP', NSM_CIDR_PREFIX: '172.16.22.0/24' }, 'node2'),
      // Room for one connection at a time: a second is refused by the endpoint.
      nse('nse-one', { NSM_SERVICE_NAMES: 'fp-one', NSM_CIDR_PREFIX: '172.16.23.0/31' }),
    );
    await createNetns(client);
    const me = await t.mesh.workload('fp-client', 600_000);
    tokens = me.tokens;
    cc = new NsmConnection(`unix://${t.paths.nsmSocket('node1')}`, me.source);
    // The endpoints register a moment after they start.
    for (const s of ['fp-local', 'fp-eth', 'fp-ip', 'fp-one']) await close(await eventually(`${s} to answer`, () => connect(s)));
  });

  afterAll(async () => {
    cc?.close();
    await t.down();
  });

  test('a local connection is two veths joined by tc redirects: no OVS port or rule, TCP with offloads on', async () => {
    const c = await connect('fp-local');
    ping(c);
    const [a, b] = hostEnds('node1');
    for (const dev of [a, b]) expect(inNs(t.ns('node1'), ['tc', 'filter', 'show', 'dev', dev, 'ingress'])).toMatch(/mirred \(Egress Redirect to device tap(src|dst)-/);
    expect(t.ovsPorts('node1')).toEqual([]);
    expect(t.ovsFlows('node1')).toEqual([]);
    expect(inNs(client, ['ethtool', '-k', `fp${n}`])).toMatch(/tx-checksumming: on/);
    inNs(t.ns('nse-local'), ['sh', '-c', `iperf3 -s -1 -D -B ${peer(c)}`]);
    await new Promise((r) => setTimeout(r, 300));
    const out = JSON.parse(inNs(client, ['iperf3', '-c', peer(c), '-t', '1', '-J']));
    expect(out.end.sum_received.bits_per_second).toBeGreaterThan(1e8);
    await close(c);
    expect(hostEnds('node1')).toEqual([]);
  });

  test('a VXLAN connection joins the veth and the VXLAN device with tc on both nodes', async () => {
    const c = await connect('fp-eth');
    expect(c.mechanism).toBeDefined();
    ping(c);
    for (const node of ['node1', 'node2']) {
      const vx = t.links(node).find((l) => l.startsWith('vxlan'));
      expect(vx).toBeDefined();
      expect(inNs(t.ns(node), ['tc', 'filter', 'show', 'dev', vx!, 'ingress'])).toMatch(/mirred \(Egress Redirect to device tap(src|dst)-/);
      expect(t.ovsFlows(node)).toEqual([]);
    }
    await close(c);
  });

  test("a Request the endpoint refuses leaves nothing: the client's veth pair, made while the Request travelled on, goes again", async () => {
    const links = () => inNs(client, ['ip', '-o', 'link', 'show']).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0]).filter(Boolean);
    const first = await connect('fp-one');
    const name = `fp${n}`;
    ping(first);
    await expect(connect('fp-one')).rejects.toThrow(/IP pool 172\.16\.23\.0\/31 is exhausted/);
    expect(links().filter((l) => l.startsWith('fp'))).toEqual([name]);
    expect(hostEnds('node1')).toHaveLength(2);
    ping(first);
    await close(first);
    expect(links().filter((l) => l.startsWith('fp'))).toEqual([]);
    expect(hostEnds('node1')).toEqual([]);
  });

    test('a WireGuard connection is routed, with a device from the pool renamed for it', async () => {
    const c = await connect('fp-ip');
    ping(c);
    expect(t.links('node1').some((l) => l.startsWith('nsmwgd-'))).toBe(true);
    expect(t.links('node2').some((l) => l.startsWith('nsmwgs-'))).toBe(true);
    await close(c);
    expect(t.links('node1').some((l) => l.startsWith('nsmwg'))).toBe(false);
  });

  test('in steady state the forwarders start no process on Request or Close', async () => {
    const before = { node1: spawns('node1').length, node2: spawns('node2').length };
    for (let i = 0; i < 3; i++) {
      for (const s of ['fp-local', 'fp-eth', 'fp-ip']) {
        const c = await connect(s);
        ping(c);
        await close(c);
      }
    }
    expect({ node1: spawns('node1').slice(before.node1), node2: spawns('node2').slice(before.node2) }).toEqual({ node1: [], node2: [] });
    // The hook works: the forwarders' start-up (OVS tools, wireguard-go for the pool) was traced.
    expect(spawns('node1').some((l) => l.includes('wireguard-go'))).toBe(true);
  });

  test('a forwarder restart keeps a tc-joined data path up; the healed connection adopts it', async () => {
    await t.pods(nsc('nsc-kernel', { NSM_NETWORK_SERVICES: 'kernel://fp-local/nsm-1' }));
    await eventually('nsm-1 in the client', () => inNs(t.ns('nsc-kernel'), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1']).includes('172.16.20.'));
    const target = inNs(t.ns('nsc-kernel'), ['ip', '-4', 'route', 'show', 'dev', 'nsm-1']).split(/\s+/)[0];
    const ends = hostEnds('node1');
    t.mesh.supervisor.signal('forwarder-node1', 'SIGKILL');
    const until = Date.now() + 3000;
    let lost = 0;
    while (Date.now() < until) if (!inNs(t.ns('nsc-kernel'), ['ping', '-c', '1', '-W', '0.3', target], { allowFail: true }).includes(' 0% packet loss')) lost++;
    expect(lost).toBe(0);
    await eventually('the healed connection to adopt the veths', () => readFileSync(join(t.paths.logs, 'forwarder-node1.log'), 'utf8').includes('"adopted":true'), 60_000);
    expect(hostEnds('node1').sort()).toEqual(ends.sort());
    await t.mesh.deletePod('nsc-kernel');
  });

  test('after every Close nothing is left on either node: links, qdiscs, ports, rules', async () => {
    await t.mesh.deletePod('nse-local');
    expect(await eventually('node1 clean', () => (t.nsmLeftovers('node1').length === 0 ? [] : undefined))).toEqual([]);
    expect(await eventually('node2 clean', () => (t.nsmLeftovers('node2').length === 0 ? [] : undefined))).toEqual([]);
  });
});
