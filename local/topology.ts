// What a local mesh runs: nodes (each with an nsmgr and a forwarder, like DaemonSets), one registry,
// and pods (a network namespace with one NSM process in it). Read from YAML like a manifest.
import type { NetworkService } from '@nsm/api';
import { networkServiceCodec } from '@nsm/sdk-k8s/codec';
import { parse, parseAllDocuments } from 'yaml';
import type { RestartPolicy } from './supervisor';
import type { DnsServerSpec } from './dnsserver';
import { isDnsName, isIpLiteral } from '@nsm/sdk/input/formats';
import { parseDuration } from '@nsm/sdk/cmd/duration';
import { checkTrustDomain } from '@nsm/sdk/spiffe/id';

/** The bundles a pod can run (cmd-<command>). */
export const POD_COMMANDS = ['nsc', 'nse-icmp-responder', 'nse-supplier-k8s'] as const;
export type PodCommand = (typeof POD_COMMANDS)[number];

/**
 * One container of a pod from a Kubernetes manifest (local/kube/containers.ts): a bundle of this
 * repository, or a command from the host's file system (images are not pulled).
 */
export interface ContainerRun {
  name: string;
  /** The bundle it runs (then argv holds the bundle's args), or none: argv is a host command. */
  bundle?: PodCommand;
  argv: string[];
  env: Record<string, string>;
}

export interface PodSpec {
  name: string;
  node: string;
  /** The pod's one NSM process (topology pods); with `containers`, only the bundle the pod runs, if any. */
  command?: PodCommand;
  env: Record<string, string>;
  /** Extra arguments (flags) of the command. */
  args?: string[];
  /** As a kubelet honours it; default Always. */
  restartPolicy?: RestartPolicy;
  /** Namespace and labels of the pod's object in the runtime's pod API; default "default", none. */
  namespace?: string;
  labels?: Record<string, string>;
  /**
   * Gives the pod the runtime's pod API, as a service account token does in a cluster: a kubeconfig
   * (KUBECONFIG) for a server on 127.0.0.1 in the pod's namespace, allowed pods in the pod's own
   * namespace. Default: true for nse-supplier-k8s, false otherwise.
   */
  kubeApi?: boolean;
  /** Kubernetes manifests: the containers, started together (the first one's process is the pod's
   *  status), after the init containers have run to completion one by one. */
  containers?: ContainerRun[];
  initContainers?: ContainerRun[];
  /** The pod's app is a VPP (a memif peer) running beside its command: `nsm-local vppctl <pod> ...`. */
  vpp?: boolean;
  /** A DNS server beside its command (dnsserver.ts), e.g. {hosts: {my.example.nsm: 172.16.1.100}}. */
  dnsServer?: DnsServerSpec;
}

export type ForwarderKind = 'ovs' | 'vpp';
export const FORWARDER_KINDS: ForwarderKind[] = ['ovs', 'vpp'];

export interface NodeSpec {
  name: string;
  /** Forwarder flavour: forwarder-ovs on the node's Open vSwitch, or forwarder-vpp on the node's VPP. */
  forwarder: ForwarderKind;
  /** VPP nodes: the forwarder starts VPP itself, inside its own "container" (as the image does),
   *  instead of VPP running as a node service beside it. */
  vppInForwarder?: boolean;
  env: Record<string, string>;
  /** Extra env for this node's forwarder only (after the topology-wide forwarderEnv). */
  forwarderEnv?: Record<string, string>;
}

/**
 * A network outside the mesh on the node network, VLAN-aware: its eth0 (on the fabric bridge) is a
 * trunk, and each VLAN ends in an interface `eth0.<id>` holding the given addresses. The breakout
 * target of the remote VLAN mechanism.
 */
export interface ExternalSpec {
  name: string;
  vlans: { id: number; addresses: string[] }[];
}

export interface Topology {
  nodes: NodeSpec[];
  pods: PodSpec[];
  externals: ExternalSpec[];
  /** Extra env for every nsmgr / forwarder / the registry. */
  nsmgrEnv: Record<string, string>;
  forwarderEnv: Record<string, string>;
  registryEnv: Record<string, string>;
  /** Extra env for the admission webhook (started with the first Kubernetes manifest applied). */
  webhookEnv: Record<string, string>;
  /**
   * NetworkServices the runtime registers in the registry (as `kubectl apply` of NetworkService
   * resources does), in the resource's spec form: {name, payload, matches: [{source_selector, routes:
   * [{destination_selector}], fallthrough, metadata: {labels}}]}.
   */
  networkServices: NetworkService[];
  /** Trust domain of the mesh's identities (default nsm.local); fixed once the mesh is up. */
  trustDomain?: string;
  /** Lifetime of every SVID (default 1h); rotated at half of it. */
  svidLifetimeMs?: number;
}

