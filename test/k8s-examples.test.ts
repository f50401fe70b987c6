// Runs the Kubernetes examples (deployments-k8s/examples/**/README.md) the way upstream's Markdown
// runner does (shared/spec examples.md §1): Run and Cleanup sections, bash fences as steps, one
// long-lived bash per example with the README's directory as working directory, every step retried
// every 100 ms until it succeeds or its budget (NSM_EXAMPLE_STEP_BUDGET, default 60 s) runs out,
// Requires set up first, Cleanup always (own first, then the requirements', last in first out).
// Without a configured cluster (KUBECONFIG) each example is registered as a skipped test that says so.
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';

const root = join(__dirname, '..', 'deployments-k8s', 'examples');

export interface Example {
  id: string;
  dir: string;
  requires: string[];
  run: string[];
  cleanup: string[];
}

/** Text of the section that starts after the first "# <keyword>" and ends at the next '#' outside a fence. */
export function section(md: string, keyword: string): string {
  const start = md.indexOf(`# ${keyword}`);
  if (start < 0) return '';
  let i = start + 2 + keyword.length;
  let inFence = false;
  const from = i;
  while (i < md.length) {
    if (md.startsWith('```', i)) {
      inFence = !inFence;
      i += 3;
      continue;
    }
    if (!inFence && md[i] === '#') break;
    i++;
  }
  return md.slice(from, i);
}

/** The bash fences of a section, in order, trimmed. */
export function steps(text: string): string[] {
  const out: string[] = [];
  const re = /```bash([\s\S]*?)```/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1].trim());
  return out;
}

/** Targets of the first inline link on each line, as example ids relative to the examples root. */
export function links(text: string, id: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /\[[^\]]*\]\(([^)]*)\)/.exec(line);
    if (!m) continue;
    const target = m[1];
    out.push(posix.normalize(posix.join(id, target)).replace(/\/$/, '').replace(/^\.$/, ''));
  }
  return out;
}

export function findExamples(dir = root): Example[] {
  const out: Example[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e === 'README.md') {
        const md = readFileSync(p, 'utf8');
        const id = relative(dir, d).split('\\').join('/');
        out.push({ id, dir: d, requires: links(section(md, 'Requires'), id), run: steps(section(md, 'Run')), cleanup: steps(section(md, 'Cleanup')) });
      }
    }
  };
  walk(dir);
  return out;
}

