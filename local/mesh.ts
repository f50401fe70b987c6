// A local mesh: the fabric, the registry, one nsmgr and forwarder per node, and pods, all supervised;
// every component and pod with a SPIFFE identity of its own from the mesh's provider (identity.ts).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { normalizePrefixes } from '@nsm/sdk/elements/ipam/cidr';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { checkHealth } from '@nsm/sdk/grpc/health';
import type { X509Source } from '@nsm/sdk/spiffe/source';
import type { TokenGenerator } from '@nsm/sdk/token';
import { spiffeTokenGenerator } from '@nsm/sdk/token/spiffe';
import { commandArgv, MeshPaths, repoRoot } from './paths';
import { applyIpContext, disableOffloads, exec, inodeUrlOf, netnsByName, NETNS_RUN_DIR } from '@nsm/sdk-kernel';
import { VlanTrunk } from '@nsm/sdk-ovs/trunk';
import { attachExternal, attachNode, createFabric, createNetns, deleteNetns, FABRIC_IP, netnsList, NODE_UPLINK, nodeIp, absorbTunnelPorts } from './host';
import { KubeRuntime } from './kube/runtime';
import { NetworkServices } from './networkservices';
import { MeshIdentity } from './identity';
import { type KubeObject, podsOf } from './kube/manifests';
import type { Pod } from './kube/types';
import { LocalWebhook } from './webhook';
import { removeResolvConfs } from './internet';
import { Isolation, Supervisor } from './supervisor';
import { dnsServerArgv } from './dnsserver';
import { podArgv, podCorefile, preparePodFiles } from './podfs';
import { NODE_VPP_PLUGINS, POD_VPP_PLUGINS, prepareVpp } from './vpp';
import type { ContainerRun, ExternalSpec, NodeSpec, PodSpec, Topology } from './topology';

export const REGISTRY_PORT = 5002;
export const NSMGR_PORT = 5001;

type Log = (msg: string, fields?: object) => void;

/** Where a multi-cluster runtime (clusters.ts) plugs a cluster's mesh into the shared network. */
export interface MeshHooks {
  /** After the fabric namespace (the cluster's gateway) exists, before the registry starts. */
  fabricUp?(fabricNs: string): Promise<void>;
  /** After a node's namespace is on the fabric with its address, before its processes start. */
  nodeUp?(node: string, ns: string, ip: string): Promise<void>;
}

export class LocalMesh {
  readonly supervisor: Supervisor;
  private readonly nodes = new Map<string, { spec: NodeSpec; ip: string }>();
  private readonly pods = new Map<string, PodSpec>();
  private readonly externals = new Map<string, { spec: ExternalSpec; sw: VlanTrunk }>();
  private topology: Topology = { nodes: [], pods: [], externals: [], nsmgrEnv: {}, forwarderEnv: {}, registryEnv: {}, webhookEnv: {}, networkServices: [] };
  private fabricUp = false;
  /** Pods as Kubernetes Pod objects, and the pod API (local/kube). */
  readonly kube: KubeRuntime;
  readonly networkServices: NetworkServices;
  /** The admission webhook, started with the first Kubernetes manifest applied. */
  readonly webhook: LocalWebhook;
  private identity: MeshIdentity | undefined;
  /** Extra components started in the fabric namespace (startComponent). */
  private readonly components = new Set<string>();
  /** Whether the node network's NICs fill in checksums themselves (see wireChecksums). */
  private checksummed = false;

  constructor(
    readonly paths: MeshPaths,
    private readonly log: Log,
    private readonly hooks: MeshHooks = {},
  ) {
    this.supervisor = new Supervisor(log, paths.mesh);
    this.webhook = new LocalWebhook(paths, this.supervisor);
    this.networkServices = new NetworkServices(`unix://${paths.registrySocket}`, log, () => {
      if (!this.identity) throw new Error('the mesh is not up');
      return this.identity.probeSource;
    });
    this.kube = new KubeRuntime(
      {
        node: (name) => {
          const n = this.nodes.get(name);
          return n && { name, ip: n.ip, nsmSocket: this.paths.nsmSocket(name) };
        },
        nameTaken: (name) => this.pods.has(name) || this.nodes.has(name) || this.externals.has(name) || name === 'fabric',
        startPod: (spec) => this.addPod(spec),
        stopPod: (name, graceMs) => this.deletePod(name, { graceMs }),
        admitPod: (pod, namespace) => (this.webhook.running ? this.webhook.admit(pod as Pod, namespace) : undefined),
      },
      log,
    );
  }

