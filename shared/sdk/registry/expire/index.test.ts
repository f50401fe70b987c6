import { NetworkServiceEndpoint } from '@nsm/api';
import { FakeClock } from '../../core/clock';
import { fromTimestamp, toTimestamp } from '../../core/conn';
import { Context } from '../../core/context';
import { RegistryElement, registryChain, registryHandler } from '../../core/registry';
import { expire } from './index';
import { serialize } from '../serialize';

function recorder() {
  const calls: string[] = [];
  let failUnregister = 0;
  const el: RegistryElement<NetworkServiceEndpoint> = {
    async register(_ctx, item) {
      calls.push(`register ${item.name}`);
      return item;
    },
    async unregister(_ctx, item) {
      if (failUnregister > 0) {
        failUnregister--;
        throw new Error('store down');
      }
      calls.push(`unregister ${item.name}`);
    },
  };
  return { calls, el, failNext: (n: number) => void (failUnregister = n) };
}

const ctx = Context.background();
const nse = (name: string, at?: number) => NetworkServiceEndpoint.fromPartial({ name, expirationTime: at === undefined ? undefined : toTimestamp(at) });

test('expiration = min(requested, now + max); expiry unregisters through the rest of the chain', async () => {
  const clock = new FakeClock();
  const r = recorder();
  const ex = expire({ maxMs: 60_000, clock });
  const h = registryHandler(registryChain<NetworkServiceEndpoint>(serialize(), ex, r.el));
  const now = clock.now();
  expect(fromTimestamp((await h.register(ctx, nse('a'))).expirationTime)).toBe(now + 60_000);
  expect(fromTimestamp((await h.register(ctx, nse('b', now + 5000))).expirationTime)).toBe(now + 5000);
  expect(fromTimestamp((await h.register(ctx, nse('c', now + 600_000))).expirationTime)).toBe(now + 60_000);
  expect(ex.timers).toBe(3);
  await clock.advance(5000);
  expect(r.calls.filter((c) => c.startsWith('unregister'))).toEqual(['unregister b']);
  await clock.advance(30_000);
  await h.register(ctx, nse('a')); // refresh: a now lives until +95 s
  await clock.advance(25_001);
  expect(r.calls.filter((c) => c.startsWith('unregister'))).toEqual(['unregister b', 'unregister c']);
  await clock.advance(35_000);
  expect(r.calls.filter((c) => c.startsWith('unregister'))).toEqual(['unregister b', 'unregister c', 'unregister a']);
  expect(ex.timers).toBe(0);
  expect(clock.timers).toBe(0);
});

test('Unregister stops the timer; unknown names are still passed on (persistent stores)', async () => {
  const clock = new FakeClock();
  const r = recorder();
  const ex = expire({ clock });
  const h = registryHandler(registryChain<NetworkServiceEndpoint>(ex, r.el));
  await h.register(ctx, nse('a'));
  await h.unregister(ctx, nse('a'));
  await h.unregister(ctx, nse('never'));
  expect(ex.timers).toBe(0);
  await clock.advance(120_000);
  expect(r.calls).toEqual(['register a', 'unregister a', 'unregister never']);
});

test('a failed self-unregister is retried', async () => {
  const clock = new FakeClock();
  const r = recorder();
  const h = registryHandler(registryChain(expire({ clock, maxMs: 1000, retryMs: 500 }), r.el));
  await h.register(ctx, nse('a'));
  r.failNext(1);
  await clock.advance(1000);
  expect(r.calls).toEqual(['register a']);
  await clock.advance(500);
  expect(r.calls).toEqual(['register a', 'unregister a']);
});

test('records found in a store at start-up are adopted', async () => {
  const clock = new FakeClock();
  const r = recorder();
  const ex = expire({ clock, maxMs: 10_000 });
  const adopted = ex.adopt(nse('old', clock.now() + 999_999), registryHandler(r.el));
  expect(fromTimestamp(adopted.expirationTime)).toBe(clock.now() + 10_000);
  await clock.advance(10_000);
  expect(r.calls).toEqual(['unregister old']);
});
