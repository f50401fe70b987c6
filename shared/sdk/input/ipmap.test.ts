import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpMapFile, ipSwap, parseIpMap } from './ipmap';

test('parses upstream\'s map-ip format both ways', () => {
  const map = parseIpMap('10.233.0.11: 192.168.233.11\n"fd00::1": "2001:db8::1"\n');
  expect([...map]).toEqual([
    ['10.233.0.11', '192.168.233.11'],
    ['fd00::1', '2001:db8::1'],
  ]);
  const swap = ipSwap(map);
  expect([swap.toExternal('10.233.0.11'), swap.toInternal('192.168.233.11'), swap.toExternal('10.0.0.9')]).toEqual(['192.168.233.11', '10.233.0.11', undefined]);
  expect(parseIpMap('').size).toBe(0);
});

test.each([
  ['node1: 192.168.0.1', /key: "node1" is not an IP address/],
  ['10.0.0.1: example.com', /\[10\.0\.0\.1\]: "example.com" is not an IP address/],
  ['10.0.0.1: 5', /is not an IP address/],
  ['10.0.0.1: "2001:db8::1"', /same IP family/],
  ['- 10.0.0.1', /must be a map/],
  ['10.0.0.1: [', /is not YAML/],
])('refuses %j', (text, why) => {
  expect(() => parseIpMap(text)).toThrow(why);
});

test('two internal addresses behind one external one are refused', () => {
  expect(() => ipSwap(parseIpMap('10.0.0.1: 192.0.2.1\n10.0.0.2: 192.0.2.1'))).toThrow(/192\.0\.2\.1 is the external address of both/);
});

test('the map file is re-read when it changes; a bad change keeps the last good map', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipmap-'));
  const path = join(dir, 'map-ip.yaml');
  writeFileSync(path, '10.0.0.1: 192.0.2.1\n');
  const errors: string[] = [];
  const file = new IpMapFile(path, (e) => errors.push(e.message), 20);
  try {
    expect(file.toExternal('10.0.0.1')).toBe('192.0.2.1');
    await new Promise((r) => setTimeout(r, 100)); // the watch's first stat
    writeFileSync(path, '10.0.0.1: 192.0.2.7\n');
    await waitFor(() => file.toExternal('10.0.0.1') === '192.0.2.7');
    writeFileSync(path, '10.0.0.1: nope\n');
    await waitFor(() => errors.length > 0);
    expect(file.toExternal('10.0.0.1')).toBe('192.0.2.7');
  } finally {
    file.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitFor(f: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(f()).toBe(true);
}
