// The benchmark's pinger (probe/nsm_probe.c, built here with the C compiler the netlink addon needs):
// one long-lived process that holds a raw ICMP socket in each client's namespace and reports when
// the first echo reply through the client's new interface arrives, on the clock of
// process.hrtime.bigint(). Nothing is started per measurement, so what is timed is the mesh.
import { ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const dir = join(__dirname, 'probe');
const src = join(dir, 'nsm_probe.c');
const bin = join(dir, 'build', 'nsm_probe');

function build(): void {
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return;
  mkdirSync(join(dir, 'build'), { recursive: true });
  execFileSync(process.env.CC ?? 'cc', ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, src], { stdio: 'inherit' });
}

export interface Reply {
  /** When the reply was read (process.hrtime.bigint() clock). */
  at: bigint;
  /** Echo requests sent until then. */
  sent: number;
}

export class Prober {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<string, { resolve(line: string[]): void }>();

  constructor() {
    build();
    this.child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => process.stderr.write(`nsm_probe: ${d}`));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const words = line.split(' ');
      const key = `${words[0] === 'open' ? 'open' : 'probe'} ${words[1]}`;
      const w = this.waiting.get(key);
      if (!w) return;
      this.waiting.delete(key);
      w.resolve(words);
    });
  }

  private wait(key: string): Promise<string[]> {
    return new Promise((resolve) => this.waiting.set(key, { resolve }));
  }

  /** A raw ICMP socket for client `id` inside the namespace at `nsPath`. */
  async open(id: number, nsPath: string): Promise<void> {
    const answer = this.wait(`open ${id}`);
    this.child.stdin.write(`open ${id} ${nsPath}\n`);
    const words = await answer;
    if (words[2] !== 'ok') throw new Error(`nsm_probe: open ${nsPath}: ${words.slice(3).join(' ')}`);
  }

  /** Pings `ip` from client `id` every `intervalUs` until the first reply; rejects after `timeoutMs`. */
  async firstReply(id: number, ip: string, intervalUs = 1000, timeoutMs = 10_000): Promise<Reply> {
    const answer = this.wait(`probe ${id}`);
    this.child.stdin.write(`start ${id} ${ip} ${intervalUs} ${timeoutMs}\n`);
    const words = await answer;
    if (words[0] !== 'reply') throw new Error(`no echo reply from ${ip} within ${timeoutMs} ms (${words[2]} sent)`);
    return { at: BigInt(words[2]), sent: Number(words[3]) };
  }

  close(id: number): void {
    this.child.stdin.write(`close ${id}\n`);
  }

  stop(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

/**
 * Client namespaces `netns('c0')`..`netns('c<n-1>')` (the pods; the bench process stays in its own),
 * made with one `ip -batch` and opened for probing: probe id i is namespace i.
 */
export async function clientNamespaces(prober: Prober, netns: (name: string) => string, n: number): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => netns(`c${i}`));
  execFileSync('ip', ['-batch', '-'], { input: names.map((x) => `netns add ${x}`).join('\n') + '\n' });
  for (const [i, ns] of names.entries()) await prober.open(i, `/var/run/netns/${ns}`);
  return names;
}
