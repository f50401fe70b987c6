// `make bench`: every benchmark in its own process, one after the other (each prints its own details);
// then one table of the figures they reported (bench/figures.ts), each next to its same-run baseline
// and the issue's target, and compared with the last recorded run. The run is recorded in
// bench/results/<date-time>.json (commit that file: the history is how a regression is seen), with
// the load average, since this machine is shared and absolute numbers move with the load.
//   node --import=./tools/register-ts.mjs bench/run.ts [part ...]   (e.g. `make bench BENCH=local`)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Figure, meets, show } from './figures';

const root = join(__dirname, '..');
const RESULTS = join(__dirname, 'results');
const only = process.argv.slice(2);
/** The benchmarks, in order: file and arguments. */
const PARTS: [string, ...string[]][] = [
  ['netlink.ts', '--no-iperf'],
  ['ovs-proto.ts'],
  ['registry.ts'],
  ['local-mesh.ts'],
  ['remote.ts'],
  ['interdomain.ts'],
  ['heal.ts'],
  ['scale.ts'],
  ['security.ts'],
  ['vpp.ts'],
];
const benches = PARTS.filter(([b]) => existsSync(join(__dirname, b)) && (only.length === 0 || only.some((o) => b.startsWith(o))));

interface Part {
  file: string;
  ok: boolean;
  seconds: number;
  load: [number, number];
}

interface Run {
  date: string;
  commit: string;
  host: { cpus: number; kernel: string; node: string };
  parts: Part[];
  figures: (Figure & { load?: number })[];
}

const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout.trim();
const load1 = () => Number(loadavg()[0].toFixed(2));

/** How much worse than last time counts as a regression, by unit: relative and absolute (noise floor). */
const TOLERANCE: Record<Figure['unit'], [number, number]> = { ms: [0.25, 2], MiB: [0.1, 5], x: [0.1, 0.05], 'Gbit/s': [0.15, 0.3], '/s': [0.25, 1] };

function compare(f: Figure, last: Figure | undefined): string {
  if (!last) return '';
  const [rel, abs] = TOLERANCE[f.unit];
  const worse = f.better === 'lower' ? f.value - last.value : last.value - f.value;
  const pct = last.value ? ((f.value - last.value) / Math.abs(last.value)) * 100 : 0;
  const flag = worse > abs && worse > rel * Math.abs(last.value) ? '  REGRESSION' : '';
  return `${show(last.value, f.unit)} (${pct >= 0 ? '+' : ''}${pct.toFixed(0)}%)${flag}`;
}

function lastRun(): { file: string; run: Run } | undefined {
  if (!existsSync(RESULTS)) return undefined;
  const files = readdirSync(RESULTS).filter((f) => f.endsWith('.json')).sort();
  for (const f of files.reverse()) {
    try {
      return { file: f, run: JSON.parse(readFileSync(join(RESULTS, f), 'utf8')) as Run };
    } catch {
      // not a run file
    }
  }
  return undefined;
}

function printTable(run: Run, previous: { file: string; run: Run } | undefined): void {
  const prev = new Map((previous?.run.figures ?? []).map((f) => [f.key, f]));
  const rows = run.figures.map((f) => {
    const ok = meets(f);
    return [f.what, show(f.value, f.unit), f.baseline ?? '', f.target === undefined ? '' : `${f.better === 'lower' ? '≤' : '≥'} ${show(f.target, f.unit)}`, ok === undefined ? '' : ok ? 'met' : 'NOT MET', f.load?.toFixed(2) ?? '', compare(f, prev.get(f.key))];
  });
  const head = ['what', 'figure', 'baseline (same run)', 'target', '', 'load', previous ? `last run (${previous.file.replace(/\.json$/, '')})` : 'last run'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const loads = run.parts.flatMap((p) => p.load);
  process.stdout.write(
    `\nnsm-ts figures, ${run.date} (commit ${run.commit}, ${run.host.cpus} CPUs, load average 1 min ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} during the run)\n\n`,
  );
  process.stdout.write(`${line(head)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${rows.map(line).join('\n')}\n`);
  const failed = run.parts.filter((p) => !p.ok).map((p) => p.file);
  if (failed.length) process.stdout.write(`\nFAILED parts (their figures are missing): ${failed.join(', ')}\n`);
}

function main(): number {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const figuresFile = join(tmpdir(), `nsm-bench-${process.pid}.jsonl`);
  rmSync(figuresFile, { force: true });
  const parts: Part[] = [];
  for (const [b, ...args] of benches) {
    process.stdout.write(`\n=== bench/${b} (load average ${load1()})\n`);
    const started = Date.now();
    const before = load1();
    const r = spawnSync(process.execPath, ['--import=./tools/register-ts.mjs', join('bench', b), ...args], { cwd: root, stdio: 'inherit', env: { ...process.env, BENCH_FIGURES: figuresFile } });
    parts.push({ file: b, ok: r.status === 0, seconds: Math.round((Date.now() - started) / 1000), load: [before, load1()] });
  }
  const figures = existsSync(figuresFile)
    ? readFileSync(figuresFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Figure)
    : [];
  rmSync(figuresFile, { force: true });
  const dirty = git('status', '--porcelain', '--untracked-files=no') ? '+changes' : '';
  const run: Run = { date, commit: `${git('rev-parse', '--short', 'HEAD')}${dirty}`, host: { cpus: cpus().length, kernel: release(), node: process.version }, parts, figures };
  const previous = lastRun();
  printTable(run, previous);
  if (figures.length) {
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, `${date.replace(/:/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(run, null, 1)}\n`);
    process.stdout.write(`\nrecorded in ${file.slice(root.length + 1)}${previous ? `; compared with ${previous.file}` : ' (the first recorded run)'}\n`);
  }
  return parts.some((p) => !p.ok) ? 1 : 0;
}

process.exit(main());
