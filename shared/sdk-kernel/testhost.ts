// Helpers for tests that change the real host: throw-away named namespaces that are always removed,
// and installing the host tools on first use. Not used by production code.
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { exec } from './exec';
import { inNetnsArgv, Netns, netnsByName } from './netns';

export const isRoot = (): boolean => process.getuid?.() === 0;

const TOOLS = ['ip', 'ethtool', 'nsenter', 'ovs-vsctl', 'ovs-ofctl', 'ovs-vswitchd', 'ovsdb-server', 'ovsdb-tool', 'iperf3', 'ping'];

/** Runs tools/install-host-deps.sh when any tool is missing (it is itself idempotent and cheap when all are there). */
export async function ensureHostDeps(): Promise<void> {
  const missing: string[] = [];
  for (const t of TOOLS) {
    try {
      await exec(['which', t], { env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
    } catch {
      missing.push(t);
    }
  }
  if (missing.length === 0) return;
  const script = resolve(__dirname, '../../tools/install-host-deps.sh');
  await exec(['bash', script], { timeoutMs: 600_000 });
}

/** Named namespaces with a per-run unique prefix, so concurrent test runs on one host never collide. */
export class TestNetnsSet {
  readonly prefix = `nsmt${randomBytes(3).toString('hex')}`;
  private readonly made = new Set<string>();

  /** Creates `<prefix>-<suffix>`, with lo up. */
  async add(suffix: string): Promise<Netns> {
    const name = `${this.prefix}-${suffix}`;
    await exec(['ip', 'netns', 'add', name]);
    this.made.add(name);
    await exec(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return netnsByName(name);
  }

  /** Deletes every namespace made here (and with them every link inside); never throws. */
  async cleanup(): Promise<void> {
    for (const name of this.made) {
      await exec(['ip', 'netns', 'del', name]).catch(() => undefined);
      this.made.delete(name);
    }
  }
}

/** Starts tcpdump (-e -nn) in `ns`; resolves with its output once it exits (after `count` packets or the timeout). */
export function captureInNetns(ns: Netns, dev: string, filter: string, count: number, timeoutSec = 8): { done: Promise<string>; proc: ChildProcess } {
  const [cmd, ...args] = inNetnsArgv(ns, ['timeout', String(timeoutSec), 'tcpdump', '-e', '-nn', '-l', '-i', dev, '-c', String(count), filter]);
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  return { proc, done: new Promise((r) => proc.on('exit', () => r(out))) };
}
