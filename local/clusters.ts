// Several clusters on one machine (`clusters:` in a topology, `nsm-local up --clusters N`): each is a
// LocalMesh of its own (registry, nodes, pods, its own trust domain and identity provider) whose
// fabric namespace is its gateway to a shared "internet" (internet.ts), with a real DNS server there
// (dnsmasq, supervised like the rest) serving every cluster's domain, and per cluster the address map
// its NAT implements, in upstream's map file format, for the proxies. Clusters federate as SPIRE
// servers do: each publishes its trust bundle (SPIFFE format, <cluster>/bundle.spiffe.json, what a
// bundle endpoint serves) and the runtime gives it to the providers of the clusters that federate
// with it (`federatesWith`, default all others).
//
// The interdomain proxies are hooks: when their bundles are built (cmd-nsmgr-proxy/dist/...,
// cmd-registry-proxy-dns/dist/...), each cluster with nodes runs them in its gateway namespace with
// the env of proxyEnv() below, and its registry sends interdomain names to the nsmgr-proxy.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '@nsm/sdk-kernel';
import { FABRIC_IP } from './host';
import {
  addExternalAddress,
  AddressMap,
  applyNat,
  attachGateway,
  createInternet,
  dnsmasqArgv,
  dnsmasqConf,
  DNS_IP,
  externalIp,
  loadBalancerIp,
  mapIpYaml,
  natRuleset,
  NSMGR_PROXY_PORT,
  REGISTRY_PORT,
  REGISTRY_PROXY_DNS_PORT,
  removeResolvConfs,
  routeThroughGateway,
  writeResolvConf,
} from './internet';
import { cleanupMesh, LocalMesh } from './mesh';
import { bundlePath, clusterPaths, MeshPaths } from './paths';
import { Supervisor } from './supervisor';
import type { ClusterSpec } from './topology';

type Log = (msg: string, fields?: object) => void;

export const PROXY_COMMANDS = ['cmd-nsmgr-proxy', 'cmd-registry-proxy-dns'] as const;

interface Cluster {
  spec: ClusterSpec;
  /** 1, 2, ...: its addresses on the internet. */
  index: number;
  paths: MeshPaths;
  mesh: LocalMesh;
  /** internal → external of its nodes, in the order they came up. */
  nodes: [string, string][];
  proxies: string[];
}

/**
 * What a cluster's proxies are given: upstream's settings (components.md), at this cluster's addresses.
 * The nsmgr-proxy's name carries its cluster, as a Deployment's pod name carries a hash: the two
 * proxies are adjacent hops of a path, and a hop that finds its own name at the caller's segment takes
 * it for itself (updatepath), so two proxies both named "nsmgr-proxy" would share one segment.
 */
export function proxyEnv(spec: Pick<ClusterSpec, 'name' | 'domain' | 'proxyEnv'>, clusterRoot: string): Record<'cmd-nsmgr-proxy' | 'cmd-registry-proxy-dns', Record<string, string>> {
  const at = (port: number) => `tcp://${FABRIC_IP}:${port}`;
  return {
    'cmd-nsmgr-proxy': {
      NSM_NAME: `nsmgr-proxy-${spec.name}`,
      NSM_LISTEN_ON: at(NSMGR_PROXY_PORT),
      NSM_REGISTRY_URL: at(REGISTRY_PORT),
      NSM_PROXY_REGISTRY_URL: at(REGISTRY_PROXY_DNS_PORT),
      NSM_MAP_IP_FILE_PATH: join(clusterRoot, 'map-ip.yaml'),
      ...spec.proxyEnv,
    },
    'cmd-registry-proxy-dns': {
      NSM_LISTEN_ON: at(REGISTRY_PROXY_DNS_PORT),
      NSM_DNS_SERVERS: `${DNS_IP}:53`,
      ...spec.proxyEnv,
    },
  };
}

export class LocalClusters {
  private readonly clusters = new Map<string, Cluster>();
  /** The internet's own processes (dnsmasq). */
  readonly supervisor: Supervisor;
  private internetUp = false;
  private svidLifetimeMs: number | undefined;
  /** Cluster → the trust domains its provider federates with. */
  private readonly federations = new Map<string, string[]>();

  constructor(
    readonly paths: MeshPaths,
    private readonly log: Log,
  ) {
    this.supervisor = new Supervisor(log, `${paths.mesh}-internet`);
  }

  get internetNs(): string {
    return this.paths.netns('internet');
  }