  get registryUrl(): string {
    return `tcp://${FABRIC_IP}:${REGISTRY_PORT}`;
  }

  async apply(t: Partial<Topology>): Promise<void> {
    this.topology = {
      nodes: t.nodes ?? this.topology.nodes,
      pods: t.pods ?? [],
      externals: t.externals ?? [],
      nsmgrEnv: { ...this.topology.nsmgrEnv, ...t.nsmgrEnv },
      forwarderEnv: { ...this.topology.forwarderEnv, ...t.forwarderEnv },
      registryEnv: { ...this.topology.registryEnv, ...t.registryEnv },
      webhookEnv: { ...this.topology.webhookEnv, ...t.webhookEnv },
      networkServices: t.networkServices ?? [],
    };
    mkdirSync(this.paths.logs, { recursive: true });
    const identity = await this.ensureIdentity(t);
    if (!this.fabricUp) {
      await createFabric(this.paths.netns('fabric'));
      this.fabricUp = true;
      await this.hooks.fabricUp?.(this.paths.netns('fabric'));
      this.supervisor.start({
        name: 'registry',
        netns: this.paths.netns('fabric'),
        argv: commandArgv('cmd-registry-k8s'),
        env: {
          REGISTRY_K8S_LISTEN_ON: `${this.registryUrl},unix://${this.paths.registrySocket}`,
          REGISTRY_K8S_STORE: 'memory',
          ...(await identity.add('registry', identity.componentId('registry'))),
          ...this.topology.registryEnv,
        },
        logFile: join(this.paths.logs, 'registry.log'),
        // A restarted registry (memory store) has forgotten the NetworkServices the runtime registered.
        onStart: () => this.networkServices.registryStarted(),
      });
      // Readiness is probed over the unix socket: this process is not on the fabric network.
      await this.ready(`unix://${this.paths.registrySocket}`, 'registry', identity.probeSource);
    }
    for (const x of t.externals ?? []) if (!this.externals.has(x.name)) await this.addExternal(x);
    for (const n of this.topology.nodes) if (!this.nodes.has(n.name)) await this.addNode(n);
    for (const ns of t.networkServices ?? []) await this.networkServices.apply(ns);
    for (const p of t.pods ?? []) if (!this.pods.has(p.name)) await this.addPod(p);
  }

  /**
   * Creates the pods of Kubernetes manifests (Pods, Deployments) through the pod API, each through the
   * admission webhook, and starts them. Placement (there is no scheduler): spec.nodeName, else the
   * nodeSelector kubernetes.io/hostname, else the first node.
   */
  async applyManifests(objects: KubeObject[], webhookEnv: Record<string, string> = {}): Promise<Array<{ kind: string; name: string; namespace: string; node: string; phase?: string }>> {
    const first = [...this.nodes.keys()][0];
    if (!first || !this.fabricUp) throw new Error('the mesh has no nodes: start it first (nsm-local up)');
    const pods = objects.flatMap((o) => podsOf(o));
    await this.webhook.ensure(this.paths.netns('fabric'), { ...this.topology.webhookEnv, ...webhookEnv });
    const out = [];
    for (const { namespace, pod } of pods) {
      const spec = (pod.spec ??= {}) as Record<string, unknown>;
      const selector = (spec.nodeSelector as Record<string, string> | undefined)?.['kubernetes.io/hostname'];
      spec.nodeName ??= selector ?? first;
      const created = await this.kube.createPod(namespace, pod);
      await created.started;
      const now = this.kube.store.byName(created.pod.metadata.name);
      out.push({ kind: 'Pod', name: created.pod.metadata.name, namespace, node: String(spec.nodeName), phase: now?.status.phase });
    }
    return out;
  }

