import { Connection } from '@nsm/api';
import { FakeClock } from '../../core/clock';
import { fromTimestamp, toTimestamp } from '../../core/conn';
import { Code } from '../../core/errors';
import { metadata } from '../../core/metadata';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { bg, conn, req, seg } from '../../testing/elements';
import { beginClient } from '../begin';
import { updatePath } from '../updatepath';
import { refresh, refreshScale } from './index';

test.each([
  [0, 0, 1 / 3],
  [0, 1, 1 / 3],
  [0, 4, 0.2],
  [1, 4, 0.25],
  [2, 4, 0.3],
  [5, 6, 0.2 + 0.2 * (5 / 6)],
])('refreshScale(index %d, %d segments) = %d', (i, n, want) => {
  expect(refreshScale(i, n)).toBeCloseTo(want, 12);
});

/** A next hop that stamps the caller's segment with a token valid for `lifetimeMs` and adds `extra` segments. */
function nextHop(clock: FakeClock, lifetimeMs: number, extra: number) {
  const s = { at: [] as number[], failing: false, noExpiry: false, closes: 0 };
  const el: NetworkServiceElement = {
    async request(_ctx, r) {
      s.at.push(clock.now());
      if (s.failing) throw new Error('nsmgr down');
      const c: Connection = structuredClone(r.connection!);
      const own = c.path!.pathSegments[c.path!.index];
      own.expires = s.noExpiry ? undefined : toTimestamp(clock.now() + lifetimeMs);
      if (c.path!.pathSegments.length === 1) for (let i = 0; i < extra; i++) c.path!.pathSegments.push(seg(`hop${i}`, `h${i}`));
      return c;
    },
    async close() {
      s.closes++;
    },
  };
  return Object.assign(s, { el });
}

function setup(lifetimeMs: number, extra: number) {
  const clock = new FakeClock();
  const hop = nextHop(clock, lifetimeMs, extra);
  const h = handler(chain(updatePath('nsc'), beginClient(), metadata(), refresh(clock), hop.el));
  return { clock, hop, h, t0: clock.now() };
}

describe('refresh', () => {
  test('re-requests at 0.2 of the lifetime for an NSC on a 4-segment path, every time', async () => {
    const s = setup(600_000, 3);
    const out = await s.h.request(bg(), req(conn({ id: 'c' })));
    expect(fromTimestamp(out.path!.pathSegments[0].expires)).toBe(s.t0 + 600_000);
    await s.clock.advance(119_999);
    expect(s.hop.at).toHaveLength(1);
    await s.clock.advance(1);
    await s.clock.advance(120_000);
    expect(s.hop.at.map((t) => t - s.t0)).toEqual([0, 120_000, 240_000]);
  });

  test('uses 1/3 on a single-segment path', async () => {
    const s = setup(90_000, 0);
    await s.h.request(bg(), req(conn({ id: 'c' })));
    await s.clock.advance(30_000);
    expect(s.hop.at.map((t) => t - s.t0)).toEqual([0, 30_000]);
  });

  test('retries a failed refresh every period until it works', async () => {
    const s = setup(100_000, 1);
    await s.h.request(bg(), req(conn({ id: 'c' })));
    s.hop.failing = true;
    await s.clock.advance(20_000);
    await s.clock.advance(20_000);
    s.hop.failing = false;
    await s.clock.advance(20_000);
    expect(s.hop.at.map((t) => t - s.t0)).toEqual([0, 20_000, 40_000, 60_000]);
    await s.clock.advance(20_000);
    expect(s.hop.at).toHaveLength(5);
  });

  test('Close stops refreshing', async () => {
    const s = setup(100_000, 1);
    const out = await s.h.request(bg(), req(conn({ id: 'c' })));
    await s.h.close(bg(), out);
    expect(s.clock.timers).toBe(0);
    await s.clock.advance(200_000);
    expect(s.hop.at).toHaveLength(1);
  });

  test('a returned connection without an expiry is closed and fails INTERNAL', async () => {
    const s = setup(100_000, 1);
    s.hop.noExpiry = true;
    await expect(s.h.request(bg(), req(conn({ id: 'c' })))).rejects.toMatchObject({ code: Code.INTERNAL });
    expect(s.hop.closes).toBe(1);
    expect(s.clock.timers).toBe(0);
  });

  test('an explicit re-request replaces the schedule', async () => {
    const s = setup(100_000, 1);
    const out = await s.h.request(bg(), req(conn({ id: 'c' })));
    await s.clock.advance(10_000);
    await s.h.request(bg(), req(out));
    expect(s.clock.timers).toBe(1);
    await s.clock.advance(10_000);
    expect(s.hop.at.map((t) => t - s.t0)).toEqual([0, 10_000]);
    await s.clock.advance(10_000);
    expect(s.hop.at.map((t) => t - s.t0)).toEqual([0, 10_000, 30_000]);
  });
});
