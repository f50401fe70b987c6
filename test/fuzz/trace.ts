// Every program the processes under test start while the fuzz runs, from the kernel's side: strace
// attached to them (and to their threads), following forks, recording execve with its argv. Whatever
// part of a component starts a process, and in whatever way, it shows up here.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Exec {
  pid: number;
  line: string;
}

export function straceAvailable(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class ExecTrace {
  private proc?: ChildProcess;
  private exited?: Promise<void>;

  constructor(private readonly file: string) {}

  /** Attaches to `pids` and their threads; resolves once strace has attached. */
  async start(pids: number[]): Promise<void> {
    const args = ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-s', '1024', '-o', this.file, ...pids.flatMap((p) => ['-p', String(p)])];
    const proc = spawn('strace', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    // strace writes the output file once it is attached to the first process; give it the rest.
    for (let i = 0; i < 100 && !existsSync(this.file); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
  }

  /** Detaches and returns every execve seen. */
  async stop(): Promise<Exec[]> {
    this.proc?.kill('SIGINT');
    await this.exited;
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => /execve\(/.test(l))
      .map((line) => ({ pid: Number(line.split(' ')[0]), line }));
  }
}
