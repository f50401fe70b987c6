// Small helpers for benchmarks: percentiles, a printed table, and how a benchmark process ends.
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const median = (v: number[]) => percentile(v, 50);

export function table(title: string, rows: [string, string][]): void {
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\n${title}\n${'-'.repeat(title.length)}\n`);
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`);
}

export const ms = (v: number) => `${v.toFixed(1)} ms`;

/** Runs a benchmark's main and exits: 0 when it finished, 1 with the error printed when it threw. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
