// nsm-local: runs NSM on this machine the way Kubernetes would, with network namespaces for nodes and
// pods. A background daemon supervises the processes; the CLI talks to it like kubectl to a cluster.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { NetworkServiceEndpoint } from '@nsm/api';
import { actAsConnections, actAsRequest, socketOf, SVID_KINDS, SvidKind, TOKEN_KINDS, TokenKind } from './actas';
import { call, serveControl } from './control';
import { podTable } from './kube/table';
import type { Pod } from './kube/types';
import { workloadSocket, type WorkloadIdentity } from './identity';
import { runDemo } from './demo';
import { LocalClusters } from './clusters';
import { cleanupMesh, LocalMesh, writeExcludedPrefixes } from './mesh';
import { clusterPaths, commandArgv, meshPaths } from './paths';
import { endpointTable, registeredEndpoints } from './endpoints';
import { hasPodFiles, podArgv } from './podfs';
import { execArgv, type ProcessStatus } from './supervisor';
import { FORWARDER_KINDS, isMultiCluster, type ForwarderKind } from './topology';
import { nodeVppBinaries } from './vpp';

const program = new Command('nsm-local')
  .description('Run a local Network Service Mesh in network namespaces (nodes and pods), supervised like a kubelet would')
  .option('--mesh <name>', 'name of the mesh: prefix of its namespaces and folder under $NSM_LOCAL_DIR (default /tmp/nsm-local) [env NSM_LOCAL_MESH]', process.env.NSM_LOCAL_MESH ?? 'nsm');

const paths = () => meshPaths(program.opts().mesh);
const log = (msg: string, fields?: object) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

