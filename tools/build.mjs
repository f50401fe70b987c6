// Bundles every cmd-*/src/main.ts into cmd-*/dist/<cmd>.js: one file that runs with plain `node`,
// no node_modules beside it (that is what each image ships). A bundle that pulls in test support (a
// testing/ folder, a *.test.ts or *.suite.ts file) fails the build.
//
// A bundle that contains the netlink addon's loader (shared/sdk-kernel/netlink/addon.ts) gets the
// compiled addon, nsm_netlink.node, copied beside it: that is where the loader looks first. Which
// bundles need it is read from esbuild's list of inputs, so nobody has to keep a list.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { replaceFile } from './replace-file.mjs';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const cmds = readdirSync(root)
  .filter((d) => d.startsWith('cmd-') && existsSync(join(root, d, 'src/main.ts')))
  .filter((d) => only.length === 0 || only.includes(d));

/** Fails when a bundle's inputs include test support; returns the result. */
function noTestSupport(name) {
  return (result) => {
    const bad = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/') && /(^|\/)testing\/|\.test\.ts$|\.suite\.ts$/.test(f));
    if (bad.length > 0) throw new Error(`${name} bundles test support: ${bad.join(', ')}`);
    return result;
  };
}

const ADDON_LOADER = 'shared/sdk-kernel/netlink/addon.ts';
const ADDON = join(root, 'shared/sdk-kernel/netlink/addon/build/nsm_netlink.node');
let addonBuilt = false;

/** Copies the addon beside `outfile` when the bundle loads it (building it once, if stale). */
function withAddon(outfile) {
  return (result) => {
    // The inputs of the output file, with what survived tree shaking: a bundle that merely passes by
    // sdk-kernel's index without loading the addon does not need it.
    const used = Object.values(result.metafile.outputs).some((o) => Object.entries(o.inputs).some(([f, i]) => f.endsWith(ADDON_LOADER) && i.bytesInOutput > 0));
    if (!used) return result;
    if (!addonBuilt) {
      execFileSync(process.execPath, [join(root, 'tools/build-addon.mjs')], { stdio: 'inherit' });
      addonBuilt = true;
    }
    replaceFile(ADDON, join(dirname(outfile), 'nsm_netlink.node'));
    return result;
  };
}

const started = Date.now();
await Promise.all(
  cmds.map((cmd) =>
    build({
      entryPoints: [join(root, cmd, 'src/main.ts')],
      outfile: join(root, cmd, 'dist', `${cmd}.js`),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: 'linked',
      tsconfig: join(root, 'tsconfig.json'),
      logLevel: 'warning',
      legalComments: 'none',
      banner: { js: '#!/usr/bin/env node' },
      metafile: true,
    })
      .then(noTestSupport(cmd))
      .then(withAddon(join(root, cmd, 'dist', `${cmd}.js`))),
  ),
);
// The local runtime (not an image): nsm-local, used by `make demo` and the examples.
if (only.length === 0 || only.includes('local')) {
  await build({
    entryPoints: [join(root, 'local/main.ts')],
    outfile: join(root, 'dist-local', 'nsm-local.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    tsconfig: join(root, 'tsconfig.json'),
    logLevel: 'warning',
    legalComments: 'none',
    metafile: true,
  })
    .then(noTestSupport('nsm-local'))
    .then(withAddon(join(root, 'dist-local', 'nsm-local.js')));
}
console.log(`bundled ${cmds.length} command(s) in ${Date.now() - started} ms: ${cmds.join(', ')}`);