  private async addNode(spec: NodeSpec): Promise<void> {
    const identity = this.identity!;
    const ns = this.paths.netns(spec.name);
    const ip = nodeIp(this.nodes.size + 1);
    await createNetns(ns);
    await attachNode(this.paths.netns('fabric'), ns, spec.name, ip);
    await this.hooks.nodeUp?.(spec.name, ns, ip);
    mkdirSync(dirname(this.paths.nsmSocket(spec.name)), { recursive: true });
    // What the exclude-prefixes sidecar's emptyDir holds in a cluster: nsm-local exclude-prefixes edits it.
    writeExcludedPrefixes(this.paths.excludedPrefixesFile(spec.name), []);
    this.nodes.set(spec.name, { spec, ip });
    if (spec.forwarder === 'vpp' || this.checksummed) await this.wireChecksums();
    const nsmSocket = `unix://${this.paths.nsmSocket(spec.name)}`;
    const forwarderSocket = `unix://${join(this.paths.nodeDir(spec.name), 'forwarder.sock')}`;
    // The node's dataplane is a host service here (Open vSwitch, as with upstream's forwarder-host-ovs
    // image; or VPP), so that a forwarder that dies or restarts leaves it up.
    const dataplane = spec.forwarder === 'vpp' ? await this.startVpp(spec, ns) : await this.startOvs(spec, ns);
    this.supervisor.start({
      name: `nsmgr-${spec.name}`,
      netns: ns,
      argv: commandArgv('cmd-nsmgr'),
      env: {
        NSM_NAME: `nsmgr-${spec.name}`,
        NSM_LISTEN_ON: `${nsmSocket},tcp://${ip}:${NSMGR_PORT}`,
        NSM_REGISTRY_URL: this.registryUrl,
        NODE_NAME: spec.name,
        NSM_EXCLUDED_PREFIXES_FILE: this.paths.excludedPrefixesFile(spec.name),
        // Tests and tools (nsm-local request, the e2e harness) act from the runtime's own namespace (the
        // host's) and name pods' namespaces by name; a pod may only ever name its own.
        NSM_NAMED_NETNS_SENDER: inodeUrlOf(),
        ...(await identity.add(`nsmgr-${spec.name}`, identity.componentId(`nsmgr-${spec.name}`))),
        ...this.topology.nsmgrEnv,
        ...spec.env,
      },
      logFile: join(this.paths.logs, `nsmgr-${spec.name}.log`),
    });
    this.supervisor.start({
      name: `forwarder-${spec.name}`,
      netns: ns,
      argv: commandArgv(`cmd-forwarder-${spec.forwarder}`),
      env: {
        NSM_NAME: `forwarder-${spec.name}`,
        NSM_CONNECT_TO: nsmSocket,
        NSM_LISTEN_ON: forwarderSocket,
        NSM_TUNNEL_IP: ip,
        // Every node has a second NIC for VLAN breakout to external networks on the node network.
        NSM_VLAN_UPLINK: NODE_UPLINK,
        NODE_NAME: spec.name,
        ...(await identity.add(`forwarder-${spec.name}`, identity.componentId(`forwarder-${spec.name}`))),
        ...dataplane,
        ...this.topology.forwarderEnv,
        ...spec.forwarderEnv,
      },
      logFile: join(this.paths.logs, `forwarder-${spec.name}.log`),
    });
    await this.ready(nsmSocket, `nsmgr-${spec.name}`, identity.probeSource);
    await this.ready(forwarderSocket, `forwarder-${spec.name}`, identity.probeSource, 30_000);
  }

