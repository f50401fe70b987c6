// One long-lived bash per test (examples.md §1.7): variables and cd carry over between steps. A step
// passes when its last command exits 0; it is retried every 100 ms until its time budget runs out.
import { spawn, ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';

export interface StepResult {
  ok: boolean;
  attempts: number;
  output: string;
  ms: number;
}

export class Shell {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buffer = '';
  private waiters: (() => void)[] = [];

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.proc = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: 'pipe' });
    const onData = (d: Buffer) => {
      this.buffer += d.toString('utf8');
      this.waiters.splice(0).forEach((w) => w());
    };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
  }

  /** Runs a script once in this shell; resolves with its status and output. */
  async once(script: string, timeoutMs: number): Promise<{ code: number; output: string }> {
    const marker = `__step_done_${randomUUID()}__`;
    this.buffer = '';
    this.proc.stdin.write(`${script}\necho "${marker}$?"\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = new RegExp(`${marker}(\\d+)`).exec(this.buffer);
      if (m) return { code: Number(m[1]), output: this.buffer.slice(0, m.index) };
      if (Date.now() > deadline) return { code: 124, output: `${this.buffer}\n(step still running after ${timeoutMs} ms)` };
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  async step(script: string, budgetMs: number): Promise<StepResult> {
    const start = Date.now();
    let attempts = 0;
    for (;;) {
      attempts++;
      const left = Math.max(1000, budgetMs - (Date.now() - start));
      const r = await this.once(script, left);
      if (r.code === 0) return { ok: true, attempts, output: r.output, ms: Date.now() - start };
      if (Date.now() - start >= budgetMs) return { ok: false, attempts, output: r.output, ms: Date.now() - start };
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  close(): void {
    this.proc.stdin.end('exit\n');
    setTimeout(() => this.proc.kill('SIGKILL'), 2000).unref();
  }
}