async function ensureDaemon(): Promise<void> {
  const p = paths();
  if (existsSync(p.control) && (await call(p.control, 'GET', '/status').catch(() => undefined))) return;
  mkdirSync(p.root, { recursive: true });
  const out = openSync(join(p.root, 'daemon.log'), 'a');
  const child = spawn(process.execPath, [process.argv[1], '--mesh', p.mesh, 'daemon'], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const deadline = Date.now() + 10_000;
  while (!(existsSync(p.control) && (await call(p.control, 'GET', '/status').catch(() => undefined)))) {
    if (Date.now() > deadline) throw new Error(`the nsm-local daemon did not start; see ${join(p.root, 'daemon.log')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Resolves once process `pid` has ended (or after `ms`: then it is killed). An ended process whose
 * parent is gone may stay a zombie (an init that does not reap): that counts as ended.
 */
async function untilGone(pid: number, ms: number): Promise<void> {
  const alive = () => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
    } catch {
      return false;
    }
  };
  for (const deadline = Date.now() + ms; alive(); ) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function mustCall(method: string, path: string, body?: string) {
  const r = await call(paths().control, method, path, body).catch(() => {
    throw new Error(`mesh "${paths().mesh}" is not running (start it with: nsm-local up)`);
  });
  if (r.status >= 300) throw new Error((r.json as { error?: string; message?: string }).error ?? (r.json as { message?: string }).message ?? `HTTP ${r.status}`);
  return r.json;
}

const readInput = (file: string) => (file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8'));

program
  .command('up')
  .description('start the mesh daemon with nodes (registry, and per node an nsmgr and a forwarder); apply -f pods if given')
  .option('--nodes <n>', 'number of nodes (node1..nodeN)', '1')
  .option('--forwarder <kinds>', 'forwarder of each node: ovs or vpp, or a list (ovs,vpp) whose last entry goes on for the remaining nodes', 'ovs')
  .option('-f, --file <file>', 'topology YAML (nodes, pods, env); - for stdin')
  .option('--trust-domain <td>', 'trust domain of the mesh\'s SPIFFE identities (topology trustDomain; default nsm.local)')
  .option('--svid-lifetime <d>', 'lifetime of every X.509-SVID, rotated at half of it, e.g. 1h or 10s (topology svidLifetime; default 1h)')
  .option('--clusters <n>', 'several clusters (cluster1..N, domains my.clusterK, trust domains nsm.clusterK, all federated), each with --nodes nodes, on a shared internet with a DNS server; pods then go in a topology with clusters:')
  .action(async (o: { nodes: string; forwarder: string; file?: string; trustDomain?: string; svidLifetime?: string; clusters?: string }) => {
    const kinds = o.forwarder.split(',').map((k) => k.trim());
    const bad = kinds.find((k) => !FORWARDER_KINDS.includes(k as ForwarderKind));
    if (bad !== undefined) throw new Error(`--forwarder: "${bad}" is not one of ${FORWARDER_KINDS.join(', ')}`);
    const nodes = Array.from({ length: Number(o.nodes) }, (_, i) => `{name: node${i + 1}, forwarder: ${kinds[Math.min(i, kinds.length - 1)]}}`);
    const lifetime = o.svidLifetime ? `svidLifetime: ${JSON.stringify(o.svidLifetime)}\n` : '';
    if (o.clusters !== undefined) {
      const n = Number(o.clusters);
      if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error('--clusters must be a number from 1 to 8');
      if (o.trustDomain) throw new Error('--trust-domain is per cluster with --clusters (nsm.clusterK; a topology file sets others)');
      if (o.file) throw new Error('--clusters and -f do not go together: describe the clusters in the file (clusters: [...])');
      await ensureDaemon();
      const body = `clusters:\n${Array.from({ length: n }, (_, k) => `  - {name: cluster${k + 1}, nodes: [${nodes.join(', ')}]}\n`).join('')}${lifetime}`;
      return console.log(JSON.stringify(await mustCall('POST', '/apply', body), null, 2));
    }
    const yaml = o.file ? readInput(o.file) : '';
    if (isMultiCluster(yaml)) {
      await ensureDaemon();
      return console.log(JSON.stringify(await mustCall('POST', '/apply', `${yaml}\n${lifetime}`), null, 2));
    }
    await ensureDaemon();
    const identity = [o.trustDomain ? `trustDomain: ${JSON.stringify(o.trustDomain)}` : '', o.svidLifetime ? `svidLifetime: ${JSON.stringify(o.svidLifetime)}` : ''].filter(Boolean).join('\n');
    // Separate documents: the file may hold Kubernetes manifests beside (or instead of) a topology.
    const body = [yaml.includes('nodes:') ? '' : `nodes: [${nodes.join(', ')}]`, identity, yaml].filter(Boolean).join('\n---\n');
    console.log(JSON.stringify(await mustCall('POST', '/apply', body), null, 2));
  });

program
  .command('apply')
  .description('add the pods of a topology YAML, or Kubernetes Pod and Deployment manifests (multi-document YAML; each pod goes through the admission webhook), to the running mesh')
  .requiredOption('-f, --file <file>', 'topology and/or Kubernetes manifests YAML; - for stdin')
  .action(async (o: { file: string }) => console.log(JSON.stringify(await mustCall('POST', '/apply', readInput(o.file)), null, 2)));

program
  .command('delete <what> [name]')
  .description('delete a pod (delete <pod> or delete pod <pod>): SIGTERM its process (SIGKILL with --force), then remove its namespace; or delete networkservice <name>: unregister a NetworkService the topology registered')
  .option('--force', 'kill at once, like kubectl delete --grace-period=0 --force')
  .action(async (what: string, name: string | undefined, o: { force?: boolean }) => {
    if (name && ['networkservice', 'networkservices', 'ns'].includes(what)) {
      return console.log(JSON.stringify(await mustCall('POST', `/networkservices/${encodeURIComponent(name)}/delete`)));
    }
    const pod = name && ['pod', 'pods', 'po'].includes(what) ? name : what;
    console.log(JSON.stringify(await mustCall('POST', `/pods/${encodeURIComponent(pod)}/delete?force=${!!o.force}`)));
  });

program
  .command('get <what>')
  .description(
    "list the pods (get pods) of the runtime's pod API, like kubectl get pods -A -o wide, or the endpoints a registry keeps (get nse), like kubectl get networkserviceendpoints; -o json for the objects",
  )
  .option('-o, --output <format>', 'table or json', 'table')
  .option('-l, --selector <labels>', 'label selector, e.g. app=nse-icmp-responder (pods)')
  .option('--cluster <name>', 'whose registry, in a multi-cluster mesh (nse)')
  .action(async (what: string, o: { output: string; selector?: string; cluster?: string }) => {
    if (['nse', 'nses', 'networkserviceendpoints'].includes(what)) {
      const s = (await mustCall('GET', '/status')) as { identities?: WorkloadIdentity[]; clusters?: { name: string; identities: WorkloadIdentity[] }[] };
      const ids = o.cluster ? s.clusters?.find((c) => c.name === o.cluster)?.identities : s.identities;
      if (!ids) throw new Error(o.cluster ? `--cluster ${o.cluster}: no such cluster` : 'this mesh runs several clusters: name one with --cluster');
      const at = o.cluster ? clusterPaths(paths(), o.cluster) : paths();
      const items = await registeredEndpoints(at.registrySocket, socketOf(ids, 'registry').workloadApiSocket);
      return console.log(o.output === 'json' ? JSON.stringify(items.map((e) => NetworkServiceEndpoint.toJSON(e)), null, 2) : endpointTable(items));
    }
    if (!['pods', 'pod', 'po'].includes(what)) throw new Error(`can get pods or nse, not "${what}"`);
    const q = o.selector ? `?labelSelector=${encodeURIComponent(o.selector)}` : '';
    const list = (await mustCall('GET', `/api/v1/pods${q}`)) as { items: Pod[] };
    if (o.output === 'json') return console.log(JSON.stringify(list, null, 2));
    console.log(podTable(list.items));
  });

program
  .command('exclude-prefixes <node> [prefixes...]')
  .description("show, or with prefixes (CIDRs) replace, a node's excluded prefixes: the nsmgr's excluded_prefixes.yaml, reloaded without restart; --clear empties it")
  .option('--clear', 'exclude nothing')
  .action((node: string, prefixes: string[], o: { clear?: boolean }) => {
    const file = paths().excludedPrefixesFile(node);
    if (!existsSync(file)) throw new Error(`node ${node} has no excluded prefixes file (${file}): is the mesh up with that node?`);
    if (prefixes.length || o.clear) writeExcludedPrefixes(file, o.clear ? [] : prefixes);
    process.stdout.write(`# ${file}\n${readFileSync(file, 'utf8')}`);
  });

program
  .command('kill <name>')
  .description('signal a process (pod, nsmgr-<node>, forwarder-<node>, registry; <cluster>/<name> in a multi-cluster mesh, dnsmasq); it is restarted like a container')
  .option('-s, --signal <sig>', 'signal', 'SIGKILL')
  .action(async (name: string, o: { signal: string }) => {
    console.log(JSON.stringify(await mustCall('POST', `/procs/${encodeURIComponent(name)}/signal?signal=${o.signal}`)));
  });

program
  .command('status')
  .description('show nodes, pods, processes, and every identity: SPIFFE ID and the host path of its Workload API socket')
  .action(async () => console.log(JSON.stringify(await mustCall('GET', '/status'), null, 2)));

const identities = async () => {
  const s = (await mustCall('GET', '/status')) as { identities?: WorkloadIdentity[] };
  if (!s.identities) throw new Error('this mesh runs several clusters: request --as and connections --as work on a single-cluster mesh (probe --as works on both)');
  return s.identities;
};

/**
 * The mesh's identities from its daemon; inside a pod, where the daemon's socket is not to be seen,
 * the pod's own Workload API socket at its usual place (shared into the pod as a hostPath is).
 */
async function identitiesOrOwn(as: string): Promise<WorkloadIdentity[]> {
  if (existsSync(paths().control)) return identities();
  return [{ name: as, spiffeId: '', workloadApiSocket: workloadSocket(paths().root, as) }];
}

program
  .command('request')
  .description('make one raw NetworkService Request to a node\'s nsmgr acting as a pod (its Workload API socket), or as an intruder; prints the outcome (exit 0 = granted, then closed again; 1 = refused)')
  .requiredOption('--as <pod>', 'the pod (or component) whose identity and namespace to use')
  .requiredOption('--service <name>', 'network service to request')
  .option('--node <node>', 'whose nsmgr', 'node1')
  .option('--svid <kind>', `transport identity: ${SVID_KINDS.join(', ')} (pod: its SVID; none: plaintext; foreign: an SVID of another trust domain)`, 'pod')
  .option('--token <kind>', `path token: ${TOKEN_KINDS.join(', ')}`, 'valid')
  .option('--foreign-trust-domain <td>', 'trust domain of the foreign SVID', 'evil.example')
  .option('--netns <what>', "the KERNEL inodeURL: named (file:///var/run/netns/<the pod's>), self (inode://<dev>/<ino> of this process's own namespace, upstream's form: run it inside a pod with exec), or a URL as given", 'named')
  .option('--interface <name>', "the client's interface name", 'intruder0')
  .option('--hold <seconds>', 'keep a granted connection this long before closing it', '0')
  .action(async (o: { as: string; service: string; node: string; svid: string; token: string; foreignTrustDomain: string; netns: string; interface: string; hold: string }) => {
    if (!SVID_KINDS.includes(o.svid as SvidKind)) throw new Error(`--svid must be one of ${SVID_KINDS.join(', ')}`);
    if (!TOKEN_KINDS.includes(o.token as TokenKind)) throw new Error(`--token must be one of ${TOKEN_KINDS.join(', ')}`);
    const holdMs = Number(o.hold) * 1000;
    if (!Number.isFinite(holdMs) || holdMs < 0 || holdMs > 3_600_000) throw new Error('--hold must be 0..3600 seconds');
    const opts = { ...o, svid: o.svid as SvidKind, token: o.token as TokenKind, interfaceName: o.interface, holdMs };
    const r = await actAsRequest(paths(), await identitiesOrOwn(o.as), opts);
    // Exit once the outcome is written: stdout may be a pipe, which process.exit does not wait for.
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`, () => process.exit(r.granted ? 0 : 1));
  });

program
  .command('connections')
  .description('show what MonitorConnections at a node\'s nsmgr shows a pod\'s identity: each connection with the SPIFFE IDs on its path')
  .requiredOption('--as <pod>', 'the pod (or component) whose identity to use')
  .option('--node <node>', 'whose nsmgr', 'node1')
  .action(async (o: { as: string; node: string }) => {
    console.log(JSON.stringify(await actAsConnections(paths(), await identities(), o.as, o.node), null, 2));
    process.exit(0);
  });

program
  .command('probe <url>')
  .description('ask gRPC health at <url> over mutual TLS with the identity of a pod or component, from inside a namespace (a node, a pod, a cluster\'s gateway "<cluster>/fabric"): what a peer of that identity gets there; exit 0 = SERVING')
  .requiredOption('--as <name>', 'whose identity (its Workload API socket): a pod or component, <cluster>/<name> in a multi-cluster mesh')
  .requiredOption('--in <namespace>', 'where to connect from: a node or pod (<cluster>/<name> in a multi-cluster mesh)')
  .action(async (url: string, o: { as: string; in: string }) => {
    const s = (await mustCall('GET', '/status')) as { identities?: WorkloadIdentity[]; clusters?: { name: string; identities: WorkloadIdentity[] }[] };
    const [cluster, name] = o.as.includes('/') ? o.as.split('/', 2) : [undefined, o.as];
    const ids = cluster ? s.clusters?.find((c) => c.name === cluster)?.identities : s.identities;
    if (!ids) throw new Error(`--as ${o.as}: no cluster "${cluster}"`);
    const socket = socketOf(ids, name).workloadApiSocket;
    const child = spawn('ip', ['netns', 'exec', paths().netns(o.in.replace('/', '-')), ...commandArgv('cmd-nsmgr'), 'health-probe', url], {
      stdio: 'inherit',
      env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: `unix://${socket}` },
    });
    child.on('exit', (code) => process.exit(code ?? 1));
  });

