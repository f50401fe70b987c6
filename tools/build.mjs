// Bundles every cmd-*/src/main.ts into cmd-*/dist/<cmd>.js: one file that runs with plain `node`,
// no node_modules beside it (that is what each image ships). A bundle that pulls in test support (a
// testing/ folder, a *.test.ts or *.suite.ts file) fails the build.
import { build } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

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
    }).then(noTestSupport(cmd)),
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
  }).then(noTestSupport('nsm-local'));
}
console.log(`bundled ${cmds.length} command(s) in ${Date.now() - started} ms: ${cmds.join(', ')}`);
