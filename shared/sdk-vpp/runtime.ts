// Finding a VPP to run on a machine without VPP packages: the runtime kept beside the repository
// (../shared/vpp/runtime, or NSM_VPP_RUNTIME): a VPP 25.02 tarball with start-vpp.sh/stop-vpp.sh,
// which unpack it once into a cache (VPP_CACHE_DIR, default /tmp/vpp-runtime-cache/<sha256 prefix of
// the tarball>/vpp-v25.02) and install the few Debian libraries it needs. The local runtime and the
// tests run `vpp` and `vppctl` from that cache; a fresh machine gets it unpacked by one start and
// stop of start-vpp.sh. Production images carry VPP packages instead (cmd-forwarder-vpp/Dockerfile).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exec } from '@nsm/sdk-kernel';

export const RUNTIME_TARBALL = 'vpp-v25.02-x86_64.tar.xz';

/** The runtime folder: NSM_VPP_RUNTIME, else ../shared/vpp/runtime beside `repoRoot`. */
export function vppRuntimeDir(repoRoot: string): string {
  return process.env.NSM_VPP_RUNTIME ?? resolve(repoRoot, '../shared/vpp/runtime');
}

/** Why the runtime cannot run here, or undefined when it can. */
export function vppRuntimeMissing(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (VPP, network namespaces)';
  for (const f of ['start-vpp.sh', 'stop-vpp.sh', RUNTIME_TARBALL]) {
    if (!existsSync(join(dir, f))) return `no VPP runtime: ${join(dir, f)} is missing (set NSM_VPP_RUNTIME to the runtime folder)`;
  }
  if (process.arch !== 'x64') return `the VPP runtime is x86_64 only (this is ${process.arch})`;
  return undefined;
}

export interface VppBinaries {
  vpp: string;
  vppctl: string;
}

const cached = new Map<string, VppBinaries>();

/** `vpp` and `vppctl` of the runtime in `dir`, unpacking it first (one start and stop) when needed. */
export async function vppRuntimeBinaries(dir: string): Promise<VppBinaries> {
  const hit = cached.get(dir);
  if (hit) return hit;
  const key = createHash('sha256').update(readFileSync(join(dir, RUNTIME_TARBALL))).digest('hex').slice(0, 16);
  const root = join(process.env.VPP_CACHE_DIR ?? '/tmp/vpp-runtime-cache', key, 'vpp-v25.02');
  const bins = { vpp: join(root, 'bin', 'vpp'), vppctl: join(root, 'bin', 'vppctl') };
  if (!existsSync(bins.vpp)) {
    const run = mkdtempSync('/tmp/nsmvpp-unpack-');
    try {
      await exec(['bash', join(dir, 'start-vpp.sh'), run], { timeoutMs: 600_000 });
      await exec(['bash', join(dir, 'stop-vpp.sh'), run], { timeoutMs: 30_000 });
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
    if (!existsSync(bins.vpp)) throw new Error(`start-vpp.sh did not unpack VPP to ${root}`);
  }
  cached.set(dir, bins);
  return bins;
}
