import { formatCidr, networkOf, parseCidr } from './cidr';

describe('cidr', () => {
  it('parses addresses with and without prefix length', () => {
    expect(parseCidr('172.16.1.101/31')).toEqual({ family: 4, ip: '172.16.1.101', len: 31 });
    expect(parseCidr('172.16.1.101')).toEqual({ family: 4, ip: '172.16.1.101', len: 32 });
    expect(parseCidr('fd00::1/64')).toEqual({ family: 6, ip: 'fd00::1', len: 64 });
    for (const bad of ['1.2.3.4/33', 'x/24', '1.2.3.4/', '1.2.3.4/1/2', 'fd00::1/129']) expect(() => parseCidr(bad)).toThrow(/invalid/);
  });

  it('masks host bits', () => {
    expect(formatCidr(networkOf(parseCidr('172.16.1.101/31')))).toBe('172.16.1.100/31');
    expect(formatCidr(networkOf(parseCidr('10.1.2.3/0')))).toBe('0.0.0.0/0');
    expect(formatCidr(networkOf(parseCidr('fd00:1:2:3::5/64')))).toBe('fd00:1:2:3:0:0:0:0/64');
    expect(formatCidr(networkOf(parseCidr('::ffff:10.0.0.1/128')))).toBe('0:0:0:0:0:ffff:a00:1/128');
  });
});
