import { FakeClock } from '../core/clock';
import { decodeToken, formatExpires, jwtTokenGenerator, parseExpires } from './index';

describe('jwtTokenGenerator', () => {
  test('an unsigned JWT with sub, exp and (with a peer) aud; expiry = now + lifetime', () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 0, 500));
    const gen = jwtTokenGenerator({ subject: 'spiffe://x/nsc', lifetimeMs: 600_000, clock });
    const t = gen({ id: 'spiffe://x/nsmgr' });
    expect(t.expires).toBe(clock.now() + 600_000);
    expect(t.token.split('.')).toHaveLength(3);
    expect(t.token.endsWith('.')).toBe(true);
    expect(JSON.parse(Buffer.from(t.token.split('.')[0], 'base64url').toString())).toEqual({ alg: 'none', typ: 'JWT' });
    expect(decodeToken(t.token)).toEqual({ sub: 'spiffe://x/nsc', exp: Math.floor((clock.now() + 600_000) / 1000), aud: ['spiffe://x/nsmgr'] });
    expect(decodeToken(gen().token)?.aud).toBeUndefined();
  });
});

test.each(['', 'a.b', 'not-a-jwt', 'a.%%%.c', `x.${Buffer.from('not json').toString('base64url')}.y`])('decodeToken(%j) is undefined', (t) => {
  expect(decodeToken(t)).toBeUndefined();
});

describe('token expiry on the wire (RFC 3339 with nanoseconds)', () => {
  test('formatExpires writes nine fraction digits as Go does', () => {
    expect(formatExpires(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05.678000000Z');
  });

  test.each([
    ['2026-01-02T03:04:05.678000000Z', Date.UTC(2026, 0, 2, 3, 4, 5, 678)],
    ['2026-01-02T03:04:05Z', Date.UTC(2026, 0, 2, 3, 4, 5)],
    ['2026-01-02T03:04:05.123456789Z', Date.UTC(2026, 0, 2, 3, 4, 5, 123)],
    ['2026-01-02T05:04:05.5+02:00', Date.UTC(2026, 0, 2, 3, 4, 5, 500)],
    ['2026-01-01T23:04:05-04:00', Date.UTC(2026, 0, 2, 3, 4, 5)],
  ])('parseExpires(%s)', (s, ms) => expect(parseExpires(s)).toBe(ms));

  test.each(['', 'tomorrow', '2026-01-02', '2026-13-45T99:00:00Z'])('parseExpires(%j) is undefined', (s) => {
    expect(parseExpires(s)).toBeUndefined();
  });

  test('round trip', () => {
    const ms = Date.UTC(2026, 5, 7, 8, 9, 10, 11);
    expect(parseExpires(formatExpires(ms))).toBe(ms);
  });
});
