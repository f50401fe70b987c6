import { Code } from '@nsm/sdk/core/errors';
import { ip16, oddVni, VniAllocator } from './vni';

describe('VNI parity rule (api.md §4.4)', () => {
  test('16-byte forms compare IPv4 and IPv6 consistently', () => {
    expect(ip16('10.0.0.1')!.toString('hex')).toBe('00000000000000000000ffff0a000001');
    expect(ip16('2001:db8::1')!.toString('hex')).toBe('20010db8000000000000000000000001');
    expect(ip16('::ffff:10.0.0.1')!.toString('hex')).toBe('00000000000000000000ffff0a000001');
    expect(ip16('nonsense')).toBeUndefined();
  });
  test.each([
    ['10.233.0.11', '10.233.0.12', false],
    ['10.233.0.12', '10.233.0.11', true],
    ['10.233.0.11', '10.233.0.11', false],
    [undefined, '10.233.0.11', false],
    ['10.233.0.11', undefined, true],
    ['fd00::2', '10.0.0.1', true],
  ])('src %s dst %s -> odd=%s', (s, d, odd) => expect(oddVni(s, d)).toBe(odd));
});

describe('VniAllocator', () => {
  test('parity follows the direction, VNIs are unique per source and never 0', () => {
    const draws = [0, 0, 5, 5, 7];
    const a = new VniAllocator(() => draws.shift() ?? 9);
    const v1 = a.allocate('10.0.0.1', '10.0.0.2'); // 0 is skipped
    expect(v1).toBe(10);
    const v2 = a.allocate('10.0.0.1', '10.0.0.2'); // 10 taken for this source
    expect(v2).toBe(14);
    const v3 = a.allocate('10.0.0.3', '10.0.0.2');
    expect(v3 % 2).toBe(1);
  });
  test('a VNI with a device in this namespace is avoided whatever the source', () => {
    const draws = [5, 5, 6];
    const a = new VniAllocator(() => draws.shift()!);
    a.useLocal(10);
    expect(a.allocate('10.0.0.9', '10.0.0.10')).toBe(12);
    expect(a.inUseLocally(10)).toBe(true);
    a.releaseLocal(10);
    expect(a.inUseLocally(10)).toBe(false);
  });
  test('reserve keeps a VNI the request carries; release frees it', () => {
    const a = new VniAllocator();
    expect(a.reserve('10.0.0.1', 42)).toBe(true);
    expect(a.reserve('10.0.0.1', 42)).toBe(false);
    expect(a.reserve('10.0.0.2', 42)).toBe(true);
    a.release('10.0.0.1', 42);
    expect(a.reserve('10.0.0.1', 42)).toBe(true);
  });
  test('no free VNI is RESOURCE_EXHAUSTED (a status the client sees), not an unknown error', () => {
    const a = new VniAllocator(() => 21);
    expect(a.allocate('10.0.0.1', '10.0.0.2')).toBe(42);
    expect(() => a.allocate('10.0.0.1', '10.0.0.2')).toThrow(expect.objectContaining({ code: Code.RESOURCE_EXHAUSTED, message: 'no free VNI for connections from 10.0.0.1' }));
  });
});
