import { FakeClock } from '../../core/clock';
import { Code, deadlineExceeded } from '../../core/errors';
import { metadata } from '../../core/metadata';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, failer, recorder, req, seg } from '../../testing/elements';
import { beginServer } from '../begin';
import { updatePath } from '../updatepath';
import { EXPIRY_CLOSE_ATTEMPTS, EXPIRY_CLOSE_RETRY_MS, timeout } from './index';

/** A hop "me" whose caller "nsc" holds a lease until `expiresAt`. */
function setup() {
  const clock = new FakeClock();
  const begin = beginServer();
  const rec = recorder();
  const f = failer(() => deadlineExceeded('slow'));
  const h = handler(chain(updatePath('me'), begin, metadata(), timeout(clock), rec.el, f.el));
  const request = (expiresAt: number) => h.request(bg(), req(conn({ id: 'A', path: { index: 0, pathSegments: [seg('nsc', 'A', expiresAt)] } })));
  return { clock, begin, rec, f, h, request, t0: clock.now() };
}

describe('timeout', () => {
  test('closes at the previous segment\'s expiry', async () => {
    const s = setup();
    await s.request(s.t0 + 10_000);
    await s.clock.advance(9_999);
    expect(s.rec.closes).toHaveLength(0);
    await s.clock.advance(1);
    expect(s.rec.closes).toHaveLength(1);
    expect(s.rec.closes[0].path!.index).toBe(1);
    expect(s.begin.ids()).toEqual([]);
  });

  test('a refresh moves the expiry', async () => {
    const s = setup();
    const out = await s.request(s.t0 + 10_000);
    await s.clock.advance(5_000);
    out.path!.pathSegments[0].expires = seg('', '', s.t0 + 20_000).expires;
    await s.h.request(bg(), req(out));
    await s.clock.advance(5_000);
    expect(s.rec.closes).toHaveLength(0);
    expect(s.clock.timers).toBe(1);
    await s.clock.advance(10_000);
    expect(s.rec.closes).toHaveLength(1);
  });

  test('an explicit Close cancels the timer', async () => {
    const s = setup();
    const out = await s.request(s.t0 + 10_000);
    await s.h.close(bg(), out);
    expect(s.clock.timers).toBe(0);
    await s.clock.advance(20_000);
    expect(s.rec.closes).toHaveLength(1);
  });

  test('a Close that times out leaves the timer to try again at expiry', async () => {
    const s = setup();
    const out = await s.request(s.t0 + 10_000);
    s.f.closeFailures = 1;
    await expect(s.h.close(bg(), out)).rejects.toThrow('slow');
    expect(s.clock.timers).toBe(1);
  });

  test('an expiry close that fails is tried again, a bounded number of times', async () => {
    const s = setup();
    await s.request(s.t0 + 10_000);
    s.f.closeFailures = 2;
    await s.clock.advance(10_000);
    expect(s.rec.closes).toHaveLength(1);
    await s.clock.advance(EXPIRY_CLOSE_RETRY_MS);
    await s.clock.advance(EXPIRY_CLOSE_RETRY_MS);
    // Two failures, then the third attempt gets through.
    expect(s.rec.closes).toHaveLength(3);
    expect(s.f.closeFailures).toBe(0);
    await s.clock.advance(10 * EXPIRY_CLOSE_RETRY_MS);
    expect(s.rec.closes).toHaveLength(3);
  });

  test('an expiry close that keeps failing gives up after the last attempt', async () => {
    const s = setup();
    await s.request(s.t0 + 10_000);
    s.f.closeFailures = 100;
    await s.clock.advance(10_000);
    for (let i = 0; i < 10; i++) await s.clock.advance(EXPIRY_CLOSE_RETRY_MS);
    expect(s.rec.closes).toHaveLength(EXPIRY_CLOSE_ATTEMPTS);
    expect(s.clock.timers).toBe(0);
  });

  test('a caller without a path of its own gets this hop\'s own lease', async () => {
    const clock = new FakeClock();
    const rec = recorder();
    const h = handler(chain(updatePath('me'), beginServer(), metadata(), timeout(clock), rec.el));
    await h.request(bg(), req(conn({ id: 'A', path: { index: 0, pathSegments: [seg('me', 'A', clock.now() + 3000)] } })));
    await clock.advance(3000);
    expect(rec.closes).toHaveLength(1);
  });

  test('a missing caller expiry is INVALID_ARGUMENT and downstream is undone', async () => {
    const s = setup();
    await expect(s.h.request(bg(), req(conn({ id: 'A', path: { index: 0, pathSegments: [seg('nsc', 'A')] } })))).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: expect.stringMatching(/expiration for the previous path segment/),
    });
    expect(s.rec.closes).toHaveLength(1);
    expect(s.begin.ids()).toEqual([]);
  });

  test('connections expire independently', async () => {
    const s = setup();
    await s.request(s.t0 + 5000);
    await s.h.request(bg(), req(conn({ id: 'X', path: { index: 0, pathSegments: [seg('nsc', 'X', s.t0 + 8000)] } })));
    await s.clock.advance(5000);
    expect(s.begin.ids()).toHaveLength(1);
    await s.clock.advance(3000);
    expect(s.begin.ids()).toHaveLength(0);
  });
});
