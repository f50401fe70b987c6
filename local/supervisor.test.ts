// restartPolicy as a kubelet honours it, with real processes in a real network namespace.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessExit, RestartPolicy, Supervisor } from './supervisor';

const root = process.getuid?.() === 0;
const d = root ? describe : describe.skip;

d('supervisor restartPolicy', () => {
  const netns = `sup-t${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'sup-'));
  const sup = new Supervisor(() => undefined, `sup-test-${process.pid}`);
  beforeAll(() => execFileSync('ip', ['netns', 'add', netns]));
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', netns]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(name: string, policy: RestartPolicy, script: string, exits: number): Promise<ProcessExit[]> {
    const seen: ProcessExit[] = [];
    let starts = 0;
    await new Promise<void>((resolve) => {
      sup.start({
        name,
        netns,
        argv: ['sh', '-c', script],
        env: {},
        logFile: join(dir, `${name}.log`),
        restartPolicy: policy,
        onStart: () => starts++,
        onExit: (e) => {
          seen.push(e);
          if (seen.length === exits) resolve();
        },
      });
    });
    await sup.stop(name, 0);
    return seen;
  }

  test('Never: one run; exit 0 stays down with its code', async () => {
    const seen = await run('never-ok', 'Never', 'exit 0', 1);
    expect(seen[0]).toEqual({ code: 0, signal: null, restarting: false, stopped: false });
  });

  test('Never: a failure stays down too', async () => {
    const seen = await run('never-fail', 'Never', 'exit 3', 1);
    expect(seen[0]).toMatchObject({ code: 3, restarting: false });
  });

  test('OnFailure restarts after a failure, not after success; Always after both', async () => {
    const marker = join(dir, 'ran-once');
    const onFailure = await run('on-failure', 'OnFailure', `if [ -e ${marker} ]; then exit 0; else touch ${marker}; exit 1; fi`, 2);
    expect(onFailure.map((e) => [e.code, e.restarting])).toEqual([
      [1, true],
      [0, false],
    ]);
    const always = await run('always', 'Always', 'exit 0', 2);
    expect(always.map((e) => e.restarting)).toEqual([true, true]);
  });
});
