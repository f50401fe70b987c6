// The manifests under deployments-k8s (every kustomization rendered: apps and example overlays) give each NSM container what the local runtime gives that
// process (local/mesh.ts, local/webhook.ts), no less and, unless a reason is written down, no more:
// host namespaces (hostNetwork, hostPID), privilege, host ports, and each mount (its host source and
// whether it is writable). Path settings (sockets, files) in effect in the container, from its env or
// the command's default, must lie under one of its mounts, writable where the process creates them.
// The webhook's injected client is checked as a cmd-nsc container too.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Schema } from '@nsm/sdk/cmd/config';
import { parseAll } from './k8s-schema';
import { schema as forwarderOvs } from '../cmd-forwarder-ovs/src/config';
import { schema as forwarderVpp } from '../cmd-forwarder-vpp/src/config';
import { schema as nsc } from '../cmd-nsc/src/config';
import { schema as nse } from '../cmd-nse-icmp-responder/src/config';
import { schema as supplier } from '../cmd-nse-supplier-k8s/src/config';
import { schema as nsmgr } from '../cmd-nsmgr/src/config';
import { schema as registry } from '../cmd-registry-k8s/src/config';
import { schema as nsmgrProxy } from '../cmd-nsmgr-proxy/src/config';
import { schema as registryProxyDns } from '../cmd-registry-proxy-dns/src/config';
import { schema as webhook } from '../cmd-admission-webhook/src/config';
import { review } from '../cmd-admission-webhook/src/mutate';
import { mutationSettings } from '../cmd-admission-webhook/src/main';
import { resolveConfig } from '@nsm/sdk/cmd/config';

const root = join(__dirname, '..');
const deployments = join(root, 'deployments-k8s');
const SPIRE = '/run/spire/sockets';
const NSM = '/var/lib/networkservicemesh';

interface MountNeed {
  path: string;
  source: 'hostPath' | 'emptyDir';
  hostPath?: string;
  readOnly: boolean;
  why: string;
}
type Use = 'connect' | 'read' | 'create';

interface Needs {
  hostNetwork: boolean;
  hostPID: boolean;
  privileged: boolean;
  hostPorts?: number[];
  mounts: MountNeed[];
  /** Mounts the manifest has beyond what the runtime gives, each with its reason. */
  extra?: Record<string, string>;
  /** The command's settings (env) that name paths, and what the process does with them. */
  settings?: Record<string, Use>;
  schema?: Schema;
  /** Env the runtime sets for the process (local/mesh.ts), so that this table follows it. */
  runtimeEnv?: string[];
  /** Needs the pod API (a service account bound to a Role on pods). */
  podApi?: boolean;
}

const spire: MountNeed = { path: SPIRE, source: 'hostPath', hostPath: SPIRE, readOnly: true, why: 'the Workload API socket (the runtime: <mesh>/spire/<name>/agent.sock)' };
const nsmRo: MountNeed = { path: NSM, source: 'hostPath', hostPath: NSM, readOnly: true, why: "dials the node's nsm.io.sock (the runtime: <mesh>/nodes/<node>/nsm.io.sock)" };
const nsmRw: MountNeed = { ...nsmRo, readOnly: false, why: "creates its socket in the node's NSM directory (the runtime: <mesh>/nodes/<node>/)" };
const SRIOV = 'SR-IOV (SmartVF) only; the local runtime has no SR-IOV devices';

/**
 * What each process gets from the local runtime (local/mesh.ts): the node's network namespace is
 * hostNetwork; pods have their own. Every process there runs as root in the host's PID namespace
 * (pod isolation is separate work); hostPID and privileged here are what the process needs: the
 * forwarders program interfaces of other namespaces and find pods' namespaces through the host's
 * /proc, nothing else does.
 */
