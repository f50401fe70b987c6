import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@nsm/api';
import { pingCheck } from './liveness';

const to = (...dstIpAddrs: string[]) => Connection.fromPartial({ context: { ipContext: { dstIpAddrs } } });
const isRoot = process.getuid?.() === 0;

(isRoot ? describe : describe.skip)('a real ping, in a namespace of its own with only lo', () => {
  const ns = `nsc-live-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'nsc-live-'));
  const wrapper = join(dir, 'ping');
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ping "$@"\n`);
    chmodSync(wrapper, 0o755);
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('an address that answers is alive; one of several that does not makes the path dead', async () => {
    const check = pingCheck(200, wrapper);
    await expect(check(to('127.0.0.1/32'))).resolves.toBe(true);
    await expect(check(to('127.0.0.1/32', '::1/128'))).resolves.toBe(true);
    await expect(check(to('127.0.0.1/32', '10.255.255.1/32'))).resolves.toBe(false);
  });
});

test('what is not an IP address never reaches ping: cannot tell', async () => {
  // A ping that would say "alive" for anything: only the refusal can make these undefined.
  for (const bad of ['-f', '--help/32', '127.0.0.1 -f', '127.0.0.1-f/32', 'example.com']) {
    await expect(pingCheck(200, '/bin/true')(to(bad))).resolves.toBeUndefined();
  }
  await expect(pingCheck(200, '/bin/true')(to('127.0.0.1/32'))).resolves.toBe(true);
});

test('no address to ping, or no ping to run: cannot tell', async () => {
  await expect(pingCheck(200)(to())).resolves.toBeUndefined();
  await expect(pingCheck(200, '/nonexistent/ping')(to('127.0.0.1/32'))).resolves.toBeUndefined();
});