program
  .command('exec <name> [cmd...]')
  .description('run a command inside a pod (all its namespaces: network, PID, mount, UTS, IPC, like kubectl exec) or a node (its network namespace)')
  .allowUnknownOption()
  .action(async (name: string, cmd: string[]) => {
    // cluster1/node1 is the namespace cluster1-node1 of a multi-cluster mesh. Only a pod (it has a
    // folder) needs its PID 1 from the daemon (its namespaces, its own /tmp and resolver file); a node
    // is entered by its name at once.
    const isPod = existsSync(paths().podDir(name));
    const status = isPod ? ((await call(paths().control, 'GET', '/status').catch(() => undefined))?.json as { processes?: ProcessStatus[] } | undefined) : undefined;
    const proc = status?.processes?.find((p) => p.name === name);
    // A pod whose process has ended (Completed) is still there to look at, as kubectl debug would:
    // its network namespace and its own files (resolver), without a PID 1 to enter.
    const ended = isPod && proc?.isolated && !proc.pid && hasPodFiles(paths(), name);
    const [bin, ...args] = ended ? ['ip', 'netns', 'exec', paths().netns(name), ...podArgv(paths(), name, cmd)] : execArgv(paths().netns(name.replace('/', '-')), proc, cmd);
    const child = spawn(bin, args, { stdio: 'inherit' });
    child.on('exit', (code) => process.exit(code ?? 1));
  });

