// Several clusters on one machine, through the CLI as a user runs them: three clusters on a shared
// internet (cluster1 and cluster2 federated with each other; cluster3, registry only, trusts
// cluster2 but is not trusted back), a Kernel2Kernel in each of the first two, real DNS queries
// from inside the nodes, cross-cluster mutual TLS through the NAT and the load balancer, and
// `nsm-local down` leaving nothing behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { Code } from '@nsm/sdk/core/errors';
import { findAll } from '@nsm/sdk/core/registry';
import { nseRegistryClient } from '@nsm/sdk/grpc/registry';
import { parseSpiffeBundle } from '@nsm/sdk/spiffe/bundle';
import { WorkloadApiClient } from '@nsm/sdk/spiffe/client';
import { e2eUnavailable, eventually, inNs, root } from './harness';

const skip = e2eUnavailable() ?? (spawnSync('sh', ['-c', 'command -v dnsmasq && command -v dig && command -v nft']).status === 0 ? undefined : 'dnsmasq, dig or nft missing (run make host-deps)');
const mesh = `fedc${process.pid}`;
const dir = join(process.env.NSM_LOCAL_DIR ?? '/tmp/nsm-local', mesh);
const cli = (args: string[], input?: string) =>
  execFileSync(join(root, 'bin', 'nsm-local'), ['--mesh', mesh, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 240_000 });
const ns = (cluster: string, name: string) => `${mesh}-${cluster}-${name}`;
const socketOf = (cluster: string, name: string) => join(dir, 'clusters', cluster, 'spire', name, 'agent.sock');
const dig = (cluster: string, ...q: string[]) => inNs(ns(cluster, 'node1'), ['dig', '+short', '+time=2', '+tries=2', ...q]).trim();
/** The health probe of a bundle, run inside a namespace with the identity of a workload. */
const probe = (netns: string, identitySocket: string, url: string) =>
  spawnSync('ip', ['netns', 'exec', netns, process.execPath, join(root, 'cmd-nsmgr', 'dist', 'cmd-nsmgr.js'), 'health-probe', url], {
    encoding: 'utf8',
    env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: `unix://${identitySocket}` },
    timeout: 30_000,
  });

const topology = `
clusters:
  - name: cluster1
    nodes: [node1]
    federatesWith: [cluster2]
  - name: cluster2
    nodes: [node1]
    federatesWith: [nsm.cluster1]
  - name: cluster3
    domain: my.cluster3
    trustDomain: nsm.cluster3
    nodes: []
    federatesWith: [cluster2]
`;
const kernel2kernel = (cluster: string) => `
  - name: ${cluster}
    pods:
      - {name: nse-kernel, node: node1, command: nse-icmp-responder, env: {NSM_SERVICE_NAMES: icmp-responder, NSM_CIDR_PREFIX: 172.16.1.100/31}}
      - {name: nsc-kernel, node: node1, command: nsc, env: {NSM_NETWORK_SERVICES: kernel://icmp-responder/nsm-1}}`;

