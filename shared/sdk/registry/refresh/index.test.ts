import { NetworkServiceEndpoint } from '@nsm/api';
import { FakeClock } from '../../core/clock';
import { fromTimestamp, toTimestamp } from '../../core/conn';
import { Context } from '../../core/context';
import { registryChain, registryHandler } from '../../core/registry';
import { refresh } from './index';
import { serialize } from '../serialize';

const ctx = Context.background();

/** A registry that grants `grantMs` and can be made to fail. */
function fakeRegistry(clock: FakeClock, grantMs: number) {
  const state = { calls: [] as { at: number; requested?: number }[], failing: false };
  return {
    state,
    el: {
      async register(_c: Context, nse: NetworkServiceEndpoint) {
        state.calls.push({ at: clock.now(), requested: fromTimestamp(nse.expirationTime) });
        if (state.failing) throw new Error('registry down');
        const at = Math.min(fromTimestamp(nse.expirationTime) ?? Infinity, clock.now() + grantMs);
        return { ...nse, expirationTime: toTimestamp(at) };
      },
    },
  };
}

test('re-registers at 2/3 of the remaining time, without an expiration when none was asked for', async () => {
  const clock = new FakeClock();
  const reg = fakeRegistry(clock, 60_000);
  const r = refresh({ clock });
  const h = registryHandler(registryChain(serialize(), r, reg.el));
  const t0 = clock.now();
  await h.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'a' }));
  await clock.advance(40_000);
  await clock.advance(40_000);
  expect(reg.state.calls.map((c) => c.at - t0)).toEqual([0, 40_000, 80_000]);
  expect(reg.state.calls.every((c) => c.requested === undefined)).toBe(true);
  await h.unregister(ctx, NetworkServiceEndpoint.fromPartial({ name: 'a' }));
  expect(r.tasks).toBe(0);
  await clock.advance(100_000);
  expect(reg.state.calls).toHaveLength(3);
});

test('asks for the same lifetime again when one was requested', async () => {
  const clock = new FakeClock();
  const reg = fakeRegistry(clock, 60_000);
  const h = registryHandler(registryChain(serialize(), refresh({ clock }), reg.el));
  const t0 = clock.now();
  await h.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'a', expirationTime: toTimestamp(t0 + 9000) }));
  await clock.advance(6000);
  expect(reg.state.calls.map((c) => [c.at - t0, c.requested! - t0])).toEqual([
    [0, 9000],
    [6000, 15_000],
  ]);
});

test('keeps going after a failed refresh', async () => {
  const clock = new FakeClock();
  const reg = fakeRegistry(clock, 30_000);
  const r = refresh({ clock, retryMs: 1000 });
  const h = registryHandler(registryChain(serialize(), r, reg.el));
  const t0 = clock.now();
  await h.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'a' }));
  reg.state.failing = true;
  await clock.advance(20_000); // refresh at +20 s fails; retry after a third of the 10 s left
  expect(reg.state.calls).toHaveLength(2);
  await clock.advance(3334);
  expect(reg.state.calls).toHaveLength(3);
  reg.state.failing = false;
  await clock.advance(30_000);
  const ats = reg.state.calls.map((c) => c.at - t0);
  expect(ats.length).toBeGreaterThanOrEqual(5);
  expect(r.tasks).toBe(1);
});
