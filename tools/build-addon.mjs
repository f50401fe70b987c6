// Builds the netlink addon (shared/sdk-kernel/netlink/addon/nsm_netlink.c) into
// shared/sdk-kernel/netlink/addon/build/nsm_netlink.node, and optionally copies it into directories
// given with --copy-to (beside a command's bundle, where the bundle loads it from).
//
// Why a plain C compiler call and not node-gyp: the addon is one C file for one OS, uses only Node-API
// (whose symbols the node binary provides at load time) and libc; node-gyp would add Python and a
// header download (no internet here) for nothing. Node's headers come with Node itself:
// <prefix>/include/node, where <prefix> is two levels above the node binary (/usr, /usr/local).
//
//   node tools/build-addon.mjs [--force] [--copy-to DIR ...]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceFile } from './replace-file.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'shared/sdk-kernel/netlink/addon');
const src = join(dir, 'nsm_netlink.c');
const out = join(dir, 'build/nsm_netlink.node');

const args = process.argv.slice(2);
const force = args.includes('--force');
const copyTo = args.flatMap((a, i) => (a === '--copy-to' && args[i + 1] ? [resolve(args[i + 1])] : []));

const include = process.env.NODE_INCLUDE_DIR ?? join(dirname(dirname(process.execPath)), 'include/node');
if (!existsSync(join(include, 'node_api.h'))) {
  console.error(`build-addon: Node headers not found in ${include} (set NODE_INCLUDE_DIR)`);
  process.exit(1);
}

const stale = force || !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs;
if (stale) {
  mkdirSync(dirname(out), { recursive: true });
  const cc = process.env.CC ?? 'cc';
  // Built beside and renamed, so a process loading the addon never sees a half-written file.
  const tmp = `${out}.${process.pid}.tmp`;
  const flags = ['-std=gnu11', '-O2', '-g', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', '-fPIC', '-shared', '-fvisibility=hidden', `-I${include}`];
  const started = Date.now();
  execFileSync(cc, [...flags, '-o', tmp, src], { stdio: 'inherit' });
  renameSync(tmp, out);
  console.log(`build-addon: ${out} (${Date.now() - started} ms)`);
}
for (const d of copyTo) {
  mkdirSync(d, { recursive: true });
  replaceFile(out, join(d, 'nsm_netlink.node'));
  console.log(`build-addon: copied to ${d}`);
}
