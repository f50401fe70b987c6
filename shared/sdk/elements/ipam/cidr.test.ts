import { addressOf, addressText, contains, hostPrefix, normalizePrefixes, parsePrefix } from './cidr';

describe('cidr', () => {
  test.each([
    ['10.0.0.0/30', false, 167772160n, 167772163n],
    ['10.0.0.5/30', false, 167772164n, 167772167n],
    ['192.168.1.1/32', false, 3232235777n, 3232235777n],
    ['fd00::/126', true, 0xfd000000000000000000000000000000n, 0xfd000000000000000000000000000003n],
  ])('parsePrefix(%s)', (text, v6, start, end) => {
    expect(parsePrefix(text)).toEqual({ v6, start, end, bits: v6 ? 128 : 32, text });
  });

  test.each(['10.0.0.0', 'nonsense/8', '10.0.0.0/33', 'fd00::/129', ''])('parsePrefix rejects %j', (text) => {
    expect(() => parsePrefix(text)).toThrow(/CIDR prefix/);
  });

  test('address text and host prefixes', () => {
    expect(addressText(false, 167772161n)).toBe('10.0.0.1');
    expect(hostPrefix(false, 167772161n)).toBe('10.0.0.1/32');
    expect(hostPrefix(true, 0xfd000000000000000000000000000001n)).toBe('fd00::1/128');
  });

  test('contains checks family and range', () => {
    const p = parsePrefix('10.0.0.0/30');
    expect(contains(p, false, 167772163n)).toBe(true);
    expect(contains(p, false, 167772164n)).toBe(false);
    expect(contains(p, true, 167772160n)).toBe(false);
  });

  test('addressOf parses with or without a length', () => {
    expect(addressOf('10.0.0.1/32')).toEqual({ v6: false, n: 167772161n });
    expect(addressOf('10.0.0.1')).toEqual({ v6: false, n: 167772161n });
    expect(addressOf('fd00::2/128')).toEqual({ v6: true, n: 0xfd000000000000000000000000000002n });
    expect(addressOf('bogus')).toBeUndefined();
  });

  test.each([
    [['10.0.0.0/24', '10.0.1.0/24'], ['10.0.0.0/23']],
    [['10.0.0.1/32', '10.0.0.2/32'], ['10.0.0.1/32', '10.0.0.2/32']],
    [['10.0.0.1/32', '10.0.0.2/32', '10.0.0.3/32', '10.0.0.4/32'], ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/32']],
    [['0.0.0.0/0', '10.0.0.0/8'], ['0.0.0.0/0']],
    [['fd00::1/128', '10.0.0.0/8', 'fd00::/127'], ['10.0.0.0/8', 'fd00::/127']],
    [[], []],
  ])('normalizePrefixes(%j)', (input, want) => expect(normalizePrefixes(input)).toEqual(want));
});
