// Where a Request's time goes: a one-node mesh whose registry, nsmgr, forwarder and endpoint run
// with V8's CPU profiler (bench/cpuprof.js, on only while N sequential Requests and Closes from a
// client in its own namespace run), then per process the CPU time per connection and the functions
// that took most of it (self time). Not part of `make bench`; run it when the figures move:
//   node --import=./tools/register-ts.mjs bench/profile.ts [n]
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, Mechanism } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import { Context } from '@nsm/sdk/core/context';
import { handler } from '@nsm/sdk/core/networkservice';
import { createNetns } from '../local/host';
import { LocalMesh } from '../local/mesh';
import { meshPaths } from '../local/paths';
import { median, runMain } from './stats';

const N = Number(process.argv[2] ?? 50);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

// Bundled frames are shown at their source (the bundle's source map), e.g. shared/sdk/elements/x.ts:12.
const maps = new Map<string, SourceMap | undefined>();
function sourceOf(url: string, line: number, column: number): string | undefined {
  if (!url.endsWith('.js') || !url.includes('/dist/')) return undefined;
  const file = url.replace(/^file:\/\//, '');
  if (!maps.has(file)) maps.set(file, existsSync(`${file}.map`) ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))) : undefined);
  const e = maps.get(file)?.findEntry(line, column) as { originalSource?: string; originalLine?: number } | undefined;
  return e?.originalSource ? `${e.originalSource.replace(/^.*?\/(node_modules|shared|cmd-[^/]+)\//, '$1/')}:${(e.originalLine ?? 0) + 1}` : undefined;
}

const label = (n: ProfileNode) => {
  const fn = n.callFrame.functionName || '(anonymous)';
  if (!n.callFrame.url) return fn;
  const src = sourceOf(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.columnNumber ?? 0);
  return `${fn} ${src ?? `${n.callFrame.url.replace(/^.*\/(node_modules|shared|cmd-[^/]+|dist)\//, '$1/')}:${n.callFrame.lineNumber + 1}`}`;
};

/** Self time by function, and inclusive time (each function once per sample's stack), per connection. */
function summarize(file: string, perConnection: number): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byNode = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    const n = byNode.get(id)!;
    if (['(idle)', '(program)'].includes(n.callFrame.functionName)) return;
    busy += us;
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const l = label(byNode.get(x)!);
      if (!seen.has(l)) incl.set(l, (incl.get(l) ?? 0) + us);
      seen.add(l);
    }
  });
  const fmt = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .filter(([l]) => l !== '(root)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([w, us]) => `    ${(us / 1000 / perConnection).toFixed(3).padStart(7)} ms  ${w}`);
  // BENCH_PROFILE_WHO=<function name>: the call stacks that reach it, heaviest first.
  const who = process.env.BENCH_PROFILE_WHO;
  const stacks = new Map<string, number>();
  if (who) {
    p.samples.forEach((id, i) => {
      const chain: string[] = [];
      let hit = false;
      for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
        const n = byNode.get(x)!;
        if (n.callFrame.functionName === who) hit = true;
        if (hit) chain.push(label(n));
      }
      if (hit) stacks.set(chain.slice(0, 14).join(' < '), (stacks.get(chain.slice(0, 14).join(' < ')) ?? 0) + (p.timeDeltas[i] ?? 0));
    });
  }
  const whoLines = [...stacks.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([st, us]) => `    ${(us / 1000 / perConnection).toFixed(3)} ms  ${st}`);
  return [`  profiled ${(busy / 1000 / perConnection).toFixed(2)} ms per connection (sample time, wall clock)`, '  self:', ...fmt(self, 15), '  inclusive:', ...fmt(incl, Number(process.env.BENCH_PROFILE_TOP ?? 40)), ...(who ? [`  stacks reaching ${who}:`, ...whoLines] : [])].join('\n');
}

