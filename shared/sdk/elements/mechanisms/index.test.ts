import { Mechanism, NetworkServiceRequest } from '@nsm/api';
import { Code } from '../../core/errors';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { bg, conn, recorder, req } from '../../testing/elements';
import { mechanisms } from './index';

const m = (type: string, cls = 'LOCAL') => Mechanism.fromPartial({ cls, type, parameters: {} });

/** A mechanism element that tags the selected mechanism, or fails. */
function mech(tag: string, fail = false) {
  const seen: string[] = [];
  const el: NetworkServiceElement = {
    async request(ctx, r, next) {
      seen.push(r.connection!.mechanism!.type);
      if (fail) throw new Error(`${tag} cannot set up`);
      r.connection!.mechanism!.parameters.by = tag;
      return next.request(ctx, r);
    },
    async close(ctx, c, next) {
      seen.push(`close:${c.mechanism?.type}`);
      return next.close(ctx, c);
    },
  };
  return { el, seen };
}

describe('mechanisms', () => {
  test('picks the first preference this hop supports, and the rest of the chain continues after it', async () => {
    const kernel = mech('kernel');
    const memif = mech('memif');
    const rec = recorder();
    const h = handler(chain(mechanisms({ KERNEL: kernel.el, MEMIF: memif.el }), rec.el));
    const out = await h.request(bg(), req(conn({ id: 'x' }), [m('VFIO'), m('MEMIF'), m('KERNEL')]));
    expect(out.mechanism).toMatchObject({ type: 'MEMIF', parameters: { by: 'memif' } });
    expect(kernel.seen).toEqual([]);
    expect(rec.requests).toHaveLength(1);
  });

  test.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('a type named %s is not supported (no lookup through Object.prototype)', async (type) => {
    const rec = recorder();
    const h = handler(chain(mechanisms({ KERNEL: mech('kernel').el }), rec.el));
    await expect(h.request(bg(), req(conn({ id: 'x' }), [m(type)]))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/cannot support any of the requested mechanisms/) });
    await expect(h.request(bg(), req(conn({ id: 'x', mechanism: m(type) }), []))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/unsupported mechanism/) });
    expect(rec.requests).toHaveLength(0);
  });

  test('a preference that fails to set up falls back to the next one', async () => {
    const kernel = mech('kernel', true);
    const memif = mech('memif');
    const out = await handler(mechanisms({ KERNEL: kernel.el, MEMIF: memif.el })).request(bg(), req(conn({ id: 'x' }), [m('KERNEL'), m('MEMIF')]));
    expect(out.mechanism!.type).toBe('MEMIF');
  });

  test('a failure after the selected element (the rest of the chain, the next hop) is returned as it is, not retried on another mechanism', async () => {
    const wg = mech('wg');
    const vxlan = mech('vxlan');
    let calls = 0;
    const beyond: NetworkServiceElement = {
      async request() {
        calls++;
        throw new Error('failed to dial the endpoint');
      },
    };
    const h = handler(chain(mechanisms({ WIREGUARD: wg.el, VXLAN: vxlan.el }), beyond));
    await expect(h.request(bg(), req(conn({ id: 'x' }), [m('WIREGUARD', 'REMOTE'), m('VXLAN', 'REMOTE')]))).rejects.toThrow('failed to dial the endpoint');
    expect(wg.seen).toEqual(['WIREGUARD']);
    expect(vxlan.seen).toEqual([]);
    expect(calls).toBe(1);
  });

  test('a cancelled call does not go on to the next preference', async () => {
    const kernel = mech('kernel', true);
    const memif = mech('memif');
    const { ctx, cancel } = bg().withCancel();
    cancel();
    await expect(handler(mechanisms({ KERNEL: kernel.el, MEMIF: memif.el })).request(ctx, req(conn({ id: 'x' }), [m('KERNEL'), m('MEMIF')]))).rejects.toThrow('kernel cannot set up');
    expect(memif.seen).toEqual([]);
  });

  test('all failing: one error with each reason; a single usable one keeps its error', async () => {
    const h = handler(mechanisms({ KERNEL: mech('k', true).el, MEMIF: mech('m', true).el }));
    await expect(h.request(bg(), req(conn({ id: 'x' }), [m('KERNEL'), m('MEMIF')]))).rejects.toThrow(/all mechanisms failed: KERNEL: k cannot set up; MEMIF: m cannot set up/);
    await expect(h.request(bg(), req(conn({ id: 'x' }), [m('KERNEL')]))).rejects.toThrow('k cannot set up');
  });

  test.each([
    ['unsupported offers', [m('VXLAN', 'REMOTE'), m('VFIO')], /offered REMOTE\/VXLAN, LOCAL\/VFIO; this hop supports KERNEL, MEMIF/],
    ['nothing offered', [], /offered none; this hop supports KERNEL, MEMIF/],
  ] as [string, Mechanism[], RegExp][])('INVALID_ARGUMENT naming offered and supported: %s', async (_n, prefs, msg) => {
    const h = handler(mechanisms({ KERNEL: mech('k').el, MEMIF: mech('m').el }));
    await expect(h.request(bg(), req(conn({ id: 'x' }), prefs))).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: expect.stringMatching(/cannot support any of the requested mechanisms/),
    });
    await expect(h.request(bg(), req(conn({ id: 'x' }), prefs))).rejects.toThrow(msg);
  });

  test('a refresh keeps the agreed mechanism; an unknown one is refused', async () => {
    const kernel = mech('kernel');
    const memif = mech('memif');
    const h = handler(mechanisms({ KERNEL: kernel.el, MEMIF: memif.el }));
    const r: NetworkServiceRequest = req(conn({ id: 'x', mechanism: m('MEMIF') }), [m('KERNEL')]);
    expect((await h.request(bg(), r)).mechanism!.type).toBe('MEMIF');
    expect(kernel.seen).toEqual([]);
    await expect(h.request(bg(), req(conn({ id: 'x', mechanism: m('SRV6') })))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/unsupported mechanism SRV6/) });
  });

  test('the caller\'s request is not modified by a failed attempt', async () => {
    const r = req(conn({ id: 'x' }), [m('KERNEL'), m('MEMIF')]);
    await handler(mechanisms({ KERNEL: mech('k', true).el, MEMIF: mech('m').el })).request(bg(), r);
    expect(r.connection!.mechanism).toBeUndefined();
  });

  test('Close goes to the connection\'s mechanism element, or straight on', async () => {
    const kernel = mech('kernel');
    const rec = recorder();
    const h = handler(chain(mechanisms({ KERNEL: kernel.el }), rec.el));
    await h.close(bg(), conn({ id: 'x', mechanism: m('KERNEL') }));
    await h.close(bg(), conn({ id: 'y' }));
    expect(kernel.seen).toEqual(['close:KERNEL']);
    expect(rec.closes).toHaveLength(2);
  });
});
