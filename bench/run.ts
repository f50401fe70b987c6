// `make bench`: every benchmark in its own process, one after the other, each printing its table.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const only = process.argv.slice(2);
const benches = ['registry.ts', 'local-mesh.ts', 'remote.ts', 'heal.ts', 'vpp.ts'].filter((b) => existsSync(join(__dirname, b)) && (only.length === 0 || only.some((o) => b.startsWith(o))));
let failed = 0;
for (const b of benches) {
  process.stdout.write(`\n=== bench/${b}\n`);
  const r = spawnSync(process.execPath, ['--import=./tools/register-ts.mjs', join('bench', b)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