async function main() {
  const paths = meshPaths('prof');
  const mesh = new LocalMesh(paths, () => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'nsm-prof-'));
  const prof = (name: string) => ({ NODE_OPTIONS: `--require ${join(__dirname, 'cpuprof.js')}`, NSM_CPU_PROFILE: join(dir, name) });
  await mesh.down().catch(() => undefined);
  try {
    await mesh.apply({
      nodes: [{ name: 'node1', forwarder: 'ovs', env: {} }],
      nsmgrEnv: prof('nsmgr'),
      forwarderEnv: prof('forwarder'),
      registryEnv: prof('registry'),
      pods: [{ name: 'nse', node: 'node1', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'prof', NSM_CIDR_PREFIX: '172.20.0.0/16', ...prof('nse') } }],
    });
    const ns = paths.netns('client');
    await createNetns(ns);
    const me = await mesh.workload('prof-client');
    const nsc = handler(client({ name: 'prof', url: `unix://${paths.nsmSocket('node1')}`, tokens: me.tokens, source: me.source, refresh: false }));
    let n = 0;
    const req = () => ({
      connection: Connection.fromPartial({ id: `prof-${++n}`, networkService: 'prof' }),
      mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: `file:///var/run/netns/${ns}`, name: 'nsm-1' } })],
    });
    for (let i = 0; ; i++) {
      try {
        await nsc.close(Context.background(), await nsc.request(Context.background(), req()));
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const pids = ['registry', 'nsmgr-node1', 'forwarder-node1', 'nse'].map((name) => mesh.status().processes.find((p) => p.name === name)?.pid);
    // BENCH_PROFILE=0: only the kernel's accounting, without the profiler's own cost.
    const toggle = () => process.env.BENCH_PROFILE !== '0' && pids.forEach((pid) => pid && process.kill(pid, 'SIGUSR2'));
    // CPU time the kernel accounted (utime + stime, in clock ticks of 10 ms): the profile's sample
    // deltas are wall time, which on a loaded machine includes time spent waiting for a CPU.
    const ticks = () =>
      pids.map((pid) => {
        if (!pid) return [0, 0];
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return [Number(f[11]), Number(f[12])];
      });
    const idle0 = ticks();
    await new Promise((r) => setTimeout(r, 5000));
    const idle = ticks().map((t, i) => t.map((v, k) => (v - idle0[i][k]) * 2));
    process.stdout.write(`CPU per second idle (user + system): ${['registry', 'nsmgr', 'forwarder', 'nse'].map((n, i) => `${n} ${idle[i][0].toFixed(1)} + ${idle[i][1].toFixed(1)} ms`).join(', ')}\n`);
    const ticks0 = ticks();
    toggle();
    await new Promise((r) => setTimeout(r, 200));
    const requests: number[] = [];
    const closes: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const c = await nsc.request(Context.background(), req());
      const t1 = performance.now();
      await nsc.close(Context.background(), c);
      requests.push(t1 - t0);
      closes.push(performance.now() - t1);
    }
    toggle();
    const used = ticks().map((t, i) => t.map((v, k) => ((v - ticks0[i][k]) * 10) / N));
    await new Promise((r) => setTimeout(r, 500));
    process.stdout.write(`${N} sequential: Request median ${median(requests).toFixed(1)} ms, Close median ${median(closes).toFixed(1)} ms\n`);
    process.stdout.write(`CPU per connection (kernel accounting, user + system): ${['registry', 'nsmgr', 'forwarder', 'nse'].map((n, i) => `${n} ${used[i][0].toFixed(1)} + ${used[i][1].toFixed(1)} ms`).join(', ')}\n`);
  } finally {
    await mesh.down();
  }
  for (const name of ['registry', 'nsmgr', 'forwarder', 'nse']) {
    const files = readdirSync(dir).filter((f) => f.startsWith(`${name}.`) && f.endsWith('.cpuprofile'));
    // One file per process; a restart would make two (the last is the one that served the requests).
    if (files.length) process.stdout.write(`\n${name}\n${summarize(join(dir, files.sort().pop()!), N)}\n`);
  }
  rmSync(dir, { recursive: true, force: true });
}

runMain(main);