program
  .command('vppctl <name> [args...]')
  .description('run the VPP CLI of a VPP node or of a pod with a VPP (vppctl -s <its dir>/vpp/cli.sock ...), e.g. vppctl node1 show interface')
  .allowUnknownOption()
  .action(async (name: string, args: string[]) => {
    const { vppctl } = await nodeVppBinaries();
    const podCli = join(paths().podDir(name), 'vpp', 'cli.sock');
    const cli = existsSync(podCli) ? podCli : join(paths().nodeDir(name), 'vpp', 'cli.sock');
    // No stdin: vppctl reads commands from a stdin that is not a terminal, after its arguments.
    const child = spawn(vppctl, ['-s', cli, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => process.exit(code ?? 1));
  });

program
  .command('logs <name>')
  .description('print the log of a process (pod, nsmgr-<node>, forwarder-<node>, registry; <cluster>/<name> in a multi-cluster mesh, dnsmasq)')
  .action((name: string) => {
    process.stdout.write(readFileSync(join(paths().logs, `${name}.log`), 'utf8'));
  });

program
  .command('down')
  .description('stop everything and remove all namespaces, links and files of the mesh')
  .action(async () => {
    const p = paths();
    const r = existsSync(p.control) ? await call(p.control, 'POST', '/down').catch(() => undefined) : undefined;
    if (!r) await cleanupMesh(p);
    // "down" means nothing of the mesh runs any more, the daemon included (it exits just after answering).
    const pid = (r?.json as { pid?: unknown } | undefined)?.pid;
    if (typeof pid === 'number' && Number.isInteger(pid) && pid > 1) await untilGone(pid, 5000);
    console.log(JSON.stringify({ down: p.mesh }));
  });

program
  .command('demo')
  .description('bring up Kernel2Kernel, show the client interface, ping both ways, keep running until Ctrl-C, then clean up')
  .action(async () => runDemo(paths(), log));

program
  .command('daemon', { hidden: true })
  .action(async () => {
    const p = paths();
    const mesh = new LocalMesh(p, log);
    const clusters = new LocalClusters(p, log);
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await clusters.down().catch((e) => log('down failed', { err: String(e) }));
      await mesh.down().catch((e) => log('down failed', { err: String(e) }));
      process.exit(0);
    };
    await serveControl(mesh, p.control, () => setTimeout(() => process.exit(0), 50), clusters);
    process.on('SIGTERM', () => void stop());
    process.on('SIGINT', () => void stop());
    log('nsm-local daemon ready', { mesh: p.mesh, control: p.control });
  });

program.parseAsync().catch((err) => {
  process.stderr.write(`nsm-local: ${(err as Error).message}\n`);
  process.exit(1);
});
