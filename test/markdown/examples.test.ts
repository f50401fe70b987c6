// Every example under examples/ that is not only a set-up becomes a test: the set-ups it requires run
// first in the same shell, then its Run steps; Cleanup steps always run, its own first.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { vppRuntimeDir, vppRuntimeMissing } from '@nsm/sdk-vpp/runtime';
import { findExamples, setupOrder, Example } from './parse';
import { Shell } from './shell';

const root = resolve(__dirname, '../..');
const examples = findExamples(join(root, 'examples'));
const STEP_BUDGET_MS = Number(process.env.NSM_EXAMPLE_STEP_BUDGET_MS ?? 60_000);
const isSetup = (e: Example) => e.id.startsWith('setup');
const leaves = [...examples.values()].filter((e) => !isSetup(e) && e.run.length > 0).sort((a, b) => a.id.localeCompare(b.id));

const canRun = (() => {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('sh', ['-c', 'command -v ovs-vswitchd && command -v iperf3 && test -f dist-local/nsm-local.js && test -f cmd-nsmgr/dist/cmd-nsmgr.js'], { cwd: root });
    return undefined;
  } catch {
    return 'host packages or bundles missing (run make host-deps build)';
  }
})();

/** Examples on VPP nodes (examples/vpp, set-ups named vpp-*) need the VPP runtime beside the repository. */
const onVpp = (e: Example) => [e, ...setupOrder(e, examples)].some((x) => /(^|\/)vpp/.test(x.id));
const noVpp = vppRuntimeMissing(vppRuntimeDir(root));

jest.setTimeout(10 * 60_000);

function meshLogTails(mesh: string, lines = 15): string {
  const dir = join(process.env.NSM_LOCAL_DIR ?? '/tmp/nsm-local', mesh, 'logs');
  if (!existsSync(dir)) return `(no logs in ${dir})`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => `--- ${f} (last ${lines} lines)\n${readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`)
    .join('\n');
}

describe('Markdown examples', () => {
  if (canRun) {
    test.skip(`examples skipped: ${canRun}`, () => undefined);
    return;
  }
  leaves.forEach((ex, i) => {
    if (noVpp && onVpp(ex)) {
      test.skip(`${ex.id} skipped: ${noVpp}`, () => undefined);
      return;
    }
    test(ex.id, async () => {
      // Unique per run, so that two runs on one machine never share namespaces.
      const mesh = `ex${process.pid % 10000}-${i}`;
      const shell = new Shell(ex.dir, { ...process.env, PATH: `${join(root, 'bin')}:${process.env.PATH}`, NSM_LOCAL_MESH: mesh });
      const setups = setupOrder(ex, examples);
      const failures: string[] = [];
      const timings: string[] = [];
      const runSteps = async (owner: Example, steps: string[], phase: string) => {
        for (const [n, step] of steps.entries()) {
          const r = await shell.step(step, STEP_BUDGET_MS);
          const note = /healed in \d+ ms/.exec(r.output)?.[0];
          timings.push(`${owner.id} ${phase} step ${n + 1}: ${r.ok ? 'ok' : 'FAILED'} after ${r.attempts} attempt(s), ${r.ms} ms${note ? ` (${note})` : ''}`);
          if (!r.ok) {
            failures.push(`${owner.id} ${phase} step ${n + 1} failed after ${r.attempts} attempts:\n$ ${step}\n${r.output.slice(-3000)}`);
            return false;
          }
        }
        return true;
      };
      try {
        let ok = true;
        for (const s of setups) if (ok) ok = await runSteps(s, s.run, 'Run');
        if (ok) ok = await runSteps(ex, ex.run, 'Run');
        // The mesh's logs go with its cleanup: keep their tails with the failure.
        if (!ok) failures.push(meshLogTails(mesh));
      } finally {
        await runSteps(ex, ex.cleanup, 'Cleanup');
        for (const s of [...setups].reverse()) await runSteps(s, s.cleanup, 'Cleanup');
        shell.close();
        process.stdout.write(`${ex.id}:\n  ${timings.join('\n  ')}\n`);
      }
      if (failures.length) throw new Error(failures.join('\n\n'));
    });
  });
});