  get size(): number {
    return this.clusters.size;
  }

  cluster(name: string): LocalMesh {
    const c = this.clusters.get(name);
    if (!c) throw new Error(`no cluster "${name}" (clusters: ${[...this.clusters.keys()].join(', ')})`);
    return c.mesh;
  }

  /** Splits "cluster/name" (or "cluster-name" for namespaces) into the cluster's mesh and the name. */
  resolve(qualified: string): { mesh: LocalMesh; name: string } {
    const slash = qualified.indexOf('/');
    if (slash > 0) return { mesh: this.cluster(qualified.slice(0, slash)), name: qualified.slice(slash + 1) };
    throw new Error(`"${qualified}": name a process or pod of a cluster as <cluster>/<name> (clusters: ${[...this.clusters.keys()].join(', ')})`);
  }

  async apply(doc: { clusters: ClusterSpec[]; svidLifetimeMs?: number }): Promise<void> {
    if (this.svidLifetimeMs === undefined) this.svidLifetimeMs = doc.svidLifetimeMs;
    mkdirSync(this.paths.logs, { recursive: true });
    if (!this.internetUp) {
      await createInternet(this.internetNs);
      this.internetUp = true;
    }
    for (const spec of doc.clusters) {
      const known = this.clusters.get(spec.name);
      if (known) {
        if (known.spec.domain !== spec.domain || known.spec.trustDomain !== spec.trustDomain) {
          throw new Error(`cluster ${spec.name} is up with domain ${known.spec.domain} and trust domain ${known.spec.trustDomain}; they cannot change`);
        }
        continue;
      }
      this.addCluster(spec);
    }
    // Identities and federation before any process starts, so that no component ever sees a partial set.
    for (const c of this.clusters.values()) {
      const id = await c.mesh.meshIdentity({ trustDomain: c.spec.trustDomain, svidLifetimeMs: this.svidLifetimeMs });
      mkdirSync(c.paths.root, { recursive: true });
      writeFileSync(this.bundleFile(c), id.publishedBundle());
    }
    await this.federate();
    for (const spec of doc.clusters) {
      const c = this.clusters.get(spec.name)!;
      const proxies = this.proxiesAvailable() && (spec.topology.nodes?.length ?? c.nodes.length) > 0;
      const registryEnv: Record<string, string> = proxies ? { REGISTRY_K8S_PROXY_REGISTRY_URL: `tcp://${FABRIC_IP}:${NSMGR_PROXY_PORT}` } : {};
      await c.mesh.apply({ ...spec.topology, registryEnv: { ...registryEnv, ...spec.topology.registryEnv } });
      if (proxies) await this.startProxies(c);
    }
    await this.startDns();
  }

  private addCluster(spec: ClusterSpec): void {
    const index = this.clusters.size + 1;
    const paths = clusterPaths(this.paths, spec.name);
    const c: Cluster = { spec, index, paths, nodes: [], proxies: [], mesh: undefined as unknown as LocalMesh };
    c.mesh = new LocalMesh(paths, (msg, fields) => this.log(msg, { cluster: spec.name, ...fields }), {
      fabricUp: async (ns) => {
        await attachGateway(this.internetNs, ns, index);
        writeResolvConf(ns);
        await this.updateNat(c);
      },
      nodeUp: async (_node, ns, ip) => {
        await routeThroughGateway(ns);
        writeResolvConf(ns);
        const ext = externalIp(index, ip);
        await addExternalAddress(paths.netns('fabric'), ext);
        c.nodes.push([ip, ext]);
        await this.updateNat(c);
      },
    });
    this.clusters.set(spec.name, c);
    this.log('cluster added', { cluster: spec.name, domain: spec.domain, trustDomain: spec.trustDomain, loadBalancer: loadBalancerIp(index) });
  }

  private bundleFile(c: Cluster): string {
    return join(c.paths.root, 'bundle.spiffe.json');
  }

  /** The address map of cluster c: its load balancer and every node. */
  addressMap(name: string): AddressMap {
    const c = this.clusters.get(name);
    if (!c) throw new Error(`no cluster "${name}"`);
    return [[FABRIC_IP, loadBalancerIp(c.index)], ...c.nodes];
  }

  private async updateNat(c: Cluster): Promise<void> {
    await applyNat(c.paths.netns('fabric'), natRuleset(c.index, c.nodes));
    writeFileSync(join(c.paths.root, 'map-ip.yaml'), mapIpYaml(this.addressMap(c.spec.name)));
  }