const NEEDS: Record<string, Needs> = {
  'cmd-nsmgr': {
    hostNetwork: false,
    // The sender rule: a unix-socket client's pid (SO_PEERCRED) must name its network namespace in
    // /proc (the runtime: nsmgr runs in the host's PID namespace).
    hostPID: true,
    privileged: false,
    // The runtime's nsmgr listens on the node's address, port 5001: hostPort in a cluster.
    hostPorts: [5001],
    mounts: [spire, nsmRw, { path: `${NSM}/config`, source: 'emptyDir', readOnly: false, why: 'excluded_prefixes.yaml, written by the exclude-prefixes sidecar (the runtime: <mesh>/nodes/<node>/exclude-prefixes/, edited by nsm-local exclude-prefixes)' }],
    settings: { NSM_LISTEN_ON: 'create', NSM_EXCLUDED_PREFIXES_FILE: 'read', SPIFFE_ENDPOINT_SOCKET: 'connect' },
    schema: nsmgr,
    runtimeEnv: ['NSM_LISTEN_ON', 'NSM_EXCLUDED_PREFIXES_FILE', 'NSM_REGISTRY_URL', 'NODE_NAME'],
  },
  'cmd-exclude-prefixes-k8s': {
    hostNetwork: false,
    // Not its own need: hostPID is the nsmgr pod's, whose sidecar it is.
    hostPID: true,
    privileged: false,
    mounts: [{ path: `${NSM}/config`, source: 'emptyDir', readOnly: false, why: 'writes excluded_prefixes.yaml for nsmgr' }],
  },
  'cmd-forwarder-ovs': {
    hostNetwork: true,
    hostPID: true,
    privileged: true,
    mounts: [spire, nsmRw, { path: '/var/run/openvswitch', source: 'hostPath', hostPath: '/var/run/openvswitch', readOnly: true, why: "the node's Open vSwitch: ovsdb and the bridge's .mgmt sockets (the runtime: <mesh>/nodes/<node>/ovs)" }],
    extra: { '/var/lib/kubelet': SRIOV, '/host/sys/fs/cgroup': SRIOV, '/host/dev/vfio': SRIOV },
    settings: { NSM_CONNECT_TO: 'connect', NSM_LISTEN_ON: 'create', NSM_OVS_DB_SOCKET: 'connect', NSM_OVS_RUN_DIR: 'connect', SPIFFE_ENDPOINT_SOCKET: 'connect' },
    schema: forwarderOvs,
    runtimeEnv: ['NSM_CONNECT_TO', 'NSM_LISTEN_ON', 'NSM_TUNNEL_IP', 'NSM_OVS_RUN_DIR', 'NSM_OVS_DB_SOCKET'],
  },
  // forwarder-vpp's specifics (VPP's own sockets, memif) belong to the VPP issue: mounts only.
  'cmd-forwarder-vpp': {
    hostNetwork: true,
    hostPID: true,
    privileged: true,
    mounts: [spire, nsmRw, { path: '/var/run/vpp', source: 'emptyDir', readOnly: false, why: "VPP's API and CLI sockets, VPP running in the container" }],
    extra: { '/var/lib/kubelet': SRIOV, '/host/sys/fs/cgroup': SRIOV, '/host/dev/vfio': SRIOV },
    settings: { NSM_CONNECT_TO: 'connect', SPIFFE_ENDPOINT_SOCKET: 'connect' },
    schema: forwarderVpp,
  },
  'cmd-registry-k8s': {
    hostNetwork: false,
    hostPID: false,
    privileged: false,
    // The runtime's registry listens on the node network's address (the fabric's), port 5002.
    hostPorts: [5002],
    mounts: [spire],
    settings: { SPIFFE_ENDPOINT_SOCKET: 'connect' },
    schema: registry,
    runtimeEnv: ['REGISTRY_K8S_LISTEN_ON'],
  },
  // Clients and endpoints get their interfaces from the forwarder: no privilege. Their own serving
  // socket (NSM_LISTEN_ON, a temporary directory by default) is pod-private; the runtime's nsmgr
  // reaches an endpoint's through the shared mount namespace, a cluster needs the descriptor passed.
  'cmd-nsc': {
    hostNetwork: false,
    hostPID: false,
    privileged: false,
    mounts: [spire, nsmRo],
    extra: { '/etc/coredns': "the CoreDNS sidecar's Corefile, written from the endpoints' DNS context (the webhook's injected client)" },
    settings: { NSM_CONNECT_TO: 'connect', SPIFFE_ENDPOINT_SOCKET: 'connect' }, schema: nsc,
    runtimeEnv: ['NSM_CONNECT_TO'],
  },
  'cmd-nse-icmp-responder': { hostNetwork: false, hostPID: false, privileged: false, mounts: [spire, nsmRo], settings: { NSM_CONNECT_TO: 'connect', SPIFFE_ENDPOINT_SOCKET: 'connect' }, schema: nse, runtimeEnv: ['NSM_CONNECT_TO', 'NSM_LISTEN_ON'] },
  'cmd-nse-supplier-k8s': {
    hostNetwork: false,
    hostPID: false,
    privileged: false,
    mounts: [spire, nsmRo],
    settings: { NSM_CONNECT_TO: 'connect', SPIFFE_ENDPOINT_SOCKET: 'connect' },
    schema: supplier,
    // The runtime gives it the pod API (kubeApi: a kubeconfig for its namespace).
    podApi: true,
  },
  // The interdomain proxies run beside the cluster's registry (the runtime: in the gateway namespace).
  'cmd-nsmgr-proxy': {
    hostNetwork: false,
    hostPID: false,
    privileged: false,
    mounts: [spire],
    extra: { '/etc/nsm-map-ip': 'the address map, a ConfigMap (the runtime: <mesh>/clusters/<cluster>/map-ip.yaml)' },
    settings: { SPIFFE_ENDPOINT_SOCKET: 'connect' },
    schema: nsmgrProxy,
  },
  'cmd-registry-proxy-dns': { hostNetwork: false, hostPID: false, privileged: false, mounts: [spire], settings: { SPIFFE_ENDPOINT_SOCKET: 'connect' }, schema: registryProxyDns },
  // The runtime makes its serving certificate and runs it beside the registry; nothing of the node.
  'cmd-admission-webhook': { hostNetwork: false, hostPID: false, privileged: false, mounts: [], schema: webhook },
  // The examples' app containers (a pinger beside the client or endpoint): the runtime runs their
  // command in the pod (local/kube/containers.ts), with nothing of the node.
  busybox: { hostNetwork: false, hostPID: false, privileged: false, mounts: [] },
  // SPIRE's specifics belong to the security issue; the agent's Workload API directory is the node's.
  'spire-agent': {
    hostNetwork: true,
    hostPID: true,
    privileged: false,
    mounts: [{ path: SPIRE, source: 'hostPath', hostPath: SPIRE, readOnly: false, why: 'serves the Workload API socket to the node (the runtime: its embedded provider)' }],
    extra: { '/run/spire/config': "SPIRE's configuration", '/run/spire/bundle': "SPIRE's trust bundle", '/var/run/secrets/tokens': "the agent's projected token for node attestation" },
  },
  'spire-server': { hostNetwork: false, hostPID: false, privileged: false, mounts: [], extra: { '/run/spire/config': "SPIRE's configuration", '/run/spire/data': "SPIRE's datastore" } },
};