(skip ? describe.skip : describe)(`multi-cluster local runtime${skip ? ` (skipped: ${skip})` : ''}`, () => {
  jest.setTimeout(240_000);
  let status: any;
  let down = false;

  beforeAll(() => {
    cli(['up', '-f', '-'], topology);
    status = JSON.parse(cli(['apply', '-f', '-'], `clusters:${kernel2kernel('cluster1')}${kernel2kernel('cluster2')}\n`));
  });
  afterAll(() => {
    if (!down) cli(['down']);
  });

  test('three clusters, three trust domains, federated as the topology says', () => {
    const by = Object.fromEntries(status.clusters.map((c: any) => [c.name, c]));
    expect(status.clusters.map((c: any) => [c.name, c.domain, c.trustDomain, c.loadBalancer])).toEqual([
      ['cluster1', 'my.cluster1', 'nsm.cluster1', '198.18.1.1'],
      ['cluster2', 'my.cluster2', 'nsm.cluster2', '198.18.2.1'],
      ['cluster3', 'my.cluster3', 'nsm.cluster3', '198.18.3.1'],
    ]);
    expect([by.cluster1.federatedWith, by.cluster2.federatedWith, by.cluster3.federatedWith]).toEqual([['nsm.cluster2'], ['nsm.cluster1'], ['nsm.cluster2']]);
    // Every component's SVID is of its own cluster's trust domain.
    for (const c of status.clusters) for (const w of c.identities) expect(w.spiffeId.startsWith(`spiffe://${c.trustDomain}/`)).toBe(true);
    // The published bundle is the CA of that trust domain (SPIFFE format).
    const b1 = parseSpiffeBundle(readFileSync(by.cluster1.bundleFile, 'utf8')).x509Authorities;
    expect(b1).toHaveLength(1);
    expect(b1[0].subject).toContain('nsm.cluster1');
    // The NAT's map, in upstream's map file format: the load balancer and each node.
    expect(readFileSync(by.cluster2.mapFile, 'utf8')).toBe('"10.233.0.1": "198.18.2.1"\n"10.233.0.11": "198.18.2.11"\n');
    expect(status.proxies).toMatch(existsSync(join(root, 'cmd-nsmgr-proxy', 'dist', 'cmd-nsmgr-proxy.js')) ? /started/ : /not built/);
  });

  test.each(['cluster1', 'cluster2'])('%s: the client reaches its own cluster’s endpoint and back', async (cluster) => {
    await eventually(`${cluster} nsm-1`, () => inNs(ns(cluster, 'nsc-kernel'), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1'], { allowFail: true }).includes('172.16.1.101'));
    await eventually(`${cluster} ping`, () => inNs(ns(cluster, 'nsc-kernel'), ['ping', '-c', '2', '-W', '2', '172.16.1.100']).includes(' 0% packet loss'));
    expect(inNs(ns(cluster, 'nse-kernel'), ['ping', '-c', '2', '-W', '2', '172.16.1.101'])).toContain(' 0% packet loss');
  });

  test('DNS from inside the nodes: each domain’s registry and nsmgr-proxy records, as dnsresolve looks them up', () => {
    for (const from of ['cluster1', 'cluster2']) {
      for (const k of [1, 2]) {
        expect(dig(from, 'SRV', `_registry.nsm-system._tcp.my.cluster${k}`)).toBe(`0 0 5002 registry.nsm-system.my.cluster${k}.`);
        expect(dig(from, `registry.nsm-system.my.cluster${k}`)).toBe(`198.18.${k}.1`);
        expect(dig(from, 'SRV', `_nsmgr-proxy.nsm-system._tcp.my.cluster${k}`)).toBe(`0 0 5004 nsmgr-proxy.nsm-system.my.cluster${k}.`);
        expect(dig(from, `nsmgr-proxy.nsm-system.my.cluster${k}`)).toBe(`198.18.${k}.1`);
      }
      // The floating domain has a registry and no nsmgr-proxy.
      expect(dig(from, `registry.nsm-system.my.cluster3`)).toBe('198.18.3.1');
      expect(inNs(ns(from, 'node1'), ['dig', '+time=2', `nsmgr-proxy.nsm-system.my.cluster3`])).toContain('status: NXDOMAIN');
    }
    // The node's resolver is the internet's DNS server (no @server above); nothing else is served.
    expect(inNs(ns('cluster1', 'node1'), ['cat', '/etc/resolv.conf'])).toContain('nameserver 198.18.0.53');
    expect(inNs(ns('cluster1', 'node1'), ['dig', '+time=2', 'example.com'])).toContain('status: REFUSED');
  });

  test('only external addresses are routable: nodes reach each other through the NATs, internal addresses stay inside', () => {
    expect(inNs(ns('cluster1', 'node1'), ['ping', '-c', '1', '-W', '2', '198.18.2.11'])).toContain(' 0% packet loss');
    expect(inNs(ns('cluster2', 'node1'), ['ping', '-c', '1', '-W', '2', '198.18.1.11'])).toContain(' 0% packet loss');
    // The internet has no route into a cluster's node network.
    expect(spawnSync('ip', ['netns', 'exec', `${mesh}-internet`, 'ping', '-c', '1', '-W', '1', '10.233.0.11'], { encoding: 'utf8' }).status).not.toBe(0);
    // What crosses the internet carries the node's external source address (conntrack of the gateway).
    inNs(ns('cluster1', 'node1'), ['ping', '-c', '1', '-W', '2', '198.18.2.11']);
    const conntrack = readFileSync(`/proc/${gatewayPid('cluster2')}/net/nf_conntrack`, 'utf8');
    expect(conntrack).toMatch(/src=198\.18\.1\.11 dst=198\.18\.2\.11 .*src=10\.233\.0\.11 dst=198\.18\.1\.11/);
    // Hairpin: a cluster's gateway (where its proxies run) reaches its own load balancer's ports.
    expect(spawnSync('ip', ['netns', 'exec', `${mesh}-cluster2-fabric`, 'bash', '-c', 'exec 3<>/dev/tcp/198.18.2.1/5002'], { encoding: 'utf8' }).status).toBe(0);
  });

  test('a VXLAN tunnel between the nodes of two clusters crosses both NATs (what the forwarders get after the proxies swap addresses)', () => {
    // Each end: its own node address as local, the other node's external address as remote.
    const ends = [
      ['cluster1', '10.233.0.11', '198.18.2.11', '192.168.77.1'],
      ['cluster2', '10.233.0.11', '198.18.1.11', '192.168.77.2'],
    ];
    try {
      for (const [c, local, remote, inner] of ends) {
        inNs(ns(c, 'node1'), ['ip', 'link', 'add', 'fedvx0', 'type', 'vxlan', 'id', '4242', 'local', local, 'remote', remote, 'dstport', '4789']);
        inNs(ns(c, 'node1'), ['ip', 'addr', 'add', `${inner}/30`, 'dev', 'fedvx0']);
        inNs(ns(c, 'node1'), ['ip', 'link', 'set', 'fedvx0', 'up']);
      }
      expect(inNs(ns('cluster1', 'node1'), ['ping', '-c', '2', '-W', '2', '192.168.77.2'])).toContain(' 0% packet loss');
      expect(inNs(ns('cluster2', 'node1'), ['ping', '-c', '2', '-W', '2', '192.168.77.1'])).toContain(' 0% packet loss');
    } finally {
      for (const [c] of ends) inNs(ns(c, 'node1'), ['ip', 'link', 'del', 'fedvx0'], { allowFail: true });
    }
  });

  test('cluster 1’s identities are accepted by cluster 2’s registry over mTLS (federation); a non-federated trust domain is refused, named', async () => {
    // Over the internet: the registry's address and port as DNS gives them, from cluster 1's node, as its nsmgr.
    const [, , port] = dig('cluster1', 'SRV', '_registry.nsm-system._tcp.my.cluster2').split(' ');
    const url = `tcp://${dig('cluster1', 'registry.nsm-system.my.cluster2')}:${port}`;
    const ok = probe(ns('cluster1', 'node1'), socketOf('cluster1', 'nsmgr-node1'), url);
    expect(`${ok.stdout}${ok.stderr}`).toContain(`${url}: SERVING`);
    expect(ok.status).toBe(0);
    // cluster3 trusts cluster2, so its client accepts the server; cluster2 does not trust cluster3.
    const refused = probe(`${mesh}-cluster3-fabric`, socketOf('cluster3', 'registry'), url);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/PERMISSION_DENIED: peer spiffe:\/\/nsm.cluster3\/ns\/nsm-system\/pod\/registry: trust domain nsm.cluster3 is not trusted \(trusted: nsm.cluster2, nsm.cluster1;/);

    // A registry call (Find) at cluster 2's registry as cluster 1's nsmgr sees cluster 2's endpoint.
    const ctx = () => Context.background().withTimeout(15_000).ctx;
    const asC1 = new WorkloadApiClient({ address: socketOf('cluster1', 'nsmgr-node1') });
    const asC3 = new WorkloadApiClient({ address: socketOf('cluster3', 'registry') });
    const registry2 = `unix://${join(dir, 'clusters', 'cluster2', 'registry.sock')}`;
    const c1 = nseRegistryClient(registry2, asC1);
    const c3 = nseRegistryClient(registry2, asC3);
    try {
      await Promise.all([asC1.ready(10_000), asC3.ready(10_000)]);
      const found = await eventually('cluster 2 registration', async () => {
        const r = await findAll(c1, ctx(), NetworkServiceEndpoint.fromPartial({ name: 'nse-kernel' }));
        return r.length > 0 ? r : undefined;
      });
      expect(found![0].item.pathIds[0]).toBe('spiffe://nsm.cluster2/ns/default/pod/nse-kernel');
      await expect(findAll(c3, ctx(), NetworkServiceEndpoint.fromPartial({ name: 'nse-kernel' }))).rejects.toMatchObject({
        code: Code.PERMISSION_DENIED,
        message: expect.stringMatching(/trust domain nsm.cluster3 is not trusted/),
      });
    } finally {
      c1.close();
      c3.close();
      asC1.close();
      asC3.close();
    }
  });

  test('dnsmasq is supervised: killed, it is restarted and answers again', async () => {
    const dnsmasq = () => JSON.parse(cli(['status'])).internet.processes.find((p: any) => p.name === 'dnsmasq');
    const before = dnsmasq().pid;
    cli(['kill', 'dnsmasq']);
    const after = await eventually('dnsmasq restarted', () => {
      const p = dnsmasq();
      return p.running && p.pid !== before && p;
    });
    expect(spawnSync('kill', ['-0', String(before)]).status).not.toBe(0);
    await eventually('DNS back', () => dig('cluster2', 'registry.nsm-system.my.cluster1') === '198.18.1.1');
    expect(dnsmasq().pid).toBe(after.pid);
  });

  test('nsm-local down leaves nothing: no namespace, process, dnsmasq, resolv.conf or file of the mesh', async () => {
    const conf = join(dir, 'dns', 'dnsmasq.conf');
    expect(spawnSync('pgrep', ['-f', conf]).status).toBe(0);
    cli(['down']);
    down = true;
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`${mesh}-`))).toEqual([]);
    expect(spawnSync('pgrep', ['-f', conf]).status).toBe(1);
    expect(spawnSync('pgrep', ['-f', `${mesh}`]).status).toBe(1);
    expect(existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((e) => e.startsWith(`${mesh}-`)) : []).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});

/** A process inside cluster c's gateway namespace (its registry), for /proc/<pid>/net views of it. */
function gatewayPid(cluster: string): number {
  const pids = execFileSync('ip', ['netns', 'pids', `${mesh}-${cluster}-fabric`], { encoding: 'utf8' }).trim().split('\n');
  return Number(pids[0]);
}
