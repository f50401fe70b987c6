// Imports run downward only: shared/api → shared/sdk → sdk-kernel, sdk-k8s → sdk-ovs, sdk-vpp,
// sdk-wireguard → cmd-*, local → bench, test; a cmd never imports another cmd. Inside shared/sdk the
// same holds for its folders: core, log, spiffe, token → policy, grpc (the edge) → elements, registry → chains → cmd.
// Production code never imports test support (a testing/ folder, a *.test.ts or *.suite.ts file).
// Every import of every .ts file is read with TypeScript's own pre-processor, so a new file is
// checked without being listed anywhere.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import * as ts from 'typescript';

const root = join(__dirname, '..');

/** Layer of each top-level unit; a unit may import its own layer's units only where SIDEWAYS says so. */
const LAYERS: Array<[RegExp, number]> = [
  [/^shared\/api$/, 0],
  [/^shared\/sdk$/, 1],
  [/^shared\/sdk-(kernel|k8s)$/, 2],
  [/^shared\/sdk-(ovs|vpp|wireguard)$/, 3],
  [/^(cmd-[^/]+|local)$/, 4],
  [/^(bench|test)$/, 5],
];
/** Imports between units of one layer that are part of the design. */
const SIDEWAYS = new Set(['shared/sdk-ovs -> shared/sdk-wireguard', 'bench -> test']);
/** Folders of shared/sdk, lowest first; testing/ (test support) may use all of them. */
const SDK_LEVELS: Record<string, number> = { core: 0, log: 0, spiffe: 0, token: 0, policy: 1, grpc: 1, elements: 2, registry: 2, chains: 3, cmd: 4 };

const TEST_SUPPORT = /(^|\/)testing(\/|$)|\.test\.ts$|\.suite\.ts$/;

export function unitOf(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'shared' ? `shared/${parts[1]}` : parts[0];
}

const layerOf = (unit: string): number | undefined => LAYERS.find(([re]) => re.test(unit))?.[1];

/** Tests, test support and the bench harness; everything else is production code. */
export const isProduction = (file: string): boolean => !TEST_SUPPORT.test(file) && !/^(test|bench)\//.test(file);

/** What is wrong with `from` importing `to` (repository-relative paths), or undefined. */
export function violation(from: string, to: string): string | undefined {
  if (isProduction(from) && TEST_SUPPORT.test(to)) return 'production code imports test support';
  const [uf, ut] = [unitOf(from), unitOf(to)];
  if (uf !== ut) {
    const [lf, lt] = [layerOf(uf), layerOf(ut)];
    if (lf === undefined || lt === undefined) return `${lf === undefined ? uf : ut} has no layer`;
    if (lt > lf) return `${uf} (layer ${lf}) imports ${ut} (layer ${lt})`;
    if (lt === lf && !SIDEWAYS.has(`${uf} -> ${ut}`)) return `${uf} imports ${ut} of the same layer`;
    return undefined;
  }
  if (uf !== 'shared/sdk') return undefined;
  const [sf, st] = [from.split('/')[2], to.split('/')[2]];
  if (sf === 'testing' || st === 'testing') return undefined;
  const [lf, lt] = [SDK_LEVELS[sf], SDK_LEVELS[st]];
  if (lf === undefined || lt === undefined) return `shared/sdk/${lf === undefined ? sf : st} has no level`;
  return lt > lf ? `shared/sdk/${sf} imports shared/sdk/${st}` : undefined;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(root, dir))) {
    const rel = dir ? `${dir}/${name}` : name;
    if (/^(node_modules|dist|dist-local|\.git|\.local-run)$/.test(name)) continue;
    if (statSync(join(root, rel)).isDirectory()) sources(rel, out);
    else if (rel.endsWith('.ts')) out.push(rel);
  }
  return out;
}

function resolve(from: string, spec: string): string | undefined {
  let base: string;
  if (spec.startsWith('@nsm/')) base = `shared/${spec.slice('@nsm/'.length)}`;
  else if (spec.startsWith('.')) base = normalize(join(dirname(from), spec));
  else return undefined; // a package
  for (const c of [`${base}.ts`, `${base}/index.ts`, base]) if (existsSync(join(root, c)) && statSync(join(root, c)).isFile()) return c;
  return base;
}

function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

describe('the rules', () => {
  test.each([
    ['shared/sdk/grpc/boundary.ts', 'shared/sdk/elements/updatetoken/index.ts', /grpc imports shared\/sdk\/elements/],
    ['shared/sdk/elements/heal/index.ts', 'shared/sdk/chains/client.ts', /elements imports shared\/sdk\/chains/],
    ['shared/sdk/core/errors.ts', 'shared/sdk-kernel/exec.ts', /layer 1\) imports shared\/sdk-kernel \(layer 2/],
    ['shared/sdk-kernel/link.ts', 'shared/sdk-k8s/store.ts', /same layer/],
    ['cmd-nsc/src/main.ts', 'cmd-nsmgr/src/publicurl.ts', /cmd-nsc imports cmd-nsmgr of the same layer/],
    ['shared/sdk-ovs/elements/vni.ts', 'cmd-forwarder-ovs/src/uplinks.ts', /layer 3\) imports cmd-forwarder-ovs/],
    ['shared/sdk-k8s/store.ts', 'shared/sdk-k8s/testing/fake-apiserver.ts', /production code imports test support/],
    ['shared/sdk/chains/registry.ts', 'shared/sdk/testing/registry.suite.ts', /production code imports test support/],
    ['local/mesh.ts', 'shared/sdk-vpp/vpp.test.ts', /production code imports test support/],
  ])('%s importing %s is refused', (from, to, why) => expect(violation(from, to)).toMatch(why));

  test.each([
    ['shared/sdk/elements/updatetoken/index.ts', 'shared/sdk/grpc/keys.ts'],
    ['shared/sdk/chains/registry.ts', 'shared/sdk/registry/heal/index.ts'],
    ['shared/sdk-ovs/elements/wireguard.ts', 'shared/sdk-wireguard/index.ts'],
    ['shared/sdk/elements/heal/index.test.ts', 'shared/sdk/testing/elements.ts'],
    ['shared/sdk-k8s/store.test.ts', 'shared/sdk-k8s/testing/fake-apiserver.ts'],
    ['bench/registry.ts', 'shared/sdk/testing/index.ts'],
    ['cmd-nsc/src/main.ts', 'shared/api/index.ts'],
  ])('%s importing %s is fine', (from, to) => expect(violation(from, to)).toBeUndefined());
});

test('no import in the tree breaks them', () => {
  const files = sources('');
  expect(files.length).toBeGreaterThan(200);
  const bad: string[] = [];
  let checked = 0;
  for (const file of files) {
    for (const spec of importsOf(file)) {
      const to = resolve(file, spec);
      if (!to) continue;
      checked++;
      const why = violation(file, to);
      if (why) bad.push(`${file} -> ${spec}: ${why}`);
    }
  }
  expect(checked).toBeGreaterThan(1000);
  expect(bad).toEqual([]);
});

test('every unit has a layer', () => {
  const units = new Set(sources('').map(unitOf));
  expect([...units].filter((u) => layerOf(u) === undefined)).toEqual([]);
});