const repoName = (image: string) => image.split('@')[0].split('/').pop()!.split(':')[0];
const norm = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);
const under = (path: string, dir: string) => norm(path) === norm(dir) || norm(path).startsWith(`${norm(dir)}/`);

type Obj = Record<string, any>;

/** Every kustomization under deployments-k8s: the apps and the examples' overlays of them. */
function kustomizeDirs(dir: string): string[] {
  const subs = readdirSync(dir)
    .map((e) => join(dir, e))
    .filter((p) => statSync(p).isDirectory());
  return [...(readdirSync(dir).includes('kustomization.yaml') ? [dir] : []), ...subs.flatMap(kustomizeDirs)];
}

/** Every container of every rendered workload, with its pod spec. */
const workloads: Array<{ where: string; pod: Obj; c: Obj }> = kustomizeDirs(deployments).flatMap((dir) =>
  parseAll(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }))
    .filter((o) => o.spec?.template?.spec)
    .flatMap((o) => {
      const pod = o.spec.template.spec;
      return [...(pod.initContainers ?? []), ...pod.containers].map((c: Obj) => ({ where: `${relative(deployments, dir)}: ${o.kind}/${o.metadata.name} ${c.name}`, pod, c }));
    }),
);

/** What differs between a container and what its process needs: one line per difference. */
function differences(pod: Obj, c: Obj, need: Needs): string[] {
  const out: string[] = [];
  const flag = (name: string, have: boolean, want: boolean) => have !== want && out.push(`${name} is ${have}, the process needs ${want}`);
  flag('hostNetwork', !!pod.hostNetwork, need.hostNetwork);
  flag('hostPID', !!pod.hostPID, need.hostPID);
  flag('privileged', !!c.securityContext?.privileged, need.privileged);
  const ports = ((c.ports ?? []) as Obj[]).filter((p) => p.hostPort).map((p) => p.hostPort as number);
  if (JSON.stringify(ports.sort()) !== JSON.stringify([...(need.hostPorts ?? [])].sort())) out.push(`host ports ${JSON.stringify(ports)}, the process needs ${JSON.stringify(need.hostPorts ?? [])}`);
  const mounts = (c.volumeMounts ?? []) as Obj[];
  const volume = (name: string) => ((pod.volumes ?? []) as Obj[]).find((v) => v.name === name) ?? {};
  for (const m of need.mounts) {
    const have = mounts.find((x) => norm(x.mountPath) === norm(m.path));
    if (!have) {
      out.push(`no mount at ${m.path} (${m.why})`);
      continue;
    }
    const v = volume(have.name);
    if (m.source === 'hostPath' && norm(v.hostPath?.path ?? '') !== norm(m.hostPath!)) out.push(`${m.path} is not hostPath ${m.hostPath} (${JSON.stringify(v)})`);
    if (m.source === 'emptyDir' && !v.emptyDir) out.push(`${m.path} is not an emptyDir (${JSON.stringify(v)})`);
    if (!!have.readOnly !== m.readOnly) out.push(`${m.path} is ${have.readOnly ? 'read-only' : 'writable'}; the process needs it ${m.readOnly ? 'read-only' : 'writable'} (${m.why})`);
  }
  for (const x of mounts) {
    if (!need.mounts.some((m) => norm(m.path) === norm(x.mountPath)) && !need.extra?.[norm(x.mountPath)]) out.push(`mount ${x.mountPath} is more than the runtime gives the process (no reason written down)`);
  }
  const env = new Map(((c.env ?? []) as Obj[]).filter((e) => typeof e.value === 'string').map((e) => [e.name as string, e.value as string]));
  for (const [name, use] of Object.entries(need.settings ?? {})) {
    const dflt = Object.values(need.schema ?? {}).find((s) => s.env === name)?.default;
    const raw = env.get(name) ?? dflt ?? '';
    for (const value of raw.split(',').map((v) => v.trim())) {
      const path = value.startsWith('unix://') ? value.slice('unix://'.length) : value.startsWith('/') ? value : '';
      if (!path) continue;
      const at = mounts.filter((m) => under(path, m.mountPath)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      if (!at) out.push(`${name}=${value} lies under no mount`);
      else if (use === 'create' && at.readOnly) out.push(`${name}=${value}: the process creates it, but ${at.mountPath} is read-only`);
    }
  }
  if (need.podApi && !pod.serviceAccountName) out.push('no serviceAccountName: the process uses the pod API');
  return out;
}

test('every container of the manifests has a row in the table, and every row a container', () => {
  const names = new Set(workloads.map((w) => repoName(w.c.image)));
  expect([...names].filter((n) => !NEEDS[n])).toEqual([]);
  for (const n of Object.keys(NEEDS)) expect({ row: n, used: names.has(n) }).toEqual({ row: n, used: true });
});

test.each(workloads.map((w) => [w.where, w] as const))('%s gets what its process needs', (_where, w) => {
  expect(differences(w.pod, w.c, NEEDS[repoName(w.c.image)])).toEqual([]);
});

test('the table follows the runtime: the env it names is what local/mesh.ts sets', () => {
  const mesh = readFileSync(join(root, 'local', 'mesh.ts'), 'utf8');
  for (const [row, need] of Object.entries(NEEDS)) for (const e of need.runtimeEnv ?? []) expect({ row, env: e, set: mesh.includes(`${e}:`) }).toEqual({ row, env: e, set: true });
});

test('the client the webhook injects gets what cmd-nsc needs', () => {
  const manifest = workloads.find((w) => repoName(w.c.image) === 'cmd-admission-webhook')!;
  const env = Object.fromEntries(((manifest.c.env ?? []) as Obj[]).filter((e) => typeof e.value === 'string').map((e) => [e.name, e.value]));
  const settings = mutationSettings(resolveConfig(webhook, {}, env));
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app', annotations: { 'networkservicemesh.io': 'kernel://icmp-responder/nsm-1' } }, spec: { containers: [{ name: 'app', image: 'alpine', command: ['sleep', 'infinity'] }] } };
  const { patch } = review({ uid: 'u', operation: 'CREATE', kind: { kind: 'Pod' }, object: pod }, settings);
  const value = (path: string) => patch!.find((p) => p.path === path)!.value as Obj[];
  const mutated = { ...pod.spec, initContainers: value('/spec/initContainers'), containers: value('/spec/containers'), volumes: value('/spec/volumes') };
  const injected = [...mutated.initContainers, ...mutated.containers].filter((c) => repoName(c.image) === 'cmd-nsc');
  expect(injected.length).toBeGreaterThan(0);
  for (const c of injected) expect(differences(mutated, c, NEEDS['cmd-nsc'])).toEqual([]);
});

test('the checks are not vacuous', () => {
  const w = workloads.find((x) => repoName(x.c.image) === 'cmd-nsmgr')!;
  const c = structuredClone(w.c);
  const pod = structuredClone(w.pod);
  c.volumeMounts = c.volumeMounts.filter((m: Obj) => !m.mountPath.startsWith(`${NSM}/config`));
  c.volumeMounts.find((m: Obj) => m.mountPath === NSM).readOnly = true;
  c.volumeMounts.push({ name: 'x', mountPath: '/host' });
  pod.hostPID = false;
  const d = differences(pod, c, NEEDS['cmd-nsmgr']).join('\n');
  expect(d).toMatch(/hostPID is false/);
  expect(d).toMatch(/no mount at \/var\/lib\/networkservicemesh\/config/);
  expect(d).toMatch(/\/var\/lib\/networkservicemesh is read-only; the process needs it writable/);
  expect(d).toMatch(/NSM_LISTEN_ON=unix:\/\/\/var\/lib\/networkservicemesh\/nsm.io.sock: the process creates it/);
  expect(d).toMatch(/mount \/host is more than the runtime gives/);
});
