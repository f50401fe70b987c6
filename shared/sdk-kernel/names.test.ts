import { deriveIfName, hostIfName, isValidIfName, tempIfName, TEMP_IF_PREFIX } from './names';

describe('interface names', () => {
  it('derives stable, distinct, 15-char names from connection ids', () => {
    const a = hostIfName('5f0c1d2a-1111-2222-3333-444455556666', 'src');
    expect(a).toMatch(/^tapsrc-[0-9a-f]{8}$/);
    expect(hostIfName('5f0c1d2a-1111-2222-3333-444455556666', 'src')).toBe(a);
    // Same first 8 characters, different ids: upstream's prefix scheme would clash here.
    expect(hostIfName('5f0c1d2a-1111-2222-3333-000000000000', 'src')).not.toBe(a);
    expect(hostIfName('5f0c1d2a-1111-2222-3333-444455556666', 'dst')).toMatch(/^tapdst-/);
    expect(deriveIfName('v', 'x')).toHaveLength(15);
    expect(() => deriveIfName('Bad!', 'x')).toThrow(/prefix/);
  });

  it('makes random temporary names with a recognisable prefix', () => {
    const t = tempIfName();
    expect(t.startsWith(TEMP_IF_PREFIX)).toBe(true);
    expect(t).toHaveLength(15);
    expect(tempIfName()).not.toBe(t);
  });

  it('validates names', () => {
    expect(isValidIfName('nsm-1')).toBe(true);
    for (const bad of ['', 'a'.repeat(16), 'a b', 'a/b', 'a:b', '.', '..', 'a"b']) expect(isValidIfName(bad)).toBe(false);
  });
});
