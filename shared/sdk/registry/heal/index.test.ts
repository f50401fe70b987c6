import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { unavailable } from '../../core/errors';
import { registryChain, registryHandler, RegistryElement } from '../../core/registry';
import { heal } from './index';
import { nseKind } from '../../core/recordkinds';
import { eventually } from '../../testing/registry.suite';

/** A server whose liveness watches can be broken. */
function fakeServer() {
  const s = { registered: [] as string[], watches: new Set<(err: Error) => void>(), down: false, finds: 0 };
  const el: RegistryElement<NetworkServiceEndpoint> = {
    async register(_c, nse) {
      if (s.down) throw unavailable('down');
      s.registered.push(nse.name);
      return nse;
    },
    find(ctx, q) {
      s.finds++;
      if (s.down) return Promise.reject(unavailable('down'));
      if (!q.watch) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const brk = (err: Error) => {
          s.watches.delete(brk);
          reject(err);
        };
        s.watches.add(brk);
        ctx.signal.addEventListener('abort', () => {
          s.watches.delete(brk);
          resolve();
        });
      });
    },
    async unregister() {},
  };
  const crash = () => {
    s.down = true;
    for (const w of [...s.watches]) w(unavailable('connection lost'));
  };
  return { s, el, crash };
}

test('a broken liveness watch re-registers every remembered record until the server is back', async () => {
  const srv = fakeServer();
  const h = heal(nseKind, { retryMs: 10 });
  const top = registryHandler(registryChain(h, srv.el));
  h.setTop(top);
  const ctx = Context.background();
  await top.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'a' }));
  await top.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'b' }));
  await top.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'c' }));
  await top.unregister(ctx, NetworkServiceEndpoint.fromPartial({ name: 'c' }));
  expect(h.monitoring).toBe(true);
  expect(srv.s.watches.size).toBe(1);
  srv.s.registered.length = 0;

  srv.crash();
  await eventually('healing', () => h.healing === 2);
  srv.s.down = false;
  await eventually('healed', () => h.healing === 0);
  expect(srv.s.registered.sort()).toEqual(['a', 'b']);
  await eventually('monitor back', () => srv.s.watches.size === 1);
  h.stop();
  expect(srv.s.watches.size).toBe(0);
});

test('a watch Find is re-opened when it breaks, until the caller cancels', async () => {
  const srv = fakeServer();
  const h = heal(nseKind, { retryMs: 10 });
  const top = registryHandler(registryChain(h, srv.el));
  const { ctx, cancel } = Context.background().withCancel();
  const done = top.find(ctx, { item: NetworkServiceEndpoint.fromPartial({}), watch: true }, () => undefined);
  await eventually('watch', () => srv.s.watches.size === 1);
  srv.crash();
  setTimeout(() => (srv.s.down = false), 50);
  await eventually('re-opened', () => srv.s.watches.size === 1 && !srv.s.down);
  expect(srv.s.finds).toBeGreaterThan(2);
  cancel();
  await expect(done).resolves.toBeUndefined();
  expect(srv.s.watches.size).toBe(0);
});