  /** waitForGrpc for process `name`; a failure carries the tail of its log (the mesh's logs go with `down`). */
  private async ready(url: string, name: string, source: X509Source, timeoutMs?: number): Promise<void> {
    try {
      await waitForGrpc(url, name, source, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}${this.logTail(name)}`, { cause: err });
    }
  }

  /** The last lines of process `name`'s log, for an error that is about it. */
  private logTail(name: string, lines = 12): string {
    const file = join(this.paths.logs, `${name}.log`);
    const tail = existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log yet)';
    return `\n--- last lines of ${file}:\n${tail}`;
  }

  /**
   * Frames on the node network with whole checksums, from the first VPP node on. VPP reads the node
   * network through af_packet and drops a UDP or TCP packet whose checksum is wrong; but a veth hands
   * on what its sender's kernel left for the NIC to fill in (a partial checksum), and a VXLAN or
   * WireGuard packet from an OVS node, or from an external network, would arrive "bad". Real NICs
   * fill checksums in; here every node's and external's NIC computes them in software instead.
   */
  private async wireChecksums(): Promise<void> {
    this.checksummed = true;
    const nics: Array<[string, string]> = [
      ...[...this.nodes.keys()].flatMap((n): Array<[string, string]> => [[n, 'eth0'], [n, NODE_UPLINK]]),
      ...[...this.externals.keys()].map((x): [string, string] => [x, 'eth0']),
    ];
    for (const [name, dev] of nics) await disableOffloads(netnsByName(this.paths.netns(name)), dev, ['tx']);
  }

  /** The node's Open vSwitch; returns the forwarder's settings for it. */
  private async startOvs(spec: NodeSpec, ns: string): Promise<Record<string, string>> {
    const ovsDir = join(this.paths.nodeDir(spec.name), 'ovs');
    this.supervisor.start({
      name: `ovs-${spec.name}`,
      netns: ns,
      argv: ['bash', join(repoRoot(), 'local', 'ovs-node.sh'), ovsDir],
      env: {},
      logFile: join(this.paths.logs, `ovs-${spec.name}.log`),
    });
    await waitForFile(join(ovsDir, 'ovs-vswitchd.ctl'), `ovs-${spec.name}`);
    return { NSM_OVS_RUN_DIR: ovsDir, NSM_OVS_DB_SOCKET: join(ovsDir, 'db.sock') };
  }

  /** The node's VPP (the forwarder takes the node's eth0 into it: NSM_VPP_INIT=AF_PACKET); returns the
   *  forwarder's settings for it. */
  private async startVpp(spec: NodeSpec, ns: string): Promise<Record<string, string>> {
    const index = this.nodes.size - 1;
    const vpp = await prepareVpp(this.paths.nodeDir(spec.name), index);
    const env = { ...this.topology.forwarderEnv, ...spec.forwarderEnv };
    await absorbTunnelPorts(ns, this.nodes.get(spec.name)!.ip, [4789, Number(env.NSM_VXLAN_PORT) || 4789, 51820]);
    const common = {
      NSM_VPP_INIT: 'AF_PACKET',
      // Pods see the node's folders (as a hostPath mount would show them): memif sockets go there.
      NSM_MEMIF_DIR: this.memifDir(spec.name),
    };
    if (spec.vppInForwarder) {
      // The forwarder starts VPP (NSM_VPP_API_SOCKET empty) with the local runtime's sizes.
      return {
        ...common,
        NSM_VPP_API_SOCKET: '',
        NSM_VPP_BIN: vpp.bin,
        NSM_VPP_RUN_DIR: vpp.runDir,
        NSM_VPP_PLUGINS: NODE_VPP_PLUGINS.join(','),
        NSM_VPP_HEAP: '128M',
        NSM_VPP_BUFFERS: '16384',
        NSM_VPP_MAIN_CORE: String(index % Math.max(1, cpus().length)),
      };
    }
    this.supervisor.start({ name: `vpp-${spec.name}`, netns: ns, argv: vpp.argv, env: {}, logFile: join(this.paths.logs, `vpp-${spec.name}.log`) });
    await waitForFile(vpp.cliSocket, `vpp-${spec.name}`, 30_000);
    return { ...common, NSM_VPP_API_SOCKET: vpp.apiSocket };
  }

  /** An external VLAN-aware network: its own switch (the same one an endpoint uses to split VLANs). */
  private async addExternal(spec: ExternalSpec): Promise<void> {
    if (this.nodes.has(spec.name) || this.pods.has(spec.name)) throw new Error(`external ${spec.name}: the name is taken`);
    const name = this.paths.netns(spec.name);
    await createNetns(name);
    await attachExternal(this.paths.netns('fabric'), name, spec.name);
    const netns = netnsByName(name);
    const runDir = join(this.paths.root, 'externals', spec.name);
    mkdirSync(runDir, { recursive: true });
    const sw = await VlanTrunk.start({ runDir: join(runDir, 'ovs'), trunk: 'eth0', bridge: 'br-ext', netns });
    this.externals.set(spec.name, { spec, sw });
    if (this.checksummed) await this.wireChecksums();
    for (const v of spec.vlans) {
      const dev = await sw.addVlan(v.id);
      await applyIpContext(netns, dev, { addrs: v.addresses, up: true });
      // TCP through a userspace OVS port stalls unless the kernel side stops offloading (perf-notes).
      await disableOffloads(netns, dev);
    }
    this.log('external network up', { name: spec.name, vlans: spec.vlans });
  }

  async addPod(spec: PodSpec): Promise<void> {
    const node = this.nodes.get(spec.node);
    if (!node) throw new Error(`pod ${spec.name}: node "${spec.node}" does not exist (nodes: ${[...this.nodes.keys()].join(', ')})`);
    if (this.pods.has(spec.name)) throw new Error(`pod ${spec.name} already exists`);
    const ns = this.paths.netns(spec.name);
    await createNetns(ns);
    mkdirSync(this.paths.podDir(spec.name), { recursive: true });
    preparePodFiles(this.paths, spec.name);
    this.pods.set(spec.name, spec);
    let admitted;
    try {
      admitted = await this.kube.admit(spec, { netns: ns, podDir: this.paths.podDir(spec.name), node: { name: spec.node, ip: node.ip, nsmSocket: this.paths.nsmSocket(spec.node) } });
    } catch (err) {
      this.pods.delete(spec.name);
      this.kube.release(spec.name);
      await deleteNetns(ns);
      rmSync(this.paths.podDir(spec.name), { recursive: true, force: true });
      throw err;
    }
    const identity = this.identity!;
    const idEnv = await identity.add(spec.name, identity.podId(spec.name));
    const isolation = this.isolationOf(spec);
    if (spec.vpp) {
      // The pod's app: a VPP in the pod's namespace, beside its NSM process (a second container).
      const vpp = await prepareVpp(this.paths.podDir(spec.name), this.pods.size, POD_VPP_PLUGINS);
      // Its image's files: the VPP runtime's folder (binaries, plugins), which may be under the hidden /tmp.
      const image = dirname(dirname(vpp.bin));
      this.supervisor.start({ name: `${spec.name}-vpp`, netns: ns, argv: vpp.argv, env: {}, isolation: { ...isolation, shares: [...isolation.shares, image] }, logFile: join(this.paths.logs, `${spec.name}-vpp.log`) });
      await waitForFile(vpp.cliSocket, `${spec.name}-vpp`, 30_000);
    }
    if (spec.dnsServer) {
      this.supervisor.start({ name: `${spec.name}-dns`, netns: ns, argv: podArgv(this.paths, spec.name, dnsServerArgv(spec.dnsServer)), env: {}, isolation, logFile: join(this.paths.logs, `${spec.name}-dns.log`) });
    }
    const podEnv = idEnv;
    const nsmEnv = (bundle: string | undefined): Record<string, string> => ({
      NSM_NAME: spec.name,
      ...podEnv,
      NSM_CONNECT_TO: `unix://${this.paths.nsmSocket(spec.node)}`,
      ...(bundle && bundle !== 'nsc' ? { NSM_LISTEN_ON: `unix://${join(this.paths.podDir(spec.name), 'nse.sock')}` } : { NSM_COREFILE_PATH: podCorefile(this.paths, spec.name) }),
    });
    const status = { restartPolicy: spec.restartPolicy, onStart: admitted.onStart, onExit: admitted.onExit };
    if (!spec.containers) {
      this.supervisor.start({
        name: spec.name,
        netns: ns,
        argv: podArgv(this.paths, spec.name, [...commandArgv(`cmd-${spec.command}`), ...(spec.args ?? [])]),
        env: { ...nsmEnv(spec.command), ...admitted.env, ...spec.env },
        isolation,
        logFile: join(this.paths.logs, `${spec.name}.log`),
        ...status,
      });
      return;
    }
    // A manifest's pod: init containers one by one to completion, then every container; the first
    // container's process carries the pod's status.
    const run = (c: ContainerRun) => ({
      netns: ns,
      argv: podArgv(this.paths, spec.name, c.bundle ? [...commandArgv(`cmd-${c.bundle}`), ...c.argv] : c.argv),
      env: c.bundle ? { ...nsmEnv(c.bundle), ...admitted.env, ...c.env, ...podEnv } : { ...podEnv, ...admitted.env, ...c.env },
      isolation,
      logFile: join(this.paths.logs, `${containerProcess(spec, c.name)}.log`),
    });
    for (const c of spec.initContainers ?? []) {
      const name = containerProcess(spec, c.name, true);
      const exit = new Promise<number | null>((resolve) => this.supervisor.start({ name, ...run(c), restartPolicy: 'Never', onExit: (e) => resolve(e.code) }));
      const code = await exit;
      await this.supervisor.stop(name);
      if (code !== 0) throw new Error(`pod ${spec.name}: init container ${c.name} exited with ${code} (log: ${run(c).logFile})`);
    }
    spec.containers.forEach((c, i) => this.supervisor.start({ name: containerProcess(spec, c.name), ...run(c), ...(i === 0 ? status : { restartPolicy: spec.restartPolicy }) }));
  }

  /**
   * A pod's containers as a container runtime makes them: own PID, mount, UTS and IPC namespaces, a
   * private /tmp, no view of the host's named network namespaces, and of the mesh's folder only what the pod's hostPath mounts would give it: the
   * node's NSM socket folder (/var/lib/networkservicemesh in a cluster), its own Workload API socket
   * folder (/run/spire/sockets) and its own folder (its endpoint socket, kubeconfig, VPP files). The
   * host paths are kept, so the URLs in the pod's settings mean the same inside and out.
   */
  private isolationOf(spec: PodSpec): Isolation {
    const root = this.paths.root;
    const underTmp = !relative('/tmp', root).startsWith('..');
    return {
      hostname: spec.name,
      shares: [
        dirname(this.paths.nsmSocket(spec.node)),
        dirname(this.identity!.socketOf(spec.name)),
        this.paths.podDir(spec.name),
        // A VPP node's memif sockets, which the pod's app connects to (upstream hands them over the NSM socket).
        ...(this.nodes.get(spec.node)?.spec.forwarder === 'vpp' ? [this.memifDir(spec.node)] : []),
      ],
      // /run/netns: the host's named namespaces (nodes, other pods) are no business of a container's.
      hides: underTmp ? ['/tmp', NETNS_RUN_DIR] : ['/tmp', root, NETNS_RUN_DIR],
    };
  }

  private memifDir(node: string): string {
    return join(this.paths.nodeDir(node), 'memif');
  }

  /** Deletes a pod as Kubernetes would: SIGTERM, grace period, then its namespace goes away. */
  async deletePod(name: string, opts: { force?: boolean; graceMs?: number } = {}): Promise<void> {
    if (!this.pods.has(name) && !this.kube.store.has(name)) throw new Error(`pod ${name} does not exist`);
    // --force is `kubectl delete --grace-period=0 --force`: SIGKILL, no chance to close anything.
    const graceMs = opts.force ? 0 : (opts.graceMs ?? 10_000);
    this.kube.markDeleting(name, Math.ceil(graceMs / 1000));
    if (this.pods.has(name)) {
      const spec = this.pods.get(name)!;
      await Promise.all(podProcesses(spec).map((p) => this.supervisor.stop(p, graceMs)));
      await this.supervisor.stop(`${name}-vpp`);
      await this.supervisor.stop(`${name}-dns`);
      await deleteNetns(this.paths.netns(name));
      rmSync(this.paths.podDir(name), { recursive: true, force: true });
      await this.identity?.remove(name);
      this.pods.delete(name);
    }
    this.kube.release(name);
  }

  /**
   * A mesh component in the fabric namespace beside the registry (a cluster's nsmgr-proxy and
   * registry-proxy-dns), supervised, with an identity of its own; ready once it serves gRPC health at
   * `readyUrl`.
   */
  async startComponent(name: string, cmd: string, env: Record<string, string>, readyUrl: string): Promise<void> {
    const identity = this.identity;
    if (!identity || !this.fabricUp) throw new Error('the mesh is not up');
    this.supervisor.start({
      name,
      netns: this.paths.netns('fabric'),
      argv: commandArgv(cmd),
      env: { NSM_NAME: name, ...(await identity.add(name, identity.componentId(name))), ...env },
      logFile: join(this.paths.logs, `${name}.log`),
    });
    this.components.add(name);
    // The component listens in the fabric namespace only: probe from there, as a kubelet's exec probe
    // would, with the command's own health-probe and the runtime's identity.
    const probe = [...commandArgv(cmd), 'health-probe', readyUrl];
    const probeEnv = { SPIFFE_ENDPOINT_SOCKET: `unix://${identity.socketOf('nsm-local')}` };
    const deadline = Date.now() + 30_000;
    let last = '';
    for (;;) {
      const r = await exec(['ip', 'netns', 'exec', this.paths.netns('fabric'), ...probe], { env: probeEnv, timeoutMs: 10_000 }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      if (r === undefined) return;
      last = r;
      if (Date.now() > deadline) throw new Error(`${name} did not become ready on ${readyUrl} within 30 s (${last})${this.logTail(name)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  /** The mesh's identity provider (created on first use; the trust domain is fixed from then on). */
  async meshIdentity(t: Partial<Topology> = {}): Promise<MeshIdentity> {
    return this.ensureIdentity(t);
  }

  /** Creates the mesh's identity provider on first use; the trust domain cannot change afterwards. */
  private async ensureIdentity(t: Partial<Topology>): Promise<MeshIdentity> {
    if (!this.identity) {
      this.identity = await MeshIdentity.create(this.paths.root, { trustDomain: t.trustDomain, svidLifetimeMs: t.svidLifetimeMs });
      this.log('identity provider up', { ...this.identity.settings });
    } else if (t.trustDomain && t.trustDomain !== this.identity.settings.trustDomain) {
      throw new Error(`the mesh's trust domain is ${this.identity.settings.trustDomain}; it cannot become ${t.trustDomain} while the mesh is up`);
    }
    return this.identity;
  }

  /** The identity of a pod or component, in process: how tests and tools act as it. */
  sourceOf(name: string): X509Source {
    if (!this.identity) throw new Error('the mesh is not up');
    return this.identity.sourceOf(name);
  }

  /**
   * An identity to act with from this process: that of the pod or component `name`, or, for a name
   * that is neither, a pod identity of its own (a client that is not a supervised pod: benchmarks,
   * tests); with path tokens signed by it.
   */
  async workload(name: string, maxTokenLifetimeMs = 600_000): Promise<{ id: string; source: X509Source; tokens: TokenGenerator }> {
    if (!this.identity) throw new Error('the mesh is not up');
    const known = this.identity.list().find((w) => w.name === name);
    if (!known) await this.identity.add(name, this.identity.podId(name));
    const source = this.identity.sourceOf(name);
    return { id: known?.spiffeId ?? this.identity.podId(name), source, tokens: spiffeTokenGenerator({ source, maxLifetimeMs: maxTokenLifetimeMs }) };
  }

  status() {
    return {
      mesh: this.paths.mesh,
      registry: this.registryUrl,
      nodes: [...this.nodes.entries()].map(([name, n]) => ({
        name,
        forwarder: n.spec.forwarder,
        ip: n.ip,
        netns: this.paths.netns(name),
        nsmSocket: this.paths.nsmSocket(name),
        excludedPrefixesFile: this.paths.excludedPrefixesFile(name),
        ...(n.spec.forwarder === 'vpp' ? { vppCli: join(this.paths.nodeDir(name), 'vpp', 'cli.sock') } : {}),
      })),
      pods: [...this.pods.values()].map((p) => ({ ...p, netns: this.paths.netns(p.name), phase: this.kube.store.byName(p.name)?.status.phase })),
      networkServices: this.networkServices.names(),
      externals: [...this.externals.values()].map((x) => ({ ...x.spec, netns: this.paths.netns(x.spec.name) })),
      processes: this.supervisor.status(),
      trustDomain: this.identity?.settings.trustDomain,
      svidLifetimeMs: this.identity?.settings.svidLifetimeMs,
      identities: this.identity?.list() ?? [],
    };
  }

  /** Stops everything in dependency order and removes every namespace and file of this mesh. */
  async down(): Promise<void> {
    await Promise.all([...this.pods.values()].flatMap((p) => podProcesses(p).map((name) => this.supervisor.stop(name))));
    await Promise.all([...this.pods.keys()].map((p) => this.supervisor.stop(`${p}-vpp`)));
    await Promise.all([...this.pods.keys()].map((p) => this.supervisor.stop(`${p}-dns`)));
    this.kube.close();
    this.networkServices.close();
    await Promise.all([...this.nodes.keys()].map((n) => this.supervisor.stop(`forwarder-${n}`)));
    await Promise.all([...this.nodes.keys()].map((n) => this.supervisor.stop(`nsmgr-${n}`)));
    await Promise.all([...this.nodes.keys()].map((n) => this.supervisor.stop(`ovs-${n}`)));
    await Promise.all([...this.nodes.keys()].map((n) => this.supervisor.stop(`vpp-${n}`)));
    await this.webhook.stop();
    await Promise.all([...this.components].map((c) => this.supervisor.stop(c)));
    this.components.clear();
    await this.supervisor.stop('registry');
    await Promise.all([...this.externals.values()].map((x) => x.sw.stop().catch(() => undefined)));
    this.externals.clear();
    await this.identity?.close();
    this.identity = undefined;
    await cleanupMesh(this.paths);
    this.pods.clear();
    this.nodes.clear();
    this.fabricUp = false;
  }
}

/**
 * Writes a node's excluded prefixes file (upstream's format) whole, as a ConfigMap update does: a new
 * file renamed over the old one, so that the nsmgr never reads half of it. Returns the normalised list.
 */
export function writeExcludedPrefixes(file: string, prefixes: string[]): string[] {
  const list = normalizePrefixes(prefixes);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, list.length ? `prefixes:\n${list.map((p) => `  - ${p}\n`).join('')}` : 'prefixes: []\n');
  renameSync(tmp, file);
  return list;
}

