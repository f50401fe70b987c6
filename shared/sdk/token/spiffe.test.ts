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

test('the same claims within one second give the same token; another audience or a later second a new one, each valid', async () => {
  const me = await ca.issue('spiffe://nsm.local/nsc', { lifetimeMs: 3_600_000 });
  const a = await ca.issue('spiffe://nsm.local/a', { lifetimeMs: 3_600_000 });
  const b = await ca.issue('spiffe://nsm.local/b', { lifetimeMs: 3_600_000 });
  const clock = new FakeClock(T0);
  const gen = spiffeTokenGenerator({ source: new StaticX509Source(ctx(me)), maxLifetimeMs: 600_000, clock });
  const first = gen({ id: a.id, certificate: a.chain[0] }).token;
  await clock.advance(400);
  expect(gen({ id: a.id, certificate: a.chain[0] }).token).toBe(first);
  const toB = gen({ id: b.id, certificate: b.chain[0] }).token;
  expect(toB).not.toBe(first);
  expect(parseJwt(toB)!.claims.aud).toEqual([b.id]);
  await clock.advance(700);
  const later = gen({ id: a.id, certificate: a.chain[0] }).token;
  expect(later).not.toBe(first);
  expect(parseJwt(later)!.claims.exp).toBe(parseJwt(first)!.claims.exp! + 1);
  for (const t of [first, toB, later]) expect(verifyEs256(t, me.chain[0])).toBe(true);
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

test('a peer that saw an older certificate gets tokens signed with that certificate\'s key while it is valid', async () => {
  const first = await ca.issue('spiffe://nsm.local/nsc', { lifetimeMs: 3_600_000 });
  const second = await ca.issue('spiffe://nsm.local/nsc', { lifetimeMs: 3_600_000 });
  const source = new StaticX509Source(ctx(first));
  const clock = new FakeClock(T0);
  const gen = spiffeTokenGenerator({ source, maxLifetimeMs: 600_000, clock });
  source.set(ctx(second));
  // The old connection presented `first`: the token must verify against it.
  const old = gen({ id: 'spiffe://nsm.local/nsmgr', localCertificate: first.chain[0] }).token;
  expect(verifyEs256(old, first.chain[0])).toBe(true);
  // A new connection (or none) gets the current key.
  expect(verifyEs256(gen({ localCertificate: second.chain[0] }).token, second.chain[0])).toBe(true);
  expect(verifyEs256(gen().token, second.chain[0])).toBe(true);
  // Once the old certificate has expired its key is not used any more.
  await clock.advance(first.notAfter - T0 + 1000);
  expect(verifyEs256(gen({ localCertificate: first.chain[0] }).token, second.chain[0])).toBe(true);
});
