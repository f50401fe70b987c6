import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  isCidr,
  isDnsName,
  isEndpointUrl,
  isFileUrl,
  isGoBool,
  isIfName,
  isIpLiteral,
  isMac,
  isPort,
  isPortRange,
  isWireguardKey,
  kernelAcceptsIfName,
} from './formats';

const table = (fn: (s: string) => boolean, cases: [string, boolean][]) =>
  test.each(cases)('%j → %s', (s, want) => expect(fn(s)).toBe(want));

describe('IP literals', () =>
  table(isIpLiteral, [
    ['192.0.2.1', true],
    ['fd00::1', true],
    ['::ffff:192.0.2.1', true],
    ['192.0.2.1\nnetns add X #', false],
    ['192.0.2.1 ', false],
    [' 192.0.2.1', false],
    ['fe80::1%eth0', false],
    ['192.0.2.1/32', false],
    ['[fd00::1]', false],
    ['01.2.3.4', false],
    ['1.2.3', false],
    ['', false],
    ['localhost', false],
  ]));

describe('prefixes', () =>
  table(isCidr, [
    ['10.0.0.0/8', true],
    ['fd00::/64', true],
    ['10.0.0.1/32', true],
    ['10.0.0.1/33', false],
    ['fd00::/129', false],
    ['10.0.0.1/08', false],
    ['10.0.0.1/-1', false],
    ['10.0.0.1', false],
    ['10.0.0.1/8 dev eth0', false],
  ]));

describe('ports and ranges', () => {
  table(isPort, [
    ['4789', true],
    ['1', true],
    ['65535', true],
    ['0', false],
    ['65536', false],
    ['+80', false],
    ['80 ', false],
    ['1e3', false],
    ['0x50', false],
  ]);
  test.each([
    ['80', true],
    ['80-90', true],
    ['90-80', false],
    ['0-10', false],
    ['80-', false],
  ])('range %j → %s', (s, want) => expect(isPortRange(s)).toBe(want));
});

describe('booleans as Go parses them', () => table(isGoBool, [['true', true], ['T', true], ['0', true], ['False', true], ['yes', false], ['tRUE', false], ['', false]]));

describe('MAC addresses', () => table(isMac, [['02:fe:00:00:00:01', true], ['02:FE:00:00:00:01', true], ['02-fe-00-00-00-01', false], ['02:fe:00:00:00', false], ['02:fe:00:00:00:01\n', false]]));

describe('WireGuard keys', () =>
  table(isWireguardKey, [
    [Buffer.alloc(32, 7).toString('base64'), true],
    [Buffer.alloc(31, 7).toString('base64'), false],
    [Buffer.alloc(33, 7).toString('base64'), false],
    [`${Buffer.alloc(32, 7).toString('base64')}\nendpoint=1.2.3.4:5`, false],
    [Buffer.alloc(32, 7).toString('base64url'), false],
    // Same 32 bytes once decoded, but the padding bits are not zero: no tool writes that.
    [`${Buffer.alloc(32, 7).toString('base64').slice(0, 42)}d=`, false],
    ...Array.from({ length: 20 }, () => [randomBytes(32).toString('base64'), true] as [string, boolean]),
  ]));

describe('DNS names', () => table(isDnsName, [['example.com', true], ['a.b.c.', true], ['-a.com', false], ['a..b', false], ['a b', false], ['a'.repeat(64), false]]));

describe('interface names: the kernel rule (dev_valid_name), less control characters', () => {
  test.each([
    ['nsm-1', true],
    ['a'.repeat(15), true],
    ['a'.repeat(16), false],
    ['', false],
    ['.', false],
    ['..', false],
    ['...', true],
    ['a/b', false],
    ['a:b', false],
    ['a b', false],
    ['a\tb', false],
    ['a\nb', false],
    ['a\vb', false],
    ['#x', true],
    ['a;rm', true],
    ['ñ', true],
    // "à" is C3 A0 in UTF-8, and the kernel's isspace() is true for 0xA0.
    ['à', false],
    // Fifteen bytes, but eight characters: bytes count.
    ['ééééééé', true],
    ['éééééééé', false],
  ])('%j: kernel %s', (s, want) => expect(kernelAcceptsIfName(s)).toBe(want));
  test.each([['nsm-1', true], ['a\u0001b', false], ['a\u007fb', false], ['a\u202eb', false], ['a\u0085', false], ['a\ufeff', false]])('%j: ours %s', (s, want) => expect(isIfName(s)).toBe(want));

  // The kernel itself is the oracle where we can ask it (root, veth pairs in a throwaway namespace).
  const root = process.getuid?.() === 0;
  (root ? test : test.skip)('agrees with the kernel', () => {
    const ns = `nsm-ifname-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      for (const name of ['nsm-1', '#x', 'a;rm', 'a:b', 'a b', 'à', 'ééééééé', 'éééééééé', '...', '.', 'a'.repeat(16)]) {
        let kernel: boolean;
        try {
          execFileSync('ip', ['-n', ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', 'peer0'], { stdio: 'ignore' });
          execFileSync('ip', ['-n', ns, 'link', 'del', name], { stdio: 'ignore' });
          kernel = true;
        } catch {
          kernel = false;
        }
        expect([name, kernelAcceptsIfName(name)]).toEqual([name, kernel]);
      }
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });
});

describe('namespace URLs', () =>
  table((s) => isFileUrl(s, 512), [
    ['file:///proc/123/ns/net', true],
    ['file:///proc/thread-self/ns/net', true],
    ['file:///var/run/netns/k2k1-nsc', true],
    ['inode://4/4026532000', true],
    ['file:///proc/1/ns/../ns/net', false],
    ['file:///proc/1//ns/net', false],
    ['file://host/proc/1/ns/net', false],
    ['file:///var/run/netns/x%0anetns', false],
    ['file:///var/run/netns/a b', false],
    ['file:///var/run/netns/x?y', false],
    ['file:///var/run/netns/x#y', false],
    ['file:///var/run/netns/x\n', false],
    ['inode://4/abc', false],
    ['inode://4/1/2', false],
    ['http:///proc/1/ns/net', false],
    ['/proc/1/ns/net', false],
    [`file:///${'a'.repeat(600)}`, false],
  ]));

describe('endpoint URLs', () =>
  table((s) => isEndpointUrl(s, 512), [
    ['unix:///var/lib/networkservicemesh/nsm.io.sock', true],
    ['unix:///tmp/nsm-local/x/.local-run/nse.sock', true],
    ['tcp://10.233.0.2:5001', true],
    ['tcp://[fd00::1]:5001', true],
    ['tcp://nsmgr.example:5001', true],
    ['tcp://:5001', true],
    ['10.0.0.1:5001', true],
    ['inode://4/55', true],
    ['unix://relative.sock', false],
    ['unix:///a/../b', false],
    ['tcp://10.0.0.1', false],
    ['tcp://10.0.0.1:99999', false],
    ['tcp://a b:1', false],
    ['tcp://[fe80::1%eth0]:1', false],
    ['http://x:1', false],
  ]));