/** The supervisor's name of a container's process: the pod's own name for its first container. */
export function containerProcess(spec: PodSpec, container: string, init = false): string {
  return !init && spec.containers?.[0]?.name === container ? spec.name : `${spec.name}.${container}`;
}

/** Every process a pod runs (beside a VPP app). */
const podProcesses = (spec: PodSpec): string[] => (spec.containers ? spec.containers.map((c) => containerProcess(spec, c.name)) : [spec.name]);

/** Removes whatever a mesh of this name left behind, also after a crash of its daemon. */
export async function cleanupMesh(paths: MeshPaths): Promise<void> {
  const prefix = `${paths.mesh}-`;
  const mine = (await netnsList()).filter((n) => n.startsWith(prefix));
  // Pods first, so that nothing is left using a node's sockets; the fabric last.
  const order = (n: string) => (n === `${prefix}internet` ? 3 : n.endsWith('-fabric') ? 2 : n.includes('node') ? 1 : 0);
  for (const ns of mine.sort((a, b) => order(a) - order(b))) await deleteNetns(ns);
  // A multi-cluster mesh's namespaces see the internet's DNS server through these.
  removeResolvConfs(prefix);
  if (existsSync(paths.root)) rmSync(paths.root, { recursive: true, force: true });
}

async function waitForFile(path: string, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs} ms (no ${path})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until a component reports SERVING on gRPC health at its URL (a readiness probe). Health is
 * on the component's mutual-TLS server, so the probe presents the runtime's own SVID.
 */
export async function waitForGrpc(url: string, what: string, source: X509Source, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      if ((await checkHealth(url, source, { timeoutMs: 1000 })) === 'SERVING') return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not become ready on ${url} within ${timeoutMs} ms${last ? ` (${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