  /** Each cluster's provider gets the published bundles of the trust domains it federates with. */
  private federatedWith(c: Cluster): string[] {
    return this.federations.get(c.spec.name) ?? [];
  }

  private async federate(): Promise<void> {
    const byKey = new Map<string, Cluster>();
    for (const c of this.clusters.values()) byKey.set(c.spec.name, c).set(c.spec.trustDomain, c);
    for (const c of this.clusters.values()) {
      const id = await c.mesh.meshIdentity();
      const wanted = c.spec.federatesWith ?? [...this.clusters.keys()].filter((n) => n !== c.spec.name);
      const targets = new Set(wanted.map((w) => byKey.get(w)).filter((t): t is Cluster => t !== undefined && t !== c));
      for (const t of targets) id.federate(t.spec.trustDomain, readFileSync(this.bundleFile(t), 'utf8'));
      for (const td of id.federatedTrustDomains()) if (![...targets].some((t) => t.spec.trustDomain === td)) id.federate(td, undefined);
      this.federations.set(c.spec.name, id.federatedTrustDomains());
    }
  }

  /** (Re)starts dnsmasq with a zone per cluster. */
  private async startDns(): Promise<void> {
    const dir = join(this.paths.root, 'dns');
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'dnsmasq.conf');
    const text = dnsmasqConf(
      [...this.clusters.values()].map((c) => ({ domain: c.spec.domain, address: loadBalancerIp(c.index), nsmgrProxy: c.nodes.length > 0 })),
      join(dir, 'dnsmasq.pid'),
    );
    if (existsSync(conf) && readFileSync(conf, 'utf8') === text && this.supervisor.names().includes('dnsmasq')) return;
    writeFileSync(conf, text);
    if (this.supervisor.names().includes('dnsmasq')) await this.supervisor.stop('dnsmasq', 2000);
    this.supervisor.start({ name: 'dnsmasq', netns: this.internetNs, argv: dnsmasqArgv(conf), env: {}, logFile: join(this.paths.logs, 'dnsmasq.log') });
    await waitForDns(this.internetNs);
  }

  private proxiesAvailable(): boolean {
    return PROXY_COMMANDS.every((cmd) => existsSync(bundlePath(cmd)));
  }

  private async startProxies(c: Cluster): Promise<void> {
    const env = proxyEnv(c.spec, c.paths.root);
    // The registry proxy first: the nsmgr-proxy forwards interdomain registry calls to it.
    for (const cmd of ['cmd-registry-proxy-dns', 'cmd-nsmgr-proxy'] as const) {
      const name = cmd.slice('cmd-'.length);
      if (c.proxies.includes(name)) continue;
      await c.mesh.startComponent(name, cmd, env[cmd], env[cmd].NSM_LISTEN_ON.split(',')[0]);
      c.proxies.push(name);
    }
  }

  status() {
    return {
      mesh: this.paths.mesh,
      internet: { netns: this.internetNs, dns: DNS_IP, processes: this.supervisor.status() },
      proxies: this.proxiesAvailable() ? 'started in each cluster with nodes' : `not built (${PROXY_COMMANDS.map((c) => `${c}/dist/${c}.js`).join(', ')})`,
      clusters: [...this.clusters.values()].map((c) => ({
        ...c.mesh.status(),
        name: c.spec.name,
        domain: c.spec.domain,
        trustDomain: c.spec.trustDomain,
        federatedWith: this.federatedWith(c),
        loadBalancer: loadBalancerIp(c.index),
        addressMap: Object.fromEntries(this.addressMap(c.spec.name)),
        mapFile: join(c.paths.root, 'map-ip.yaml'),
        bundleFile: this.bundleFile(c),
        proxies: c.proxies,
      })),
    };
  }

  async down(): Promise<void> {
    // The clusters are independent of each other: down together.
    await Promise.all([...this.clusters.values()].map((c) => c.mesh.down()));
    this.clusters.clear();
    await this.supervisor.stop('dnsmasq', 2000);
    removeResolvConfs(`${this.paths.mesh}-`);
    await cleanupMesh(this.paths);
    this.internetUp = false;
  }
}

/** Waits until the DNS server answers on the internet. */
async function waitForDns(ns: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await exec(['ip', 'netns', 'exec', ns, 'dig', '+time=1', '+tries=1', `@${DNS_IP}`, 'localhost', 'A'], { timeoutMs: 3000 }).then(
      () => true,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`dnsmasq did not answer on ${DNS_IP} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
