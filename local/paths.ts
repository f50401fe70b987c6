// Where a local mesh keeps its sockets, logs and state, and how its namespaces are named.
import { join, resolve } from 'node:path';

export interface MeshPaths {
  mesh: string;
  root: string;
  control: string;
  logs: string;
  /** The registry's unix socket (besides its TCP address), for the runtime's own calls. */
  registrySocket: string;
  nodeDir(node: string): string;
  podDir(pod: string): string;
  nsmSocket(node: string): string;
  /** The node's excluded prefixes file (nsmgr's NSM_EXCLUDED_PREFIXES_FILE). */
  excludedPrefixesFile(node: string): string;
  netns(name: string): string;
}

export function meshPaths(mesh: string, base = process.env.NSM_LOCAL_DIR ?? '/tmp/nsm-local'): MeshPaths {
  const root = resolve(base, mesh);
  return {
    mesh,
    root,
    control: join(root, 'control.sock'),
    logs: join(root, 'logs'),
    registrySocket: join(root, 'registry.sock'),
    nodeDir: (node) => join(root, 'nodes', node),
    podDir: (pod) => join(root, 'pods', pod),
    // The hostPath an NSM pod mounts (/var/lib/networkservicemesh): one per node, in a folder of its
    // own so that an isolated pod is given that folder and nothing else of the node's.
    nsmSocket: (node) => join(root, 'nodes', node, 'nsm', 'nsm.io.sock'),
    // The exclude-prefixes-volume of upstream's nsmgr DaemonSet, one per node.
    excludedPrefixesFile: (node) => join(root, 'nodes', node, 'exclude-prefixes', 'excluded_prefixes.yaml'),
    netns: (name) => `${mesh}-${name}`,
  };
}

/**
 * The paths of one cluster of a multi-cluster mesh: its files under <root>/clusters/<cluster>, its
 * logs under logs/<cluster>/ (`nsm-local logs cluster1/nsmgr-node1`), its namespaces named
 * <mesh>-<cluster>-<name> (`nsm-local exec cluster1-node1 ...`); the control socket is the mesh's.
 */
export function clusterPaths(parent: MeshPaths, cluster: string): MeshPaths {
  const root = join(parent.root, 'clusters', cluster);
  return {
    mesh: `${parent.mesh}-${cluster}`,
    root,
    control: parent.control,
    logs: join(parent.logs, cluster),
    registrySocket: join(root, 'registry.sock'),
    nodeDir: (node) => join(root, 'nodes', node),
    podDir: (pod) => join(root, 'pods', pod),
    nsmSocket: (node) => join(root, 'nodes', node, 'nsm', 'nsm.io.sock'),
    excludedPrefixesFile: (node) => join(root, 'nodes', node, 'exclude-prefixes', 'excluded_prefixes.yaml'),
    netns: (name) => parent.netns(`${cluster}-${name}`),
  };
}

/** The repository root, found from this bundle's location (dist-local/ or local/). */
export function repoRoot(): string {
  return resolve(__dirname, '..');
}

export const bundlePath = (cmd: string) => join(repoRoot(), cmd, 'dist', `${cmd}.js`);

/**
 * V8 flags every command runs with, here as in the images (each Dockerfile's ENTRYPOINT):
 *  - the young generation's semi-spaces capped at 2 MiB: left alone, V8 grows them to 16 MiB each
 *    under allocation churn, ~30 MiB of RSS for a busy nsmgr or forwarder for no gain in the figures;
 *  - --optimize-for-size: V8 favours memory over speed (smaller heap growth steps, less optimised
 *    code kept). Measured in one bench run each way (bench/local-mesh.ts, 500 live connections):
 *    nsmgr 114.6 -> 90.9 MiB, forwarder 130.5 -> 96.7 MiB; the sequential Request unchanged
 *    (27.8 / 27.9 ms), 50 clients at once 0.54 -> 0.67 s (tc).
 * Node does not take --optimize-for-size in NODE_OPTIONS, hence the command line.
 */
export const NODE_FLAGS = ['--max-semi-space-size=2', '--optimize-for-size'];

/** An image's entry point: node with NODE_FLAGS, then the bundle (the ENTRYPOINT of each command's Dockerfile). */
export const imageEntrypoint = (cmd: string) => ['node', ...NODE_FLAGS, `/bin/${cmd}.js`];

/** argv that runs command `cmd` from its bundle. */
export const commandArgv = (cmd: string) => [process.execPath, ...NODE_FLAGS, bundlePath(cmd)];