/**
 * One cluster of a multi-cluster topology (`clusters:`): its own registry, trust domain, nodes and
 * pods, on the shared "internet" network (local/clusters.ts). Everything but the cluster keys below
 * is a single-cluster topology document of its own.
 */
export interface ClusterSpec {
  name: string;
  /** The cluster's DNS domain, what `service@domain` names (default my.<name>). */
  domain: string;
  /** Default nsm.<name>. */
  trustDomain: string;
  /** Clusters (by name or trust domain) whose trust domains this one federates with; default all others. */
  federatesWith?: string[];
  /** Extra env for this cluster's nsmgr-proxy and registry-proxy-dns. */
  proxyEnv: Record<string, string>;
  topology: Partial<Topology>;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$/;
/** Cluster names prefix their namespaces' names and veth ports: short. */
const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
const CLUSTER_KEYS = ['name', 'domain', 'trustDomain', 'federatesWith', 'proxyEnv'];

/** Whether a topology document describes several clusters (`clusters:`). */
export function isMultiCluster(text: string): boolean {
  // Several YAML documents are Kubernetes manifests (and maybe a topology), never a clusters: file.
  if (parseAllDocuments(text).length > 1) return false;
  const doc = (parse(text) ?? {}) as Record<string, unknown>;
  return typeof doc === 'object' && doc !== null && doc.clusters !== undefined;
}

/**
 * Parses a multi-cluster topology: `clusters: [{name, domain, trustDomain, federatesWith, proxyEnv,
 * nodes, pods, ...}]` plus a shared `svidLifetime`. A single-cluster key at the top level is refused
 * (it would be ambiguous).
 */
export function parseClusters(text: string): { clusters: ClusterSpec[]; svidLifetimeMs?: number } {
  const doc = (parse(text) ?? {}) as Record<string, unknown>;
  const stray = Object.keys(doc).filter((k) => k !== 'clusters' && k !== 'svidLifetime');
  if (stray.length) throw new Error(`with clusters:, ${stray.join(', ')} must go inside a cluster`);
  if (!Array.isArray(doc.clusters) || doc.clusters.length === 0) throw new Error('clusters must be a non-empty list');
  if (doc.clusters.length > 8) throw new Error('at most 8 clusters');
  const seen = new Set<string>();
  const clusters = doc.clusters.map((c, i): ClusterSpec => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new Error(`clusters[${i}] must be a map`);
    const o = c as Record<string, unknown>;
    const name = String(o.name ?? '');
    if (!CLUSTER_NAME.test(name)) throw new Error(`clusters[${i}].name "${name}" must be lower-case letters, digits and dashes (max 12)`);
    const domain = String(o.domain ?? `my.${name}`);
    if (!DOMAIN.test(domain)) throw new Error(`clusters[${i}].domain "${domain}" must be a DNS name with at least two labels`);
    const trustDomain = checkTrustDomain(String(o.trustDomain ?? `nsm.${name}`));
    for (const [what, v] of [['name', name], ['domain', domain], ['trustDomain', trustDomain]]) {
      if (seen.has(`${what}:${v}`)) throw new Error(`clusters[${i}].${what} "${v}" is used twice`);
      seen.add(`${what}:${v}`);
    }
    let federatesWith: string[] | undefined;
    if (o.federatesWith !== undefined) {
      if (!Array.isArray(o.federatesWith) || o.federatesWith.some((x) => typeof x !== 'string')) throw new Error(`clusters[${i}].federatesWith must be a list of cluster names or trust domains`);
      federatesWith = o.federatesWith as string[];
    }
    const rest = Object.fromEntries(Object.entries(o).filter(([k]) => !CLUSTER_KEYS.includes(k)));
    if (rest.svidLifetime !== undefined) throw new Error(`clusters[${i}]: svidLifetime is set for all clusters`);
    const topology = parseTopology(JSON.stringify(rest));
    return { name, domain, trustDomain, federatesWith, proxyEnv: strMap(o.proxyEnv, `clusters[${i}].proxyEnv`), topology: { ...topology, trustDomain } };
  });
  const names = new Map(clusters.flatMap((c) => [[c.name, c.trustDomain], [c.trustDomain, c.trustDomain]]));
  for (const c of clusters) {
    for (const f of c.federatesWith ?? []) {
      if (!names.has(f)) throw new Error(`cluster ${c.name}: federatesWith "${f}" is neither a cluster nor a cluster's trust domain`);
      if (names.get(f) === c.trustDomain) throw new Error(`cluster ${c.name}: federatesWith names the cluster itself`);
    }
  }
  const out: { clusters: ClusterSpec[]; svidLifetimeMs?: number } = { clusters };
  if (doc.svidLifetime !== undefined) out.svidLifetimeMs = parseTopology(`svidLifetime: ${JSON.stringify(String(doc.svidLifetime))}`).svidLifetimeMs;
  return out;
}
const POLICIES: RestartPolicy[] = ['Always', 'OnFailure', 'Never'];

function strMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where} must be a map of strings`);
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

const MAX_DNS_HOSTS = 64;

/** {hosts: {name: address}}: names by DNS rules, IP literals; they become dnsmasq arguments. */
function parseDnsServer(v: unknown, where: string): DnsServerSpec {
  const hosts = (v as Record<string, unknown> | null)?.hosts;
  if (!hosts || typeof hosts !== 'object' || Array.isArray(hosts)) throw new Error(`${where}.hosts must be a map of names to addresses`);
  const entries = Object.entries(hosts as Record<string, unknown>);
  if (entries.length === 0 || entries.length > MAX_DNS_HOSTS) throw new Error(`${where}.hosts must have 1-${MAX_DNS_HOSTS} entries`);
  for (const [name, ip] of entries) {
    if (!isDnsName(name)) throw new Error(`${where}.hosts: ${JSON.stringify(name)} is not a DNS name`);
    if (typeof ip !== 'string' || !isIpLiteral(ip)) throw new Error(`${where}.hosts[${JSON.stringify(name)}]: ${JSON.stringify(ip)} is not an IP address`);
  }
  return { hosts: Object.fromEntries(entries) as Record<string, string> };
}

export function parseTopology(text: string): Partial<Topology> {
  return topologyFrom((parse(text) ?? {}) as Record<string, unknown>);
}

/** A topology from one parsed YAML document. */
export function topologyFrom(doc: Record<string, unknown>): Partial<Topology> {
  const out: Partial<Topology> = {};
  if (doc.nodes !== undefined) {
    if (!Array.isArray(doc.nodes)) throw new Error('nodes must be a list');
    out.nodes = doc.nodes.map((n, i) => {
      const o = typeof n === 'string' ? { name: n } : (n as Record<string, unknown>);
      const name = String(o.name ?? '');
      if (!NAME.test(name)) throw new Error(`nodes[${i}].name "${name}" must be lower-case letters, digits and dashes (max 24)`);
      const forwarder = String(o.forwarder ?? 'ovs') as ForwarderKind;
      if (!FORWARDER_KINDS.includes(forwarder)) throw new Error(`nodes[${i}].forwarder "${forwarder}" must be one of ${FORWARDER_KINDS.join(', ')}`);
      if (o.vppInForwarder !== undefined && (typeof o.vppInForwarder !== 'boolean' || forwarder !== 'vpp')) throw new Error(`nodes[${i}].vppInForwarder must be true or false, on a vpp node`);
      return { name, forwarder, vppInForwarder: o.vppInForwarder === true, env: strMap(o.env, `nodes[${i}].env`), forwarderEnv: strMap(o.forwarderEnv, `nodes[${i}].forwarderEnv`) };
    });
  }
  if (doc.pods !== undefined) {
    if (!Array.isArray(doc.pods)) throw new Error('pods must be a list');
    out.pods = doc.pods.map((p, i) => {
      const o = p as Record<string, unknown>;
      const name = String(o.name ?? '');
      if (!NAME.test(name)) throw new Error(`pods[${i}].name "${name}" must be lower-case letters, digits and dashes (max 24)`);
      const command = String(o.command ?? '') as PodCommand;
      if (!POD_COMMANDS.includes(command)) throw new Error(`pods[${i}].command must be one of ${POD_COMMANDS.join(', ')}`);
      const restartPolicy = String(o.restartPolicy ?? 'Always') as RestartPolicy;
      if (!POLICIES.includes(restartPolicy)) throw new Error(`pods[${i}].restartPolicy must be one of ${POLICIES.join(', ')}`);
      if (o.args !== undefined && (!Array.isArray(o.args) || o.args.some((a) => typeof a !== 'string'))) throw new Error(`pods[${i}].args must be a list of strings`);
      if (o.kubeApi !== undefined && typeof o.kubeApi !== 'boolean') throw new Error(`pods[${i}].kubeApi must be true or false`);
      if (o.vpp !== undefined && typeof o.vpp !== 'boolean') throw new Error(`pods[${i}].vpp must be true or false`);
      return {
        name,
        node: String(o.node ?? 'node1'),
        command,
        env: strMap(o.env, `pods[${i}].env`),
        restartPolicy,
        labels: strMap(o.labels, `pods[${i}].labels`),
        vpp: o.vpp === true,
        ...(o.args ? { args: o.args as string[] } : {}),
        ...(o.kubeApi !== undefined ? { kubeApi: o.kubeApi as boolean } : {}),
        ...(o.dnsServer !== undefined ? { dnsServer: parseDnsServer(o.dnsServer, `pods[${i}].dnsServer`) } : {}),
      };
    });
  }
  if (doc.externals !== undefined) {
    if (!Array.isArray(doc.externals)) throw new Error('externals must be a list');
    out.externals = doc.externals.map((x, i) => {
      const o = x as Record<string, unknown>;
      const name = String(o.name ?? '');
      if (!NAME.test(name)) throw new Error(`externals[${i}].name "${name}" must be lower-case letters, digits and dashes (max 24)`);
      if (!Array.isArray(o.vlans) || o.vlans.length === 0) throw new Error(`externals[${i}].vlans must be a non-empty list`);
      const vlans = o.vlans.map((v, j) => {
        const vo = v as Record<string, unknown>;
        const id = Number(vo.id);
        if (!Number.isInteger(id) || id < 1 || id > 4094) throw new Error(`externals[${i}].vlans[${j}].id must be a VLAN id 1-4094`);
        const addresses = Array.isArray(vo.addresses) ? vo.addresses.map(String) : vo.address !== undefined ? [String(vo.address)] : [];
        return { id, addresses };
      });
      return { name, vlans };
    });
  }
  if (doc.networkServices !== undefined) {
    if (!Array.isArray(doc.networkServices)) throw new Error('networkServices must be a list');
    out.networkServices = doc.networkServices.map((x, i) => {
      const o = (x ?? {}) as Record<string, unknown>;
      const name = String(o.name ?? '');
      if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) throw new Error(`networkServices[${i}].name "${name}" must be a DNS subdomain name`);
      if (o.matches !== undefined && !Array.isArray(o.matches)) throw new Error(`networkServices[${i}].matches must be a list`);
      if (o.payload !== undefined && o.payload !== 'ETHERNET' && o.payload !== 'IP') throw new Error(`networkServices[${i}].payload must be ETHERNET or IP`);
      return networkServiceCodec.fromSpec(o, name);
    });
  }
  out.nsmgrEnv = strMap(doc.nsmgrEnv, 'nsmgrEnv');
  out.forwarderEnv = strMap(doc.forwarderEnv, 'forwarderEnv');
  out.registryEnv = strMap(doc.registryEnv, 'registryEnv');
  out.webhookEnv = strMap(doc.webhookEnv, 'webhookEnv');
  if (doc.trustDomain !== undefined) out.trustDomain = checkTrustDomain(String(doc.trustDomain));
  if (doc.svidLifetime !== undefined) {
    const ms = parseDuration(String(doc.svidLifetime));
    if (ms < 2000) throw new Error(`svidLifetime ${String(doc.svidLifetime)} is too short (at least 2s)`);
    out.svidLifetimeMs = ms;
  }
  return out;
}

const ENV_KEYS = ['nsmgrEnv', 'forwarderEnv', 'registryEnv', 'webhookEnv'] as const;

/** Several topology documents as one: later keys win, env maps are merged. */
export function mergeTopologies(parts: Partial<Topology>[]): Partial<Topology> {
  const out: Partial<Topology> = {};
  for (const p of parts) {
    const { nsmgrEnv: _a, forwarderEnv: _b, registryEnv: _c, webhookEnv: _d, ...rest } = p;
    Object.assign(out, rest);
    for (const k of ENV_KEYS) if (p[k]) out[k] = { ...out[k], ...p[k] };
  }
  return out;
}
