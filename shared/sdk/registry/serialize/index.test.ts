import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { registryChain, registryHandler } from '../../core/registry';
import { executorKey, serialize } from './index';

test('calls for one name run one at a time in order; other names run in parallel', async () => {
  const log: string[] = [];
  let inFlight = 0;
  let max = 0;
  const h = registryHandler(
    registryChain<NetworkServiceEndpoint>(serialize(), {
      async register(ctx, item) {
        expect(ctx.get(executorKey)).toBeDefined();
        inFlight++;
        max = Math.max(max, inFlight);
        await new Promise((r) => setTimeout(r, item.url === 'slow' ? 30 : 5));
        log.push(`${item.name}:${item.url}`);
        inFlight--;
        return item;
      },
    }),
  );
  const ctx = Context.background();
  const a = (url: string) => NetworkServiceEndpoint.fromPartial({ name: 'a', url });
  await Promise.all([h.register(ctx, a('slow')), h.register(ctx, a('1')), h.unregister(ctx, a('2')), h.register(ctx, a('3'))]);
  expect(log).toEqual(['a:slow', 'a:1', 'a:3']);
  expect(max).toBe(1);
  max = 0;
  await Promise.all(['x', 'y', 'z'].map((name) => h.register(ctx, NetworkServiceEndpoint.fromPartial({ name, url: 'slow' }))));
  expect(max).toBe(3);
});

test('a failure does not block the queue', async () => {
  let n = 0;
  const h = registryHandler(
    registryChain<NetworkServiceEndpoint>(serialize(), {
      async register(_ctx, item) {
        if (n++ === 0) throw new Error('boom');
        return item;
      },
    }),
  );
  const ctx = Context.background();
  const item = NetworkServiceEndpoint.fromPartial({ name: 'a' });
  const [first, second] = await Promise.allSettled([h.register(ctx, item), h.register(ctx, item)]);
  expect(first.status).toBe('rejected');
  expect(second.status).toBe('fulfilled');
});
