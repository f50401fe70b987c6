// Runs TypeScript directly: `node --import=./tools/register-ts.mjs some/file.ts`.
// Every .ts file is compiled on load with esbuild's transform (to CommonJS, as tsconfig.json says),
// and `@nsm/*` resolves to shared/* like the tsconfig path alias. No type checking (that is tsc's job).
//   * CommonJS side: a require hook for .ts and the alias.
//   * ESM side: a tiny loader hook that hands a .ts entry point to the CommonJS loader.
import Module, { register } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

const shared = fileURLToPath(new URL('../shared/', import.meta.url));

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request.startsWith('@nsm/')) request = join(shared, request.slice('@nsm/'.length));
  return resolveFilename.call(this, request, parent, ...rest);
};

Module._extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: filename,
    tsconfigRaw: { compilerOptions: { esModuleInterop: true, useDefineForClassFields: true } },
  });
  module._compile(code, filename);
};

const hooks = `export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) return { format: 'commonjs', shortCircuit: true };
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
