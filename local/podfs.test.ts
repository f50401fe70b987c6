import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meshPaths } from './paths';
import { hasPodFiles, podArgv, podResolvConf, preparePodFiles } from './podfs';

const root = process.getuid?.() === 0;
const HOST = '/etc/resolv.conf';

(root ? describe : describe.skip)('a pod\'s own resolver file (needs root: mount namespaces)', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'podfs-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  test('the pod sees and writes its own copy; the host\'s file never changes; arguments stay arguments', () => {
    const paths = meshPaths('podfs', base);
    const hostBefore = readFileSync(HOST);
    preparePodFiles(paths, 'p');
    expect(hasPodFiles(paths, 'p')).toBe(true);
    expect(hasPodFiles(paths, 'node1')).toBe(false);
    expect(readFileSync(podResolvConf(paths, 'p'))).toEqual(hostBefore);

    const marker = join(base, 'injected');
    // What a client does to the pod's resolver: rewrite it in place. The last two arguments would run
    // a command if any shell read them as text.
    const argv = podArgv(paths, 'p', ['sh', '-c', 'printf "nameserver 192.0.2.53\\n" > /etc/resolv.conf; cat /etc/resolv.conf; printf "%s|%s" "$1" "$2"', 'sh', `$(touch ${marker})`, `; touch ${marker}`]);
    const out = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    expect(out).toBe(`nameserver 192.0.2.53\n$(touch ${marker})|; touch ${marker}`);
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(podResolvConf(paths, 'p'), 'utf8')).toBe('nameserver 192.0.2.53\n');
    expect(readFileSync(HOST)).toEqual(hostBefore);
  });
});
