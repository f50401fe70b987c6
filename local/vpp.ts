// A node's VPP in the local runtime: VPP 25.02 from the runtime beside the repository
// (../shared/vpp/runtime, or NSM_VPP_RUNTIME), supervised as a node service of its own (vpp-node.sh)
// so that it and the forwarder can be restarted separately. Small: one main thread (nodes take the
// CPUs in turn), a 128 MB heap, 16384 buffers on 4k pages (no hugepages here; a memif slave fills
// both its rings with its own buffers, 2048 per memif), and only the plugins a
// forwarder uses. A pod may have one too, as its app (a memif peer, like upstream's cmd-nsc-vpp). No
// ping plugin on nodes: VPP holds a copy of the node's address and would answer pings to
// the node a second time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { vppStartupConf, vppSockets } from '@nsm/sdk-vpp';
import { vppRuntimeBinaries, vppRuntimeDir, vppRuntimeMissing, type VppBinaries } from '@nsm/sdk-vpp/runtime';
import { repoRoot } from './paths';

export const NODE_VPP_PLUGINS = ['af_packet', 'vxlan', 'wireguard', 'memif'];
/** A pod's app VPP (a memif peer): memif, and ping to show it reaches the far end. */
export const POD_VPP_PLUGINS = ['memif', 'ping'];

/** The runtime's binaries, or an error saying why VPP nodes cannot run here. */
export async function nodeVppBinaries(): Promise<VppBinaries> {
  const dir = vppRuntimeDir(repoRoot());
  const missing = vppRuntimeMissing(dir);
  if (missing) throw new Error(`VPP nodes need the VPP runtime: ${missing}`);
  return vppRuntimeBinaries(dir);
}

export interface NodeVpp {
  bin: string;
  runDir: string;
  apiSocket: string;
  cliSocket: string;
  /** What the supervisor runs. */
  argv: string[];
}

/** Writes the startup.conf of a VPP in `dir`/vpp (a node's or a pod's); `index` spreads main threads
 *  over the CPUs. */
export async function prepareVpp(dir: string, index: number, plugins = NODE_VPP_PLUGINS): Promise<NodeVpp> {
  const { vpp } = await nodeVppBinaries();
  const runDir = join(dir, 'vpp');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'startup.conf'), vppStartupConf({ runDir, mainCore: index % Math.max(1, cpus().length), heap: '128M', buffers: 16384, hugepages: false, plugins }));
  const s = vppSockets(runDir);
  return { bin: vpp, runDir, apiSocket: s.api, cliSocket: s.cli, argv: ['bash', join(repoRoot(), 'local', 'vpp-node.sh'), runDir, vpp] };
}
