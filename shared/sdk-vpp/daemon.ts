// VPP as a child process, the way upstream's forwarder runs it when no API socket is given
// (dataplane.md §11.1): a startup.conf in a run directory (nodaemon, CLI and binary-API sockets
// there, API trace on, DPDK off), `vpp -c` on it, and a wait until the API socket answers. If VPP
// exits, the owner hears it ('exit') and decides; upstream's forwarder exits with it. The same
// configuration serves the local runtime, which supervises VPP as a node service of its own.
//
// Sizes are upstream's unless given (32768 buffers of 3776 bytes per NUMA node, VPP's default heap),
// on hugepages when the host has free ones and on 4k pages otherwise (there with VPP's default
// buffer size). Several instances may run on
// one host: each run directory gets its own shared-memory prefix.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VppConnection } from './connection';

export interface VppConfigOptions {
  /** Where the sockets, the log and the generated startup.conf go (unix socket paths: keep it short). */
  runDir: string;
  /** CPU of VPP's main thread; VPP's choice when unset. */
  mainCore?: number;
  /** Main heap size, e.g. "256M"; VPP's default when unset. */
  heap?: string;
  /** Buffers per NUMA node (upstream: 32768). */
  buffers?: number;
  /** Hugepages for the heap and buffers; default: when /proc/meminfo shows free ones. */
  hugepages?: boolean;
  /** Plugins to load (names without _plugin.so); unset: VPP's default set, DPDK off (upstream). */
  plugins?: string[];
}

/** The sockets of the VPP whose run directory is `runDir`. */
export const vppSockets = (runDir: string) => ({ api: join(runDir, 'api.sock'), cli: join(runDir, 'cli.sock'), log: join(runDir, 'vpp.log') });

export function freeHugepages(): number {
  try {
    return Number(/^HugePages_Free:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const PLUGIN = /^[a-z0-9_]{1,64}$/;
const SIZE = /^\d{1,6}[KMG]?$/;

/** startup.conf text for `o` (validated: the values end up in a file VPP parses). */
export function vppStartupConf(o: VppConfigOptions): string {
  const run = resolve(o.runDir);
  if (!/^[\w./-]+$/.test(run) || run.length > 90) throw new Error(`VPP run directory ${run}: use a short path of letters, digits, ".", "_", "-" and "/" (unix socket paths are short)`);
  if (o.heap !== undefined && !SIZE.test(o.heap)) throw new Error(`VPP heap "${o.heap}" is not a size like 256M`);
  if (o.buffers !== undefined && !(Number.isInteger(o.buffers) && o.buffers >= 1024 && o.buffers <= 1 << 20)) throw new Error(`VPP buffers ${o.buffers} is not between 1024 and 1048576`);
  if (o.mainCore !== undefined && !(Number.isInteger(o.mainCore) && o.mainCore >= 0 && o.mainCore < 4096)) throw new Error(`VPP main core ${o.mainCore} is not a CPU number`);
  for (const p of o.plugins ?? []) if (!PLUGIN.test(p)) throw new Error(`VPP plugin name "${p}" is not a plugin name`);
  const page = (o.hugepages ?? freeHugepages() > 0) ? 'default-hugepage' : '4k';
  const s = vppSockets(run);
  const prefix = `nsm-${createHash('sha256').update(run).digest('hex').slice(0, 12)}`;
  const plugins = o.plugins
    ? ['  plugin default { disable }', ...o.plugins.map((p) => `  plugin ${p}_plugin.so { enable }`)]
    : ['  plugin dpdk_plugin.so { disable }'];
  return [
    'unix {',
    '  nodaemon',
    `  log ${s.log}`,
    '  full-coredump',
    `  cli-listen ${s.cli}`,
    `  runtime-dir ${run}`,
    // Sleep when idle instead of spinning: the main thread does the packet work here, no workers.
    '  poll-sleep-usec 100',
    '}',
    'api-trace { on }',
    `api-segment { prefix ${prefix} }`,
    `socksvr { socket-name ${s.api} }`,
    `statseg { socket-name ${join(run, 'stats.sock')} size 32M page-size ${page === '4k' ? '4k' : 'default-hugepage'} }`,
    ...(o.mainCore !== undefined ? [`cpu { main-core ${o.mainCore} }`] : []),
    `memory { ${o.heap ? `main-heap-size ${o.heap} ` : ''}main-heap-page-size ${page} }`,
    // Upstream's 3776-byte buffers only on hugepages: on 4k pages VPP then made 260 buffers in all.
    `buffers { buffers-per-numa ${o.buffers ?? 32768}${page === '4k' ? '' : ' default data-size 3776'} page-size ${page} }`,
    'plugins {',
    ...plugins,
    '}',
    '',
  ].join('\n');
}

export interface VppProcessOptions extends VppConfigOptions {
  /** The vpp binary (a path, or a name on PATH). */
  bin: string;
  /** An existing startup.conf to use instead of generating one; its sockets must be runDir's. */
  config?: string;
  /** Bound on VPP answering on its API socket. */
  timeoutMs?: number;
}

/** A VPP this process started. 'exit' (code, signal) when it ends. */
export class VppProcess extends EventEmitter {
  private exited = false;
  private constructor(
    readonly child: ChildProcess,
    readonly runDir: string,
    readonly configPath: string,
  ) {
    super();
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.emit('exit', code, signal);
    });
  }

  get apiSocket(): string {
    return vppSockets(this.runDir).api;
  }

  get cliSocket(): string {
    return vppSockets(this.runDir).cli;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(o: VppProcessOptions): Promise<VppProcess> {
    const runDir = resolve(o.runDir);
    mkdirSync(runDir, { recursive: true });
    let configPath = o.config;
    if (!configPath) {
      configPath = join(runDir, 'startup.conf');
      writeFileSync(configPath, vppStartupConf({ ...o, runDir }));
    }
    const out = openSync(join(runDir, 'stdout.log'), 'a');
    const child = spawn(o.bin, ['-c', configPath], { stdio: ['ignore', out, out] });
    closeSync(out);
    const vpp = new VppProcess(child, runDir, configPath);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start VPP (${o.bin}): ${err.message}`)));
      child.once('exit', (code, signal) => reject(new Error(`VPP exited while starting (code ${code}, signal ${signal}); see ${join(runDir, 'stdout.log')}: ${tail(join(runDir, 'stdout.log'))}`)));
    });
    const abort = new AbortController();
    try {
      await Promise.race([waitForApi(vpp.apiSocket, o.timeoutMs ?? 30_000, abort.signal), failed]);
    } catch (err) {
      await vpp.stop();
      throw err;
    } finally {
      abort.abort();
      failed.catch(() => undefined);
    }
    return vpp;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited || this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(t);
  }
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join(' | ');
  } catch {
    return '(no output)';
  }
}

/** Waits until VPP answers on `socket` (a handshake, then disconnect), up to `timeoutMs`. */
export async function waitForApi(socket: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new Error(`stopped waiting for VPP on ${socket}`);
    if (existsSync(socket)) {
      try {
        const c = await VppConnection.connect(socket, { name: 'nsm-probe', timeoutMs: Math.max(500, Math.min(5000, deadline - Date.now())) });
        await c.close();
        return;
      } catch (err) {
        last = String(err);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`VPP did not answer on ${socket} within ${timeoutMs} ms${last ? ` (${last})` : ''}`);
}
