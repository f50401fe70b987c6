import { NetworkServiceEndpoint } from '@nsm/api';
import { FakeClock } from '../../core/clock';
import { fromTimestamp, toTimestamp } from '../../core/conn';
import { Context } from '../../core/context';
import { registryHandler } from '../../core/registry';
import { setRegistrationTime } from './index';

test('the first registration time is remembered per name until Unregister', async () => {
  const clock = new FakeClock();
  const el = setRegistrationTime(clock);
  const h = registryHandler(el);
  const ctx = Context.background();
  const a = NetworkServiceEndpoint.fromPartial({ name: 'a' });
  const t0 = clock.now();
  expect(fromTimestamp((await h.register(ctx, a)).initialRegistrationTime)).toBe(t0);
  await clock.advance(5000);
  // A refresh that omits the field, or carries another value, still gets the first one.
  expect(fromTimestamp((await h.register(ctx, a)).initialRegistrationTime)).toBe(t0);
  expect(fromTimestamp((await h.register(ctx, { ...a, initialRegistrationTime: toTimestamp(1) })).initialRegistrationTime)).toBe(t0);
  await h.unregister(ctx, a);
  expect(el.size()).toBe(0);
  expect(fromTimestamp((await h.register(ctx, a)).initialRegistrationTime)).toBe(t0 + 5000);
});
