// Real VPP 25.02 instances for tests, from the runtime kept beside the repository
// (../shared/vpp/runtime: a VPP tarball with start-vpp.sh / stop-vpp.sh). One instance per simulated
// node, each inside that node's network namespace, started per suite and stopped after it. Where the
// runtime (or root) is missing, suites say why on the console and skip: a machine without VPP cannot
// prove anything about VPP, and must not pretend to.
//
// start-vpp.sh needs root, unpacks the tarball once into VPP_CACHE_DIR (default /tmp/vpp-runtime-cache)
// and apt-installs the few runtime packages VPP links against when missing (libssl3 libunwind8
// liblzma5 xz-utils iproute2; see the runtime's NOTICE).
import { cpus } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exec } from '@nsm/sdk-kernel/exec';
import type { Netns } from '@nsm/sdk-kernel/netns';
import { VppApi } from '../api';
import { VppConnection } from '../connection';
import { vppRuntimeBinaries, vppRuntimeDir as runtimeDirOf, vppRuntimeMissing } from '../runtime';

/** Where the runtime is: NSM_VPP_RUNTIME, else ../shared/vpp/runtime next to the repository root. */
export const vppRuntimeDir = (): string => runtimeDirOf(resolve(__dirname, '../../..'));

/** Why real-VPP tests cannot run here, or undefined when they can. */
export const realVppUnavailable = (): string | undefined => vppRuntimeMissing(vppRuntimeDir());

/** The runtime's vpp and vppctl (unpacked on first use). */
export const vppBinaries = () => vppRuntimeBinaries(vppRuntimeDir());

/** describe() when a real VPP can run here; otherwise describe.skip() and a console line naming what is missing. */
export function describeWithVpp(name: string, fn: () => void): void {
  const why = realVppUnavailable();
  if (why) {
    console.warn(`[real VPP] "${name}" skipped: ${why}`);
    describe.skip(name, fn);
  } else {
    describe(name, fn);
  }
}

export interface VppInstanceOptions {
  /** Short name, used for the run directory. */
  name: string;
  /** The simulated node's namespace; VPP's af_packet interfaces see the links there. */
  netns?: Netns;
  /** CPU for VPP's main thread; default: instances take CPUs in turn. */
  mainCore?: number;
  /** Main heap (default 128M) and buffers per NUMA node (default 4096): small, tests move little. */
  heap?: string;
  buffers?: number;
}

let started = 0;

/** One running VPP, its binary-API connection and its CLI. */
export class VppInstance {
  private constructor(
    readonly name: string,
    readonly runDir: string,
    readonly apiSocket: string,
    readonly cliSocket: string,
    private readonly vppctl: string,
    readonly conn: VppConnection,
    readonly api: VppApi,
    private readonly tmp: string,
  ) {}

  /** Starts VPP with start-vpp.sh and connects to its API socket. */
  static async start(o: VppInstanceOptions): Promise<VppInstance> {
    const dir = vppRuntimeDir();
    // Unix socket paths are short (start-vpp.sh allows 96 chars): a fresh directory right under /tmp.
    const tmp = mkdtempSync('/tmp/nsmvpp-');
    const runDir = join(tmp, o.name);
    const core = o.mainCore ?? started++ % Math.max(1, cpus().length);
    const args = ['bash', join(dir, 'start-vpp.sh'), runDir, ...(o.netns?.name ? [o.netns.name] : [])];
    if (o.netns && !o.netns.name) throw new Error('VppInstance: the node namespace must be a named one (ip netns)');
    let out;
    try {
      out = await exec(args, { timeoutMs: 600_000, env: { VPP_MAIN_CORE: String(core), VPP_HEAP: o.heap ?? '128M', VPP_BUFFERS: String(o.buffers ?? 4096) } });
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    const apiSocket = out.stdout.trim().split('\n').pop()!;
    const m = /CLI: (\S+) -s (\S+)/.exec(out.stderr);
    if (!m) throw new Error(`start-vpp.sh did not print the CLI path: ${out.stderr}`);
    let conn: VppConnection;
    try {
      conn = await VppConnection.connect(apiSocket, { name: `test-${o.name}`, timeoutMs: 10_000 });
    } catch (err) {
      await exec(['bash', join(dir, 'stop-vpp.sh'), runDir]).catch(() => undefined);
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    return new VppInstance(o.name, runDir, apiSocket, m[2], m[1], conn, new VppApi(conn), tmp);
  }

  /** Runs one CLI command (vppctl) and returns its output. */
  async cli(...words: string[]): Promise<string> {
    return (await exec([this.vppctl, '-s', this.cliSocket, ...words], { timeoutMs: 20_000 })).stdout;
  }

  /** A second API connection (what a forwarder under test uses), closed by the caller. */
  connect(name = 'forwarder'): Promise<VppConnection> {
    return VppConnection.connect(this.apiSocket, { name, timeoutMs: 10_000 });
  }

  /** Disconnects and stops exactly this instance; never throws. */
  async stop(): Promise<void> {
    await this.conn.close().catch(() => undefined);
    await exec(['bash', join(vppRuntimeDir(), 'stop-vpp.sh'), this.runDir], { timeoutMs: 30_000 }).catch((err) => console.warn(`stop-vpp.sh ${this.runDir}: ${String(err)}`));
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
