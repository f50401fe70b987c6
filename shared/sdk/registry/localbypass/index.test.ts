import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { findAll, registryChain, registryHandler } from '../../core/registry';
import { localBypass } from './index';

const ctx = Context.background();
const NSMGR = 'tcp://10.0.0.1:5001';

test('upstream sees the nsmgr URL; the caller and Finds see the real one; stale self-references are dropped', async () => {
  const upstream: NetworkServiceEndpoint[] = [];
  const unregistered: string[] = [];
  const lb = localBypass(NSMGR);
  const h = registryHandler(
    registryChain(lb, {
      async register(_c, nse) {
        upstream.push(nse);
        return nse;
      },
      async find(_c, _q, sink) {
        for (const nse of upstream) await sink({ item: nse, deleted: false });
        await sink({ item: NetworkServiceEndpoint.fromPartial({ name: 'stale', url: NSMGR }), deleted: false });
        await sink({ item: NetworkServiceEndpoint.fromPartial({ name: 'other', url: 'tcp://10.0.0.9:5001' }), deleted: false });
      },
      async unregister(_c, nse) {
        unregistered.push(`${nse.name} ${nse.url}`);
      },
    }),
  );
  const out = await h.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'unix:///a.sock' }));
  expect(out.url).toBe('unix:///a.sock');
  expect(upstream[0].url).toBe(NSMGR);
  const found = await findAll(h, ctx, NetworkServiceEndpoint.fromPartial({}));
  expect(found.map((r) => `${r.item.name} ${r.item.url}`)).toEqual(['a unix:///a.sock', 'other tcp://10.0.0.9:5001']);
  await h.unregister(ctx, NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'unix:///a.sock' }));
  await h.unregister(ctx, NetworkServiceEndpoint.fromPartial({ name: 'unknown' }));
  expect(unregistered).toEqual([`a ${NSMGR}`]);
  expect(lb.size()).toBe(0);
});

test('a failed first Register forgets the URL', async () => {
  const lb = localBypass(NSMGR);
  const h = registryHandler(registryChain(lb, { register: async () => Promise.reject(new Error('no')) }));
  await expect(h.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'unix:///a' }))).rejects.toThrow('no');
  expect(lb.size()).toBe(0);
});
