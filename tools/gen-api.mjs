// Regenerates shared/api/gen from the .proto files with buf + ts-proto (both from npm).
// `node tools/gen-api.mjs --check` regenerates into a temp dir and fails if the committed code is stale.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const apiDir = join(root, 'shared/api');
const check = process.argv.includes('--check');
const out = check ? mkdtempSync(join(tmpdir(), 'nsm-gen-')) : join(apiDir, 'gen');

const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });

// NetworkService has an RPC named Close, which collides with grpc-js Client.close() in the generated
// client type. We never use that generated client (see shared/sdk/grpc/clients.ts); this keeps the
// type-check clean without hand-editing generated code.
function fixCloseConflict(file) {
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replace('export interface NetworkServiceClient extends Client {', 'export interface NetworkServiceClient extends Omit<Client, "close"> {'));
}

// ts-proto gives every message an empty `_unknownFields` object at creation, and a connection is a
// tree of ~30 messages held in several copies per hop: most of an nsmgr's memory per connection. The
// object is made when a decode first meets an unknown field instead (encode already skips undefined).
function lazyUnknownFields(file) {
  const text = readFileSync(file, 'utf8');
  writeFileSync(
    file,
    text
      .replace(/_unknownFields: \{\}(,?\s*\};)/g, '_unknownFields: undefined$1')
      .replaceAll('const list = message._unknownFields![tag];', 'const list = (message._unknownFields ??= {})[tag];'),
  );
}

try {
  if (!check) rmSync(out, { recursive: true, force: true });
  execFileSync(join(root, 'node_modules/.bin/buf'), ['generate', '--output', check ? out : apiDir], {
    cwd: apiDir,
    stdio: 'inherit',
  });
  fixCloseConflict(join(check ? out : apiDir, 'gen/networkservice.ts'));
  for (const f of files(join(check ? out : apiDir, 'gen'))) if (f.endsWith('.ts')) lazyUnknownFields(f);
  if (check) {
    const fresh = join(out, 'gen');
    const committed = join(apiDir, 'gen');
    const a = files(fresh).map((f) => relative(fresh, f)).sort();
    const b = files(committed).map((f) => relative(committed, f)).sort();
    const stale = a.filter((f) => !b.includes(f) || readFileSync(join(fresh, f), 'utf8') !== readFileSync(join(committed, f), 'utf8'));
    const extra = b.filter((f) => !a.includes(f));
    if (stale.length || extra.length) {
      console.error(`generated API code is stale: ${[...stale, ...extra].join(', ')}; run npm run gen`);
      process.exit(1);
    }
    console.log('generated API code is up to date');
  }
} finally {
  if (check) rmSync(out, { recursive: true, force: true });
}
