// Figures a benchmark reports to bench/run.ts, which puts them in one table, records them in
// bench/results/ and compares them with the last recorded run. A benchmark run on its own (without
// run.ts) still prints its own table; record() then does nothing.
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export interface Figure {
  /** Stable name across runs, e.g. "local.tc.reply.seq.median": what comparisons match on. */
  key: string;
  /** What it is, as the table shows it. */
  what: string;
  value: number;
  unit: 'ms' | 'MiB' | 'x' | 'Gbit/s' | '/s';
  /** Lower is better (latency, memory) or higher (throughput, ratios). */
  better: 'lower' | 'higher';
  /** What it is read against, measured in the same run ("plain veth pair 21.3 Gbit/s"). */
  baseline?: string;
  /** The target: at most (better lower) or at least (better higher) this. */
  target?: number;
  /** Load average (1 min) when the figure was taken. */
  load?: number;
}

/** Hands figures to bench/run.ts (BENCH_FIGURES names its file); each gets the load average of now. */
export function record(...figures: Figure[]): void {
  const file = process.env.BENCH_FIGURES;
  if (!file) return;
  const load = Number(loadavg()[0].toFixed(2));
  appendFileSync(file, figures.map((f) => JSON.stringify({ load, ...f })).join('\n') + '\n');
}

/** Whether a figure meets its target (undefined without one). */
export function meets(f: Figure): boolean | undefined {
  if (f.target === undefined) return undefined;
  return f.better === 'lower' ? f.value <= f.target : f.value >= f.target;
}

/** The figure as text in its unit. */
export function show(value: number, unit: Figure['unit']): string {
  switch (unit) {
    case 'ms':
      return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
    case 'MiB':
      return `${value.toFixed(1)} MiB`;
    case 'x':
      return `${value.toFixed(3)}×`;
    case 'Gbit/s':
      return `${value.toFixed(2)} Gbit/s`;
    case '/s':
      return `${value.toFixed(1)}/s`;
  }
}
