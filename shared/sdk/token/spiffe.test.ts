import { FakeClock } from '../core/clock';
import { Code } from '../core/errors';
import { LocalCa } from '../spiffe/ca';
import { StaticX509Source } from '../spiffe/source';
import type { X509Svid } from '../spiffe/svid';
import { parseJwt, verifyEs256 } from './jwt';
import { spiffeTokenGenerator } from './spiffe';

let ca: LocalCa;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const ctx = (svid: X509Svid) => ({ svid, svids: [svid], bundles: new Map([[ca.trustDomain, ca.bundle()]]) });
beforeAll(async () => {
  ca = await LocalCa.create({ now: () => T0 });
});

test('sub = own ID, aud = [peer ID], exp = now + max lifetime when the certificates last longer; expires = exp', async () => {
  const me = await ca.issue('spiffe://nsm.local/nsc', { lifetimeMs: 3_600_000 });
  const peer = await ca.issue('spiffe://nsm.local/nsmgr', { lifetimeMs: 3_600_000 });
  const clock = new FakeClock(T0 + 500);
  const gen = spiffeTokenGenerator({ source: new StaticX509Source(ctx(me)), maxLifetimeMs: 600_000, clock });
  const t = gen({ id: peer.id, certificate: peer.chain[0] });
  const claims = parseJwt(t.token)!.claims;
  expect(claims).toEqual({ sub: 'spiffe://nsm.local/nsc', aud: ['spiffe://nsm.local/nsmgr'], exp: Math.floor((T0 + 500 + 600_000) / 1000) });
  expect(t.expires).toBe(claims.exp! * 1000);
  expect(verifyEs256(t.token, me.chain[0])).toBe(true);
  expect(parseJwt(gen().token)!.claims.aud).toBeUndefined();
});

test('exp is capped by the own SVID NotAfter and by the peer certificate NotAfter', async () => {
  const shortMe = await ca.issue('spiffe://nsm.local/nsc', { lifetimeMs: 120_000 });
  const longMe = await ca.issue('spiffe://nsm.local/nsc', { lifetimeMs: 3_600_000 });
  const shortPeer = await ca.issue('spiffe://nsm.local/nsmgr', { lifetimeMs: 60_000 });
  const clock = new FakeClock(T0);
  const a = spiffeTokenGenerator({ source: new StaticX509Source(ctx(shortMe)), maxLifetimeMs: 600_000, clock })();
  expect(a.expires).toBe(shortMe.notAfter);
  const b = spiffeTokenGenerator({ source: new StaticX509Source(ctx(longMe)), maxLifetimeMs: 600_000, clock })({ id: shortPeer.id, certificate: shortPeer.chain[0] });
  expect(b.expires).toBe(shortPeer.notAfter);
  expect(parseJwt(b.token)!.claims.exp).toBe(shortPeer.notAfter / 1000);
});

test('after a rotation tokens are signed with the new key', async () => {
  const first = await ca.issue('spiffe://nsm.local/nsc');
  const second = await ca.issue('spiffe://nsm.local/nsc');
  const source = new StaticX509Source(ctx(first));
  const gen = spiffeTokenGenerator({ source, maxLifetimeMs: 600_000, clock: new FakeClock(T0) });
  expect(verifyEs256(gen().token, first.chain[0])).toBe(true);
  source.set(ctx(second));
  const t = gen().token;
  expect(verifyEs256(t, second.chain[0])).toBe(true);
  expect(verifyEs256(t, first.chain[0])).toBe(false);
});

test('without an SVID there is no token: UNAVAILABLE', () => {
  const gen = spiffeTokenGenerator({ source: new StaticX509Source(), maxLifetimeMs: 600_000 });
  expect(() => gen()).toThrow(expect.objectContaining({ code: Code.UNAVAILABLE }));
});
