// The shipped definitions (defs.ts) against the complete .api.json set of the VPP 25.02 runtime kept
// beside the repository: every message, type, union, enum and alias the client uses, with its CRC.
// Needs only the runtime's tarball (no root, no running VPP); skips with the reason where it is absent.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '@nsm/sdk-kernel/exec';
import { apiDefsFromJson } from './codec';
import { VPP_DEFS } from './defs';
import { vppRuntimeDir } from './testing/realvpp';

const tarball = join(vppRuntimeDir(), 'vpp-v25.02-x86_64.tar.xz');
const suite = existsSync(tarball) ? describe : describe.skip;
if (!existsSync(tarball)) console.warn(`[real VPP] definitions check skipped: no VPP runtime tarball at ${tarball} (set NSM_VPP_RUNTIME)`);

suite('shipped definitions against the VPP 25.02 runtime', () => {
  let tmp = '';
  afterAll(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  it('every definition the client ships equals the runtime .api.json', async () => {
    tmp = mkdtempSync('/tmp/nsmvppapi-');
    await exec(['tar', '-xJf', tarball, '-C', tmp, '--wildcards', 'vpp-v25.02/share/vpp/api/*'], { timeoutMs: 120_000 });
    const root = join(tmp, 'vpp-v25.02/share/vpp/api');
    const files = ['core', 'plugins'].flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith('.api.json')).map((f) => JSON.parse(readFileSync(join(root, d, f), 'utf8')) as unknown));
    const json = apiDefsFromJson(files);
    for (const [name, def] of Object.entries(VPP_DEFS.messages)) expect([name, def]).toEqual([name, json.messages[name]]);
    for (const k of ['types', 'unions', 'enums', 'aliases'] as const) for (const [name, def] of Object.entries(VPP_DEFS[k])) expect([k, name, def]).toEqual([k, name, json[k][name]]);
  });
});
