// A node's VPP in the local runtime: VPP 25.02 from the runtime beside the repository
// (../shared/vpp/runtime, or NSM_VPP_RUNTIME), supervised as a node service of its own (vpp-node.sh)
// so that it and the forwarder can be restarted separately. Small: one main thread (nodes take the
// CPUs in turn), a 128 MB heap, 4096 buffers on 4k pages (no hugepages here), and only the plugins a
// forwarder uses. No ping plugin: VPP holds a copy of the node's address and would answer pings to
// the node a second time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { vppStartupConf, vppSockets } from '@nsm/sdk-vpp';
import { vppRuntimeBinaries, vppRuntimeDir, vppRuntimeMissing, type VppBinaries } from '@nsm/sdk-vpp/runtime';
import { repoRoot } from './paths';

export const NODE_VPP_PLUGINS = ['af_packet', 'vxlan', 'wireguard', 'memif'];

/** The runtime's binaries, or an error saying why VPP nodes cannot run here. */
export async function nodeVppBinaries(): Promise<VppBinaries> {
  const dir = vppRuntimeDir(repoRoot());
  const missing = vppRuntimeMissing(dir);
  if (missing) throw new Error(`VPP nodes need the VPP runtime: ${missing}`);
  return vppRuntimeBinaries(dir);
}

export interface NodeVpp {
  runDir: string;
  apiSocket: string;
  cliSocket: string;
  /** What the supervisor runs. */
  argv: string[];
}

/** Writes the node's startup.conf; `index` spreads main threads over the CPUs. */
export async function prepareNodeVpp(nodeDir: string, index: number): Promise<NodeVpp> {
  const { vpp } = await nodeVppBinaries();
  const runDir = join(nodeDir, 'vpp');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'startup.conf'), vppStartupConf({ runDir, mainCore: index % Math.max(1, cpus().length), heap: '128M', buffers: 4096, hugepages: false, plugins: NODE_VPP_PLUGINS }));
  const s = vppSockets(runDir);
  return { runDir, apiSocket: s.api, cliSocket: s.cli, argv: ['bash', join(repoRoot(), 'local', 'vpp-node.sh'), runDir, vpp] };
}
