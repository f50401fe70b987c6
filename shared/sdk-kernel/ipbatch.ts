// One `ip -batch -` per namespace: each process spawn costs milliseconds, each batched line does not.
import { exec, ExecError } from './exec';
import { describeNetns, ipArgv, NetnsRef } from './netns';

export interface IpFailure {
  /** 1-based line of the batch. */
  line: number;
  command: string;
  /** What ip printed for that line, e.g. "RTNETLINK answers: File exists". */
  message: string;
}

export class IpBatchError extends Error {
  constructor(
    readonly netns: NetnsRef,
    readonly failures: IpFailure[],
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    const what = failures.length
      ? failures.map((f) => `"${f.command}": ${f.message}`).join('; ')
      : stderr.trim() || 'failed';
    super(`ip in ${describeNetns(netns)}: ${what}`, options);
    this.name = 'IpBatchError';
  }

  /**
   * True when every failed line's message matches `re`. A line ip could not even parse aborts the
   * batch without a per-line report; then the whole stderr is tested.
   */
  onlyFailuresMatching(re: RegExp): boolean {
    if (this.failures.length === 0) return re.test(this.stderr);
    return this.failures.every((f) => re.test(f.message));
  }
}

export interface IpBatchOptions {
  /** Keep going after a failed line (`ip -force`); the error then lists every failed line. */
  force?: boolean;
  timeoutMs?: number;
}

/** Runs `lines` (ip commands without the leading `ip`) in `ns`; resolves with stdout. */
export async function ipBatch(ns: NetnsRef, lines: readonly string[], opts: IpBatchOptions = {}): Promise<string> {
  if (lines.length === 0) return '';
  const args = opts.force ? ['-force', '-batch', '-'] : ['-batch', '-'];
  try {
    const { stdout } = await exec(ipArgv(ns, ...args), { input: lines.join('\n') + '\n', timeoutMs: opts.timeoutMs ?? 30_000 });
    return stdout;
  } catch (e) {
    if (!(e instanceof ExecError)) throw e;
    throw new IpBatchError(ns, parseFailures(e.stderr, lines), e.stderr, { cause: e });
  }
}

/** Runs one ip command (a batch of one line keeps the error format the same). */
export function ip(ns: NetnsRef, line: string, opts: IpBatchOptions = {}): Promise<string> {
  return ipBatch(ns, [line], opts);
}

/** ip prints the reason first and then "Command failed -:N" for each failed batch line. */
function parseFailures(stderr: string, lines: readonly string[]): IpFailure[] {
  const failures: IpFailure[] = [];
  let pending: string[] = [];
  for (const raw of stderr.split('\n')) {
    const l = raw.trim();
    if (!l) continue;
    const m = /^Command failed -:(\d+)$/.exec(l);
    if (m) {
      const line = Number(m[1]);
      failures.push({ line, command: lines[line - 1] ?? '?', message: pending.join(' ') || 'failed' });
      pending = [];
    } else {
      pending.push(l);
    }
  }
  return failures;
}