/** One long-lived bash: steps are written to its stdin; a marker line reports each step's status. */
class Shell {
  private proc: ChildProcessWithoutNullStreams;
  private buf = '';
  private waiter?: () => void;
  private n = 0;
  constructor(cwd: string) {
    this.proc = spawn('bash', ['--noprofile', '--norc'], { cwd, env: process.env });
    const on = (c: Buffer) => {
      this.buf += c.toString();
      this.waiter?.();
    };
    this.proc.stdout.on('data', on);
    this.proc.stderr.on('data', on);
  }
  async exec(step: string): Promise<{ status: number; output: string }> {
    const marker = `__STEP_DONE_${process.pid}_${++this.n}__`;
    this.buf = '';
    this.proc.stdin.write(`${step}\necho "${marker} $?"\n`);
    return new Promise((resolve) => {
      this.waiter = () => {
        const m = new RegExp(`${marker} (\\d+)`).exec(this.buf);
        if (!m) return;
        this.waiter = undefined;
        resolve({ status: Number(m[1]), output: this.buf.slice(0, m.index) });
      };
      this.waiter();
    });
  }
  close() {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

const budget = Number(process.env.NSM_EXAMPLE_STEP_BUDGET ?? '60') * 1000;

async function runStep(sh: Shell, step: string, label: string, budgetMs: number, log: (s: string) => void): Promise<void> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 1; ; attempt++) {
    const { status, output } = await sh.exec(step);
    log(`[${label}] attempt ${attempt} exit ${status}\n$ ${step}\n${output}`);
    if (status === 0) return;
    if (Date.now() > deadline) throw new Error(`${label}: step failed (exit ${status}) after ${attempt} attempts:\n${step}\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sets up the requirements (each once), runs the example, then cleans up in reverse order. */
export async function runExample(ex: Example, all: Map<string, Example>, budgetMs = budget, log = (s: string) => void process.stdout.write(s)): Promise<void> {
  const order: Example[] = [];
  const visit = (id: string, chain: string[]) => {
    if (chain.includes(id)) throw new Error(`Requires cycle: ${[...chain, id].join(' -> ')}`);
    const e = all.get(id);
    if (!e) throw new Error(`${chain[chain.length - 1]} requires unknown example "${id}"`);
    for (const r of e.requires) visit(r, [...chain, id]);
    if (!order.includes(e)) order.push(e);
  };
  visit(ex.id, []);
  const cleanups: (() => Promise<void>)[] = [];
  const failures: unknown[] = [];
  try {
    for (const e of order) {
      const sh = new Shell(e.dir);
      // Cleanup is registered before Run, so it runs even when a Run step fails.
      cleanups.unshift(async () => {
        try {
          for (const s of e.cleanup) await runStep(sh, s, `${e.id || '.'} cleanup`, budgetMs, log);
        } finally {
          sh.close();
        }
      });
      for (const s of e.run) await runStep(sh, s, `${e.id || '.'} run`, budgetMs, log);
    }
  } catch (err) {
    failures.push(err);
  }
  for (const c of cleanups) {
    try {
      await c();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length) throw failures[0];
}

const examples = findExamples();
const all = new Map(examples.map((e) => [e.id, e]));
const kubeconfig = process.env.KUBECONFIG;
const cluster = kubeconfig && kubeconfig.split(':').some((f) => existsSync(f)) ? kubeconfig : undefined;
const reason = kubeconfig ? `KUBECONFIG=${kubeconfig} names no existing file` : 'no cluster configured (KUBECONFIG is not set)';

test('the examples are found and parse into Run/Cleanup steps', () => {
  expect(examples.map((e) => e.id)).toEqual(expect.arrayContaining(['spire', 'basic', 'use-cases/Kernel2Kernel']));
  const k2k = all.get('use-cases/Kernel2Kernel')!;
  expect(k2k.requires).toEqual(['basic']);
  expect(all.get('basic')!.requires).toEqual(['spire']);
  expect(k2k.run.length).toBeGreaterThanOrEqual(6);
  expect(k2k.run.some((s) => s.includes('ping -c 4 172.16.1.100'))).toBe(true);
  // The example's namespace gets its own SPIFFE identity, and loses it again.
  expect(k2k.run.some((s) => s.includes('entry create') && s.includes('spiffe://example.org/ns/${NAMESPACE}/sa/default'))).toBe(true);
  expect(k2k.cleanup[0]).toBe('kubectl delete ns ${NAMESPACE}');
  expect(k2k.cleanup[1]).toMatch(/spire-server entry delete/);
  for (const e of examples) {
    for (const r of e.requires) expect(all.has(r)).toBe(true);
    expect(e.run.length).toBeGreaterThan(0);
  }
});

test('the parser follows the upstream section rules', () => {
  const md = '# T\n## Requires\n[a](../x) and [b](../y)\n## Run\n```bash\necho 1 # comment\n```\n```sh\nno\n```\n```bash\necho 2\n```\n## Cleanup\n```bash\nrm x\n```\n';
  expect(links(section(md, 'Requires'), 'u/k')).toEqual(['u/x']);
  expect(steps(section(md, 'Run'))).toEqual(['echo 1 # comment', 'echo 2']);
  expect(steps(section(md, 'Cleanup'))).toEqual(['rm x']);
});

test('the runner keeps shell state per example, retries steps, and always cleans up (plain bash, no cluster)', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'examples-'));
  const out = join(tmp, 'trace');
  const fence = (s: string) => '```bash\n' + s + '\n```\n';
  mkdirSync(join(tmp, 'base'));
  mkdirSync(join(tmp, 'cases', 'leaf'), { recursive: true });
  writeFileSync(join(tmp, 'base', 'README.md'), `# Base\n## Run\n${fence(`echo base-run >> ${out}`)}## Cleanup\n${fence(`echo base-cleanup >> ${out}`)}`);
  writeFileSync(
    join(tmp, 'cases', 'leaf', 'README.md'),
    `# Leaf\n## Requires\n[base](../../base)\n## Run\n${fence('X=42; cd .')}${fence(`N=$((N+1)); echo try-$N >> ${out}; [[ $N -ge 3 ]]`)}${fence(`echo leaf-$X-$(basename $PWD) >> ${out}`)}${fence('false')}## Cleanup\n${fence(`echo leaf-cleanup-$X >> ${out}`)}`,
  );
  const exs = findExamples(tmp);
  const byId = new Map(exs.map((e) => [e.id, e]));
  expect(byId.get('cases/leaf')!.requires).toEqual(['base']);
  await expect(runExample(byId.get('cases/leaf')!, byId, 1000, () => undefined)).rejects.toThrow(/step failed \(exit 1\)/);
  expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual(['base-run', 'try-1', 'try-2', 'try-3', 'leaf-42-leaf', 'leaf-cleanup-42', 'base-cleanup']);
}, 20_000);

for (const ex of examples) {
  if (!cluster) test.skip(`${ex.id}: skipped because ${reason}`, () => undefined);
  else test(`${ex.id} on ${cluster}`, () => runExample(ex, all), 60 * 60 * 1000);
}
