// Runs one host command without a shell: arguments are passed as an argv array, so interface names,
// addresses or netns paths can never be interpreted as shell syntax.
import { spawn } from 'node:child_process';
import { internal } from '@nsm/sdk/core/errors';

export interface ExecOptions {
  /** Written to the child's stdin, which is then closed (e.g. `ip -batch -`, `ovs-ofctl add-flows -`). */
  input?: string;
  /** Kills the child (SIGKILL) and rejects after this many milliseconds. */
  timeoutMs?: number;
  /** Extra environment variables on top of this process's environment. */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** A failed command: the message names the command and carries its stderr, so it reads on its own. */
export class ExecError extends Error {
  constructor(
    readonly argv: readonly string[],
    /** Exit code, or undefined when the child was killed by a signal or could not be started. */
    readonly exitCode: number | undefined,
    readonly stdout: string,
    readonly stderr: string,
    reason: string,
  ) {
    super(`${argv.join(' ')}: ${reason}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    this.name = 'ExecError';
  }
}

export function exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) return Promise.reject(internal('exec: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      signal: opts.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      fn();
    };
    const text = () => ({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });

    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      const { stdout, stderr } = text();
      finish(() => reject(new ExecError(argv, undefined, stdout, stderr, e.message)));
    });
    child.on('close', (code, sig) => {
      const { stdout, stderr } = text();
      if (code === 0) finish(() => resolve({ stdout, stderr }));
      else {
        const reason = code === null ? `killed by ${sig}` : `exit ${code}`;
        finish(() => reject(new ExecError(argv, code ?? undefined, stdout, stderr, reason)));
      }
    });
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        const { stdout, stderr } = text();
        finish(() => reject(new ExecError(argv, undefined, stdout, stderr, `timed out after ${opts.timeoutMs} ms`)));
      }, opts.timeoutMs);
      timer.unref();
    }
    // A child that exits before reading its stdin makes the write fail with EPIPE; its exit status tells more.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
