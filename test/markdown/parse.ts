// Markdown examples as tests (examples.md §1): a document's Requires, Includes, Run and Cleanup
// sections; steps are its ```bash fences; links in Requires/Includes name other examples. Unlike
// gotestmd, a heading matches only as a whole heading line, so "Running" or a bash comment never
// starts a section (a quirk we deliberately fix).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, normalize, relative } from 'node:path';

export interface Example {
  id: string;
  dir: string;
  title: string;
  requires: string[];
  includes: string[];
  run: string[];
  cleanup: string[];
}

const SECTIONS = ['Requires', 'Includes', 'Run', 'Cleanup'] as const;
type Section = (typeof SECTIONS)[number];

export function parseExample(text: string, id: string, dir: string): Example {
  const lines = text.split('\n');
  const sections: Record<Section, string[]> = { Requires: [], Includes: [], Run: [], Cleanup: [] };
  let current: Section | undefined;
  let inFence = false;
  let title = id;
  for (const line of lines) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (!inFence) {
      const h = /^(#{1,6})\s+(.*?)\s*$/.exec(line);
      if (h) {
        if (h[1] === '#' && title === id) title = h[2];
        current = (SECTIONS as readonly string[]).includes(h[2]) ? (h[2] as Section) : undefined;
        continue;
      }
    }
    if (current) sections[current].push(line);
  }
  const steps = (body: string[]) => {
    const out: string[] = [];
    const re = /```bash\n([\s\S]*?)```/g;
    for (let m = re.exec(body.join('\n')); m; m = re.exec(body.join('\n'))) out.push(m[1].trim());
    return out;
  };
  const links = (body: string[]) =>
    body.flatMap((l) => {
      const m = /\[[^\]]*\]\(([^)\s]+)\)/.exec(l);
      return m ? [normalize(join(id, m[1])).replace(/\/$/, '')] : [];
    });
  return { id, dir, title, requires: links(sections.Requires), includes: links(sections.Includes), run: steps(sections.Run), cleanup: steps(sections.Cleanup) };
}

export function findExamples(root: string): Map<string, Example> {
  const out = new Map<string, Example>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name === 'README.md') {
        const id = relative(root, dir) || '.';
        out.set(id, parseExample(readFileSync(p, 'utf8'), id, dir));
      }
    }
  };
  walk(root);
  return out;
}

/** Requirements in set-up order (depth first, each once). */
export function setupOrder(ex: Example, all: Map<string, Example>, seen = new Set<string>()): Example[] {
  const out: Example[] = [];
  for (const r of ex.requires) {
    if (seen.has(r)) continue;
    seen.add(r);
    const req = all.get(r);
    if (!req) throw new Error(`example ${ex.id} requires unknown example ${r}`);
    out.push(...setupOrder(req, all, seen), req);
  }
  return out;
}
