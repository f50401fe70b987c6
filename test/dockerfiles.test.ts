// Static checks of every cmd-*/Dockerfile: pinned runtime base, pinned apt packages, the
// ENTRYPOINT runs the file tools/build.mjs produces, USER where the command allows non-root, and the
// netlink addon built (with a C compiler) and shipped beside the bundle of the commands that load it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageEntrypoint, NODE_FLAGS } from '../local/paths';

const root = join(__dirname, '..');
const CMDS = ['cmd-nsmgr', 'cmd-registry-k8s', 'cmd-forwarder-vpp', 'cmd-forwarder-ovs', 'cmd-nsc', 'cmd-nse-icmp-responder', 'cmd-admission-webhook', 'cmd-nse-supplier-k8s'];
/** Commands whose image runs as a non-root user (the others need root: see each Dockerfile). */
const NON_ROOT: Record<string, string> = { 'cmd-registry-k8s': 'node', 'cmd-admission-webhook': 'node' };
/** What a runtime image copies besides its bundle: the forwarder-vpp image FD.io's apt source and key. */
const EXTRA_COPIES: Record<string, string[]> = {
  'cmd-forwarder-vpp': ['--from=fdio /fdio-2502.gpg /usr/share/keyrings/fdio-2502.gpg', '--from=fdio /fdio-2502.list /etc/apt/sources.list.d/fdio-2502.list'],
};
/** OS packages each runtime image must install. */
const PACKAGES: Record<string, string[]> = {
  'cmd-nsmgr': [],
  'cmd-registry-k8s': [],
  'cmd-admission-webhook': [],
  'cmd-nse-supplier-k8s': [],
  'cmd-forwarder-vpp': ['iproute2', 'libvppinfra', 'vpp', 'vpp-plugin-core'],
  // ping: the data-path check (cmd-nsc/src/liveness.ts).
  'cmd-nsc': ['iproute2', 'iputils-ping'],
  'cmd-nse-icmp-responder': ['iproute2', 'openvswitch-switch'],
  'cmd-forwarder-ovs': ['iproute2', 'openvswitch-switch', 'wireguard-tools', 'wireguard-go'],
};
/** Commands whose bundle loads the netlink addon (tools/build.mjs copies it beside those bundles). */
const ADDON = new Set(['cmd-forwarder-ovs', 'cmd-forwarder-vpp', 'cmd-nse-icmp-responder', 'cmd-nsmgr']);

interface Instr {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instrs: Instr[];
}

/** Parses a Dockerfile into stages of instructions (comments dropped, continuations joined). */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let cur = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    if (/\\\s*$/.test(line)) {
      cur += line.replace(/\\\s*$/, ' ');
      continue;
    }
    cur += line;
    if (cur.trim()) logical.push(cur.trim());
    cur = '';
  }
  if (cur.trim()) logical.push(cur.trim());
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    const op = m[1].toUpperCase();
    if (op === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(m[2]);
      if (!f) throw new Error(`bad FROM: ${l}`);
      stages.push({ from: f[1], name: f[2], instrs: [] });
    } else if (stages.length) stages[stages.length - 1].instrs.push({ op, args: m[2] });
  }
  return stages;
}

/** Packages named in `apt-get install` commands of RUN instructions, with their "=version" when given. */
function aptPackages(stage: Stage): { name: string; version?: string }[] {
  const out: { name: string; version?: string }[] = [];
  for (const i of stage.instrs.filter((x) => x.op === 'RUN')) {
    for (const cmd of i.args.split(/&&|;/)) {
      const m = /apt-get\s+(?:-\S+\s+)*install\s+(.*)$/.exec(cmd.trim());
      if (!m) continue;
      for (const w of m[1].split(/\s+/).filter(Boolean)) {
        if (w.startsWith('-')) continue;
        const [name, version] = w.split('=');
        out.push({ name, version });
      }
    }
  }
  return out;
}

