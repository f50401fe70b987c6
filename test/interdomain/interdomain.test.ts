// Issue 17 end to end: two domains and a floating registry as real processes, discovery through a
// real DNS server (dnsmasq), Requests across the domains' nsmgr-proxies, VXLAN between the two
// domains' forwarders, and pings both ways.
//
// One local mesh hosts both domains (until the multi-cluster runtime lands): node1 is domain 1
// (cluster1.nsm: the mesh's registry), node2 is domain 2 (cluster2.nsm: a registry of its own, which
// its nsmgr uses); each domain has its nsmgr-proxy and registry-proxy-dns, and floating.nsm has a
// registry only. All of them run in the fabric namespace on their own ports, so each domain's
// services are found only through DNS. Both domains share the mesh's trust domain (federation of
// trust domains is another part of the issue).
//
// Each domain has internal and external addresses, as behind a NAT: a node's and the fabric's
// interfaces carry a second, "external" address, DNS gives the other domain the external ones, and
// each domain's nsmgr-proxy has an address map (internal → external). The forwarders' VXLAN devices
// must then point at the other side's external address: the proof that the map was applied.
import { Connection, NetworkService, NetworkServiceEndpoint, Param } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { Code } from '@nsm/sdk/core/errors';
import { findAll } from '@nsm/sdk/core/registry';
import { monitorStream, NsmConnection } from '@nsm/sdk/grpc/clients';
import { nseRegistryClient, nsRegistryClient } from '@nsm/sdk/grpc/registry';
import { NSMGR_PROXY_SERVICE, REGISTRY_SERVICE } from '@nsm/sdk/registry/dnsresolve/resolver';
import { Dnsmasq, dnsmasqUnavailable, startDnsmasq } from '@nsm/sdk/testing/dnsmasq';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FABRIC_IP } from '../../local/host';
import { waitForGrpc } from '../../local/mesh';
import { commandArgv } from '../../local/paths';
import { actAsConnections } from '../../local/actas';
import { e2eUnavailable, eventually, inNs, nsc, nse, root, TestMesh } from '../e2e/harness';

const missing = ['cmd-nsmgr-proxy', 'cmd-registry-proxy-dns'].find((c) => !existsSync(join(root, c, 'dist', `${c}.js`)));
const skip = e2eUnavailable() ?? dnsmasqUnavailable() ?? (missing && `bundle ${missing} missing (run make build)`);
const d = skip ? describe.skip : describe;
if (skip) test.skip(`interdomain e2e skipped: ${skip}`, () => undefined);

jest.setTimeout(300_000);

const D1 = 'cluster1.nsm';
const D2 = 'cluster2.nsm';
const FLOATING = 'floating.nsm';
const url = (port: number) => `tcp://${FABRIC_IP}:${port}`;
/** Internal → external, per domain (the fabric hosts both domains' proxies, so it has one per domain). */
const EXTERNAL = {
  d1: { [FABRIC_IP]: '10.233.0.201', '10.233.0.11': '10.233.0.111' },
  d2: { [FABRIC_IP]: '10.233.0.202', '10.233.0.12': '10.233.0.112' },
};
const PORTS = { d1: { registry: 5002, proxy: 5004, dns: 5005 }, d2: { registry: 6002, proxy: 6004, dns: 6005 }, floating: { registry: 7002 } };

