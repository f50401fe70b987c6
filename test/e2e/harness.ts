// A local mesh for end-to-end tests, plus the checks they share: commands in namespaces, leftovers.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NODE_UPLINK } from '../../local/host';
import { LocalMesh } from '../../local/mesh';
import { meshPaths } from '../../local/paths';
import { execArgv } from '../../local/supervisor';
import type { PodSpec, Topology } from '../../local/topology';

export const root = resolve(__dirname, '../..');

/** Why these tests cannot run here, or undefined when they can. */
export function e2eUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const f of ['cmd-nsmgr', 'cmd-forwarder-ovs', 'cmd-nsc', 'cmd-nse-icmp-responder', 'cmd-registry-k8s']) {
    if (!existsSync(join(root, f, 'dist', `${f}.js`))) return `bundle ${f} missing (run make build)`;
  }
  try {
    execFileSync('sh', ['-c', 'command -v ovs-vswitchd && command -v iperf3']);
  } catch {
    return 'Open vSwitch or iperf3 missing (run make host-deps)';
  }
  return undefined;
}

export function inNs(ns: string, argv: string[], opts: { allowFail?: boolean } = {}): string {
  try {
    return execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (opts.allowFail) return String((err as { stdout?: string }).stdout ?? '');
    throw err;
  }
}

/** What a timed-out wait adds to its error: the tails of the running mesh's logs (they go with it). */
let diagnostics: (() => string) | undefined;

function logTails(dir: string, lines = 12): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`)
    .join('\n');
}

export async function eventually<T>(what: string, fn: () => T | Promise<T>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== false && v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}${diagnostics ? `\n${diagnostics()}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export class TestMesh {
  readonly mesh: LocalMesh;
  readonly paths;

  constructor(name: string) {
    this.paths = meshPaths(name);
    diagnostics = () => logTails(this.paths.logs);
    this.mesh = new LocalMesh(this.paths, () => undefined);
  }

  ns(name: string): string {
    return this.paths.netns(name);
  }

  async up(t: Partial<Topology> = { nodes: [{ name: 'node1', forwarder: 'ovs', env: {} }] }): Promise<void> {
    await this.mesh.apply(t);
  }

  pods(...pods: PodSpec[]): Promise<void> {
    return this.mesh.apply({ pods });
  }

  ovsFlows(node = 'node1'): string[] {
    return inNs(this.ns(node), ['ovs-ofctl', 'dump-flows', `unix:${this.paths.nodeDir(node)}/ovs/br-nsm.mgmt`])
      .split('\n')
      .filter((l) => l.includes('cookie='));
  }

  /** The bridge's connection ports (the node's VLAN uplink, a port for the forwarder's lifetime, aside). */
  ovsPorts(node = 'node1'): string[] {
    return inNs(this.ns(node), ['ovs-vsctl', `--db=unix:${this.paths.nodeDir(node)}/ovs/db.sock`, 'list-ports', 'br-nsm'])
      .split('\n')
      .filter((p) => p && p !== NODE_UPLINK);
  }

  /** Runs `argv` in every namespace of pod `pod` (as `nsm-local exec` does). */
  inPod(pod: string, argv: string[], opts: { allowFail?: boolean } = {}): string {
    const [bin, ...args] = execArgv(this.ns(pod), this.mesh.supervisor.status().find((p) => p.name === pod), argv);
    try {
      return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      if (opts.allowFail) return String((err as { stdout?: string }).stdout ?? '');
      throw err;
    }
  }

  links(ns: string): string[] {
    return inNs(this.ns(ns), ['ip', '-br', 'link'])
      .split('\n')
      .map((l) => l.split(/\s+/)[0].split('@')[0])
      .filter((n) => n && n !== 'lo');
  }

  /**
   * Interfaces, ports and flows NSM made on a node (the node's eth0, OVS's own devices and the
   * forwarder's idle WireGuard devices, nsmwp…, aside), and tc qdiscs left on what remains.
   */
  nsmLeftovers(node = 'node1'): string[] {
    const links = this.links(node).filter((l) => !['eth0', NODE_UPLINK, 'ovs-netdev', 'br-nsm'].includes(l) && !l.startsWith('nsmwp'));
    const qdiscs = inNs(this.ns(node), ['tc', 'qdisc', 'show'])
      .split('\n')
      .filter((q) => q.includes('clsact'));
    return [...links.map((l) => `link ${l}`), ...qdiscs.map((q) => `qdisc ${q}`), ...this.ovsPorts(node).map((p) => `port ${p}`), ...this.ovsFlows(node).map((f) => `flow ${f.trim()}`)];
  }

  async down(): Promise<void> {
    await this.mesh.down();
  }
}

export const nse = (name: string, env: Record<string, string>, node = 'node1'): PodSpec => ({ name, node, command: 'nse-icmp-responder', env });
export const nsc = (name: string, env: Record<string, string>, node = 'node1'): PodSpec => ({ name, node, command: 'nsc', env });