describe.each(CMDS)('%s/Dockerfile', (cmd) => {
  const file = join(root, cmd, 'Dockerfile');
  const stages = () => parseDockerfile(readFileSync(file, 'utf8'));
  const runtime = () => stages()[stages().length - 1];

  test('is multi-stage: a node:20-bookworm-slim build stage with npm ci and the build', () => {
    const s = stages();
    expect(s.length).toBeGreaterThanOrEqual(2);
    expect(s[0].from).toBe('node:20-bookworm-slim');
    const runs = s[0].instrs.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => r.includes(`node tools/build.mjs ${cmd}`))).toBe(true);
  });

  test('runtime base is pinned to an explicit version', () => {
    const from = runtime().from;
    const [image, digest] = from.split('@');
    const tag = image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : '';
    expect(tag).not.toBe('');
    expect(tag).not.toMatch(/latest/);
    // major.minor.patch, not a floating "22" or "lts".
    expect(tag).toMatch(/^\d+\.\d+\.\d+(-[a-z0-9.-]+)?$/);
    if (digest) expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('runtime apt packages are exactly the needed ones, each pinned to a version', () => {
    const pkgs = aptPackages(runtime());
    expect(pkgs.map((p) => p.name).sort()).toEqual([...PACKAGES[cmd]].sort());
    for (const p of pkgs) expect({ name: p.name, version: p.version ?? '(unpinned)' }).toEqual({ name: p.name, version: expect.stringMatching(/^[0-9:][\w.+:~-]*$/) });
    for (const s of stages()) for (const p of aptPackages(s)) expect(p.version).toBeDefined();
  });

  test('runtime copies only the bundle (and what its packages need, and the addon beside it where needed) and runs it as PID 1 with node', () => {
    const r = runtime();
    const copies = r.instrs.filter((i) => i.op === 'COPY' || i.op === 'ADD');
    expect(copies.map((c) => c.args)).toEqual([
      ...(EXTRA_COPIES[cmd] ?? []),
      `--from=build /src/${cmd}/dist/${cmd}.js /bin/${cmd}.js`,
      ...(ADDON.has(cmd) ? [`--from=build /src/${cmd}/dist/nsm_netlink.node /bin/nsm_netlink.node`] : []),
    ]);
    const eps = r.instrs.filter((i) => i.op === 'ENTRYPOINT');
    expect(eps).toHaveLength(1);
    // node with the V8 flags the local runtime runs every command with, then the bundle.
    expect(JSON.parse(eps[0].args)).toEqual(imageEntrypoint(cmd));
    expect(imageEntrypoint(cmd)).toEqual(['node', ...NODE_FLAGS, `/bin/${cmd}.js`]);
    expect(r.instrs.some((i) => i.op === 'CMD')).toBe(false);
  });

  test('the ENTRYPOINT file is what tools/build.mjs produces', () => {
    // tools/build.mjs writes <cmd>/dist/<cmd>.js; the Dockerfile copies exactly that path.
    const build = readFileSync(join(root, 'tools', 'build.mjs'), 'utf8');
    expect(build).toContain("outfile: join(root, cmd, 'dist', `${cmd}.js`)");
    const dist = join(root, cmd, 'dist', `${cmd}.js`);
    if (!existsSync(join(root, cmd, 'src', 'main.ts')) || !existsSync(dist)) {
      console.log(`${cmd}: skipping the bundle-exists check: ${existsSync(join(root, cmd, 'src', 'main.ts')) ? `${dist} is missing (run node tools/build.mjs ${cmd})` : `${cmd}/src/main.ts does not exist yet`}`);
      return;
    }
    expect(readFileSync(dist, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });

  test(`the build stage ${ADDON.has(cmd) ? 'builds the netlink addon with gcc and libc6-dev' : 'needs no C compiler'}`, () => {
    const build = stages()[0];
    const names = aptPackages(build).map((p) => p.name).sort();
    expect(names).toEqual(ADDON.has(cmd) ? ['gcc', 'libc6-dev'] : []);
    const runs = build.instrs.filter((i) => i.op === 'RUN').map((i) => i.args);
    if (ADDON.has(cmd)) expect(runs.some((r) => r.includes(`test -s ${cmd}/dist/nsm_netlink.node`))).toBe(true);
    // What the build really does: the addon is beside a built bundle exactly when the bundle loads it.
    const dist = join(root, cmd, 'dist');
    if (existsSync(join(dist, `${cmd}.js`))) expect(existsSync(join(dist, 'nsm_netlink.node'))).toBe(ADDON.has(cmd));
  });

  test('sets no NODE_OPTIONS (the V8 flags are on the ENTRYPOINT: Node refuses --optimize-for-size there)', () => {
    const envs = runtime().instrs.filter((i) => i.op === 'ENV').map((i) => i.args);
    expect(envs.filter((e) => e.startsWith('NODE_OPTIONS'))).toEqual([]);
  });

  test(`USER is ${NON_ROOT[cmd] ?? 'not set (root)'}`, () => {
    const users = runtime().instrs.filter((i) => i.op === 'USER').map((i) => i.args);
    if (NON_ROOT[cmd]) expect(users).toEqual([NON_ROOT[cmd]]);
    else expect(users).toEqual([]);
  });

  test('carries OCI labels', () => {
    const labels = runtime().instrs.filter((i) => i.op === 'LABEL').map((i) => i.args).join(' ');
    for (const k of ['title', 'description', 'source', 'licenses', 'version', 'revision']) expect(labels).toContain(`org.opencontainers.image.${k}=`);
    expect(labels).toContain(`org.opencontainers.image.title="${cmd}"`);
  });
});