d('interdomain: two domains and a floating registry', () => {
  const t = new TestMesh(`idom${process.pid % 10000}`);
  let dns: Dnsmasq | undefined;
  const extra: string[] = [];

  /** Starts one of the domains' processes in the fabric namespace, with a mesh identity of its own. */
  async function component(name: string, cmd: string, env: Record<string, string>, probe: string): Promise<void> {
    await t.mesh.workload(name);
    t.mesh.supervisor.start({
      name,
      netns: t.ns('fabric'),
      argv: commandArgv(cmd),
      env: { ...env, SPIFFE_ENDPOINT_SOCKET: `unix://${join(t.paths.root, 'spire', name, 'agent.sock')}`, NSM_LOG_LEVEL: 'DEBUG', REGISTRY_K8S_LOG_LEVEL: 'DEBUG' },
      logFile: join(t.paths.logs, `${name}.log`),
    });
    extra.push(name);
    await waitForGrpc(probe, name, t.mesh.sourceOf('e2e-probe'));
  }

  beforeAll(async () => {
    await t.down().catch(() => undefined);
    // Domain 1 first (the mesh's registry, told where interdomain names go), then the fabric holds
    // the domains' components, then node2 joins as domain 2.
    await t.up({
      nodes: [{ name: 'node1', forwarder: 'ovs', env: { CLUSTER_NAME: 'cluster1' } }],
      // The forwarders' default dial timeout (50 ms, upstream's) is less than a first mutual-TLS dial
      // takes on this loaded 2-core machine now and then; the client would retry, but each retry costs
      // its back-off in this test's time.
      forwarderEnv: { NSM_DIAL_TIMEOUT: '1s' },
      registryEnv: {
        REGISTRY_K8S_PROXY_REGISTRY_URL: url(PORTS.d1.proxy),
        // Also on the domain's external address (what DNS tells other domains).
        REGISTRY_K8S_LISTEN_ON: `tcp://:${PORTS.d1.registry},unix://${join(t.paths.root, 'registry.sock')}`,
      },
    });
    await t.mesh.workload('e2e-probe');
    for (const ext of [EXTERNAL.d1[FABRIC_IP], EXTERNAL.d2[FABRIC_IP]]) inNs(t.ns('fabric'), ['ip', 'addr', 'add', `${ext}/24`, 'dev', 'nsmbr0']);
    for (const domain of ['d1', 'd2'] as const) {
      writeFileSync(join(t.paths.root, `map-ip-${domain}.yaml`), Object.entries(EXTERNAL[domain]).map(([i, e]) => `${i}: ${e}\n`).join(''));
    }
    const ext = (domain: 'd1' | 'd2') => EXTERNAL[domain][FABRIC_IP];
    dns = await startDnsmasq({
      netns: t.ns('fabric'),
      ip: FABRIC_IP,
      domains: {
        [D1]: [
          { service: REGISTRY_SERVICE, ip: ext('d1'), port: PORTS.d1.registry },
          { service: NSMGR_PROXY_SERVICE, ip: ext('d1'), port: PORTS.d1.proxy },
        ],
        [D2]: [
          { service: REGISTRY_SERVICE, ip: ext('d2'), port: PORTS.d2.registry },
          { service: NSMGR_PROXY_SERVICE, ip: ext('d2'), port: PORTS.d2.proxy },
        ],
        [FLOATING]: [{ service: REGISTRY_SERVICE, ip: FABRIC_IP, port: PORTS.floating.registry }],
      },
    });
    const registry = (name: string, port: number, proxyPort?: number) =>
      component(
        name,
        'cmd-registry-k8s',
        { REGISTRY_K8S_LISTEN_ON: `tcp://:${port},unix://${join(t.paths.root, `${name}.sock`)}`, REGISTRY_K8S_STORE: 'memory', ...(proxyPort ? { REGISTRY_K8S_PROXY_REGISTRY_URL: url(proxyPort) } : {}) },
        `unix://${join(t.paths.root, `${name}.sock`)}`,
      );
    const proxies = async (domain: 'd1' | 'd2') => {
      const p = PORTS[domain];
      await component(
        `registry-proxy-dns-${domain}`,
        'cmd-registry-proxy-dns',
        { NSM_LISTEN_ON: `${url(p.dns)},unix://${join(t.paths.root, `dns-${domain}.sock`)}`, NSM_DNS_SERVERS: dns!.server },
        `unix://${join(t.paths.root, `dns-${domain}.sock`)}`,
      );
      await component(
        `nsmgr-proxy-${domain}`,
        'cmd-nsmgr-proxy',
        {
          NSM_NAME: `nsmgr-proxy-${domain}`,
          NSM_LISTEN_ON: `tcp://:${p.proxy},unix://${join(t.paths.root, `proxy-${domain}.sock`)}`,
          NSM_PUBLIC_URL: url(p.proxy),
          NSM_REGISTRY_URL: url(p.registry),
          NSM_PROXY_REGISTRY_URL: url(p.dns),
          NSM_MAP_IP_FILE_PATH: join(t.paths.root, `map-ip-${domain}.yaml`),
        },
        `unix://${join(t.paths.root, `proxy-${domain}.sock`)}`,
      );
    };
    // The floating registry is at an address of its own on the "internet" side.
    await registry('registry-d2', PORTS.d2.registry, PORTS.d2.proxy);
    await registry('registry-floating', PORTS.floating.registry);
    await proxies('d1');
    await proxies('d2');
    await t.up({
      nodes: [
        { name: 'node1', forwarder: 'ovs', env: { CLUSTER_NAME: 'cluster1' } },
        { name: 'node2', forwarder: 'ovs', env: { CLUSTER_NAME: 'cluster2', NSM_REGISTRY_URL: url(PORTS.d2.registry) } },
      ],
    });
    inNs(t.ns('node1'), ['ip', 'addr', 'add', `${EXTERNAL.d1['10.233.0.11']}/24`, 'dev', 'eth0']);
    inNs(t.ns('node2'), ['ip', 'addr', 'add', `${EXTERNAL.d2['10.233.0.12']}/24`, 'dev', 'eth0']);
  });

  afterAll(async () => {
    for (const name of extra.reverse()) await t.mesh.supervisor.stop(name);
    await dns?.stop();
    await t.down();
  });

  const vxlanRemotes = (node: string) => [...inNs(t.ns(node), ['ip', '-d', 'link', 'show', 'type', 'vxlan']).matchAll(/vxlan id \d+ remote (\S+)/g)].map((m) => m[1]);
  /** True when neither node has anything NSM made; else throws naming what is left. */
  const noLeftovers = () => {
    const left = [...t.nsmLeftovers('node1').map((l) => `node1 ${l}`), ...t.nsmLeftovers('node2').map((l) => `node2 ${l}`)];
    if (left.length > 0) throw new Error(`left: ${left.join('; ')}`);
    return true;
  };
  const ping = (pod: string, ip: string) => inNs(t.ns(pod), ['ping', '-c', '3', '-W', '2', ip]);
  const hasAddr = (pod: string, dev: string, addr: string) => () => inNs(t.ns(pod), ['ip', '-4', 'addr', 'show', 'dev', dev], { allowFail: true }).includes(`inet ${addr}`);

  test(`Kernel2Vxlan2Kernel: a client in ${D1} reaches icmp-responder@${D2}`, async () => {
    await t.pods(nse('nse-d2', { NSM_SERVICE_NAMES: 'icmp-responder', NSM_CIDR_PREFIX: '172.16.1.2/31' }, 'node2'));
    await t.pods(nsc('nsc-d1', { NSM_NETWORK_SERVICES: `kernel://icmp-responder@${D2}/nsm-1` }, 'node1'));
    await eventually('nsm-1 in the client', hasAddr('nsc-d1', 'nsm-1', '172.16.1.3/32'), 90_000);
    ping('nsc-d1', '172.16.1.2');
    ping('nse-d2', '172.16.1.3');
    // The Request went through both domains' proxies to the endpoint's node.
    const [shown] = await actAsConnections(t.paths, t.mesh.status().identities, 'nsc-d1', 'node1');
    expect(shown.networkService).toBe(`icmp-responder@${D2}`);
    expect(shown.path.map((s) => s.name)).toEqual(['nsc-d1', 'nsmgr-node1', 'forwarder-node1', 'nsmgr-proxy-d1', 'nsmgr-proxy-d2', 'nsmgr-node2', 'forwarder-node2', 'nse-d2']);
    // The data plane: straight between the two domains' forwarders, each addressing the other's external IP.
    expect(vxlanRemotes('node1')).toEqual([EXTERNAL.d2['10.233.0.12']]);
    expect(vxlanRemotes('node2')).toEqual([EXTERNAL.d1['10.233.0.11']]);
  });

  test('Close leaves nothing in either domain', async () => {
    await t.mesh.deletePod('nsc-d1');
    await eventually('no NSM interface left on node1 or node2', () => noLeftovers(), 30_000);
    expect(vxlanRemotes('node1')).toEqual([]);
    expect(inNs(t.ns('nse-d2'), ['ip', '-br', 'link'])).not.toMatch(/nsm|icmp/);
  });

  /** The connections nsmgr-proxy-d1 shows the pod `as` (MonitorConnections shows a caller its own). */
  async function atProxy1(as: string): Promise<Connection[]> {
    const cc = new NsmConnection(`unix://${join(t.paths.root, 'proxy-d1.sock')}`, t.mesh.sourceOf(as));
    const { ctx: c, cancel } = Context.background().withTimeout(10_000);
    let shown: Connection[] = [];
    try {
      await monitorStream(c, cc, { pathSegments: [], networkServices: [] }, (ev) => {
        shown = Object.values(ev.connections);
        cancel();
      }).catch(() => undefined);
      return shown;
    } finally {
      cancel();
      cc.close();
    }
  }

  test(`Kernel2Wireguard2Kernel: IP payload across the domains goes over WireGuard between the forwarders`, async () => {
    await t.pods(nse('nse-wg', { NSM_SERVICE_NAMES: 'icmp-responder-ip', NSM_PAYLOAD: 'IP', NSM_CIDR_PREFIX: '172.16.3.2/31' }, 'node2'));
    // Domain 1's registry sees the service (with its payload, which makes it WireGuard) and the endpoint.
    const registry1 = nsRegistryClient(registryAt('registry'), t.mesh.sourceOf('e2e-probe'));
    const registry1Nse = nseRegistryClient(registryAt('registry'), t.mesh.sourceOf('e2e-probe'));
    try {
      const ns = await eventually('the service seen from domain 1', async () => (await findAll(registry1, ctx(), NetworkService.fromPartial({ name: `icmp-responder-ip@${D2}` })))[0]?.item);
      expect(ns.payload).toBe('IP');
      await eventually('the endpoint seen from domain 1', async () => (await findAll(registry1Nse, ctx(), NetworkServiceEndpoint.fromPartial({ networkServiceNames: [`icmp-responder-ip@${D2}`] })))[0]?.item.name === `nse-wg@${D2}`);
    } finally {
      registry1.close();
      registry1Nse.close();
    }
    await t.pods(nsc('nsc-wg', { NSM_NETWORK_SERVICES: `kernel://icmp-responder-ip@${D2}/nsm-1` }, 'node1'));
    await eventually('nsm-1 in the client', hasAddr('nsc-wg', 'nsm-1', '172.16.3.3/32'), 90_000);
    ping('nsc-wg', '172.16.3.2');
    ping('nse-wg', '172.16.3.3');
    const conn = (await atProxy1('nsc-wg')).find((c) => c.networkService === `icmp-responder-ip@${D2}`)!;
    expect(conn.mechanism?.type).toBe('WIREGUARD');
    // Between the proxies the forwarders are known by their external addresses only.
    expect(conn.mechanism?.parameters[Param.dstIp]).toBe(EXTERNAL.d2['10.233.0.12']);
    await t.mesh.deletePod('nsc-wg');
    await t.mesh.deletePod('nse-wg');
    await eventually('no NSM interface left on node1 or node2', () => noLeftovers(), 30_000);
  });

  /** A registry of the mesh, asked as the test's own workload over its unix socket. */
  const registryAt = (name: string) => `unix://${join(t.paths.root, `${name}.sock`)}`;
  const ctx = () => Context.background().withTimeout(10_000).ctx;

  test(`floating: an endpoint of ${D2} registers as icmp-server@${FLOATING}; a client in ${D1} finds and reaches it`, async () => {
    await t.pods(
      nse('nse-fl', { NSM_NAME: `icmp-server@${FLOATING}`, NSM_SERVICE_NAMES: `icmp-responder@${FLOATING}`, NSM_CIDR_PREFIX: '172.16.2.2/31' }, 'node2'),
    );
    // The floating registry knows it by its bare name, reached at domain 2's nsmgr-proxy's external address.
    const source = t.mesh.sourceOf('e2e-probe');
    const floating = nseRegistryClient(registryAt('registry-floating'), source);
    const floatingNs = nsRegistryClient(registryAt('registry-floating'), source);
    try {
      const kept = await eventually('the registration in the floating registry', async () => {
        const found = await findAll(floating, ctx(), NetworkServiceEndpoint.fromPartial({ name: 'icmp-server' }));
        return found.length > 0 ? found : undefined;
      });
      expect(kept!.map((f) => [f.item.name, f.item.networkServiceNames, f.item.url])).toEqual([['icmp-server', ['icmp-responder'], `tcp://${EXTERNAL.d2[FABRIC_IP]}:${PORTS.d2.proxy}`]]);
      expect((await findAll(floatingNs, ctx(), NetworkService.fromPartial({ name: 'icmp-responder' }))).map((f) => f.item.name)).toEqual(['icmp-responder']);

      await t.pods(nsc('nsc-fl', { NSM_NETWORK_SERVICES: `kernel://icmp-responder@${FLOATING}/nsm-2` }, 'node1'));
      await eventually('nsm-2 in the client', hasAddr('nsc-fl', 'nsm-2', '172.16.2.3/32'), 90_000);
      ping('nsc-fl', '172.16.2.2');
      ping('nse-fl', '172.16.2.3');
      const [shown] = await actAsConnections(t.paths, t.mesh.status().identities, 'nsc-fl', 'node1');
      expect(shown.path.map((s) => s.name)).toEqual(['nsc-fl', 'nsmgr-node1', 'forwarder-node1', 'nsmgr-proxy-d1', 'nsmgr-proxy-d2', 'nsmgr-node2', 'forwarder-node2', `icmp-server@${FLOATING}`]);
      expect(vxlanRemotes('node1')).toEqual([EXTERNAL.d2['10.233.0.12']]);

      // Gone: the connection from both nodes, the registration from the floating registry.
      await t.mesh.deletePod('nsc-fl');
      await eventually('no NSM interface left', () => noLeftovers(), 30_000);
      await t.mesh.deletePod('nse-fl');
      await eventually('the floating registration gone', async () => (await findAll(floating, ctx(), NetworkServiceEndpoint.fromPartial({ name: 'icmp-server' }))).length === 0);
    } finally {
      floating.close();
      floatingNs.close();
    }
  });

  test('a registration for a domain DNS cannot resolve gets a clear error, and is kept nowhere', async () => {
    const { source } = await t.mesh.workload('e2e-registrant');
    const nsmgr2 = nseRegistryClient(`unix://${t.paths.nsmSocket('node2')}`, source);
    const registry2 = nseRegistryClient(registryAt('registry-d2'), t.mesh.sourceOf('e2e-probe'));
    try {
      const lost = NetworkServiceEndpoint.fromPartial({ name: 'lost@nowhere.nsm', url: 'tcp://10.233.0.12:5999', networkServiceNames: ['svc@nowhere.nsm'] });
      await expect(nsmgr2.register(ctx(), lost)).rejects.toMatchObject({ code: Code.NOT_FOUND, message: expect.stringMatching(/cannot resolve domain "nowhere.nsm": no SRV record _registry.nsm-system._tcp.nowhere.nsm/) });
      const names = (await findAll(registry2, ctx(), NetworkServiceEndpoint.fromPartial({}))).map((f) => f.item.name);
      expect(names).not.toContain('lost@nowhere.nsm');
      expect(names).toContain('nse-d2');
    } finally {
      nsmgr2.close();
      registry2.close();
    }
  });

  /** Whether pod `name` logged its connection healed at or after `since`. */
  const healedSince = (name: string, since: number) =>
    readFileSync(join(t.paths.logs, `${name}.log`), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"connection healed"'))
      .some((l) => Date.parse((JSON.parse(l) as { time: string }).time) >= since);

  test('heal across domains: a killed nsmgr-proxy or remote forwarder, and the client pings again', async () => {
    // Short tokens: the client refreshes every few seconds, and a refresh must cross the restarted
    // proxy, which has forgotten which URL `nse-heal@cluster2.nsm` is at (it looks the name up again).
    await t.pods(nse('nse-heal', { NSM_SERVICE_NAMES: 'icmp-heal', NSM_CIDR_PREFIX: '172.16.4.2/31' }, 'node2'));
    await t.pods(nsc('nsc-heal', { NSM_NETWORK_SERVICES: `kernel://icmp-heal@${D2}/nsm-1`, NSM_MAX_TOKEN_LIFETIME: '6s' }, 'node1'));
    await eventually('nsm-1 in the client', hasAddr('nsc-heal', 'nsm-1', '172.16.4.3/32'), 90_000);
    for (const proxy of ['nsmgr-proxy-d1', 'nsmgr-proxy-d2']) {
      expect(t.mesh.supervisor.signal(proxy, 'SIGKILL')).toBe(true);
      await waitForGrpc(`unix://${join(t.paths.root, `proxy-${proxy.slice(-2)}.sock`)}`, proxy, t.mesh.sourceOf('e2e-probe'));
    }
    await eventually('a refresh through the restarted nsmgr-proxy-d1', async () => (await atProxy1('nsc-heal')).some((c) => c.networkService === `icmp-heal@${D2}`), 30_000);
    ping('nsc-heal', '172.16.4.2');
    // The remote forwarder: its restart keeps the devices; the client's connection heals through it.
    const killedAt = Date.now();
    expect(t.mesh.supervisor.signal('forwarder-node2', 'SIGKILL')).toBe(true);
    // The data path keeps working meanwhile, so the client restores the same path (no reselect) until
    // the restarted forwarder takes the connection over: wait for that, not only for a ping.
    await eventually('the client healed its connection through the restarted forwarder', () => healedSince('nsc-heal', killedAt), 60_000);
    await eventually(
      'a tunnel to the external address again, and pings',
      () => vxlanRemotes('node1').join() === EXTERNAL.d2['10.233.0.12'] && vxlanRemotes('node2').join() === EXTERNAL.d1['10.233.0.11'] && (ping('nsc-heal', '172.16.4.2'), true),
      60_000,
    );
    await eventually('the endpoint pings the client back', () => (ping('nse-heal', '172.16.4.3'), true), 20_000);
    // Close leaves nothing on either node, also of the path before the heal, well before the restarted
    // forwarder's adoption grace (1 min) would sweep it.
    await t.mesh.deletePod('nsc-heal');
    await eventually('no NSM interface left on node1 or node2', () => noLeftovers(), 30_000);
    await t.mesh.deletePod('nse-heal');
  });
});
