import { Connection } from '@nsm/api';
import { Code } from '../../core/errors';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { bg, conn, failer, recorder, req } from '../../testing/elements';
import { beginClient, beginServer, EventFactory, eventFactoryKey } from './index';

/** Slow element that tracks concurrency and stamps a call counter into the returned connection. */
function probe(delayMs = 5) {
  const s = { inFlight: 0, max: 0, calls: 0 };
  const el: NetworkServiceElement = {
    async request(ctx, r, next) {
      s.calls++;
      s.inFlight++;
      s.max = Math.max(s.max, s.inFlight);
      await new Promise((res) => setTimeout(res, delayMs));
      s.inFlight--;
      const out = await next.request(ctx, r);
      return { ...out, context: { ...(out.context ?? { ipContext: undefined, dnsContext: undefined, ethernetContext: undefined, MTU: 0 }), extraContext: { ...(out.context?.extraContext ?? {}), n: String(s.calls) } } };
    },
  };
  return Object.assign(s, { el });
}

/** Captures the event factory begin puts in the context. */
function grab() {
  const s: { factory?: EventFactory } = {};
  const el: NetworkServiceElement = {
    async request(ctx, r, next) {
      s.factory = ctx.get(eventFactoryKey);
      return next.request(ctx, r);
    },
  };
  return Object.assign(s, { el });
}

describe('begin (server)', () => {
  test('one operation at a time per id, in arrival order; other ids in parallel', async () => {
    const p = probe(10);
    const order: string[] = [];
    const h = handler(chain(beginServer(), p.el, { request: async (ctx, r, next) => (order.push(r.connection!.labels.n), next.request(ctx, r)) }));
    await Promise.all(['1', '2', '3', '4'].map((n) => h.request(bg(), req(conn({ id: 'same', labels: { n } })))));
    expect(p.max).toBe(1);
    expect(order).toEqual(['1', '2', '3', '4']);
    p.max = 0;
    await Promise.all(['a', 'b', 'c'].map((id) => h.request(bg(), req(conn({ id })))));
    expect(p.max).toBeGreaterThan(1);
  });

  test('rejects an empty connection id', async () => {
    await expect(handler(beginServer()).request(bg(), req(conn()))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  test('a failed first request leaves no state; a failed re-request keeps the established one', async () => {
    const b = beginServer();
    const f = failer();
    const rec = recorder();
    const h = handler(chain(b, f.el, rec.el));
    f.requestFailures = 1;
    await expect(h.request(bg(), req(conn({ id: 'x' })))).rejects.toThrow('injected');
    expect(b.ids()).toEqual([]);
    // Close of an id begin does not know is a no-op.
    await h.close(bg(), conn({ id: 'x' }));
    expect(rec.closes).toHaveLength(0);

    await h.request(bg(), req(conn({ id: 'x', labels: { v: 'good' } })));
    f.requestFailures = 1;
    await expect(h.request(bg(), req(conn({ id: 'x', labels: { v: 'bad' } })))).rejects.toThrow();
    expect(b.ids()).toEqual(['x']);
    // Close acts on the last successfully returned connection, not on what the caller sends.
    await h.close(bg(), conn({ id: 'x', labels: { v: 'caller' } }));
    expect(rec.closes.map((c) => c.labels.v)).toEqual(['good']);
    expect(b.ids()).toEqual([]);
    await h.close(bg(), conn({ id: 'x' }));
    expect(rec.closes).toHaveLength(1);
  });

  test('state is removed even when Close fails downstream', async () => {
    const b = beginServer();
    const f = failer();
    const h = handler(chain(b, f.el));
    await h.request(bg(), req(conn({ id: 'x' })));
    f.closeFailures = 1;
    await expect(h.close(bg(), conn({ id: 'x' }))).rejects.toThrow();
    expect(b.ids()).toEqual([]);
  });

  test('event factory Request re-runs the rest of the chain with the stored connection; Close closes it', async () => {
    const b = beginServer();
    const g = grab();
    const rec = recorder();
    const before = recorder();
    const h = handler(chain(before.el, b, g.el, rec.el));
    const out = await h.request(bg(), req(conn({ id: 'x', labels: { v: '1' } })));
    expect(g.factory?.id).toBe('x');

    await g.factory!.request();
    expect(before.requests).toHaveLength(1); // elements before begin are not re-run
    expect(rec.requests).toHaveLength(2);
    expect(rec.requests[1].connection).toEqual(out);

    await g.factory!.close();
    expect(rec.closes).toEqual([out]);
    expect(b.ids()).toEqual([]);
    // After the close, events do nothing.
    await g.factory!.request();
    expect(rec.requests).toHaveLength(2);
  });

  test('events are skipped when their cancel signal fired, and run with the first request\'s budget', async () => {
    const b = beginServer();
    const g = grab();
    const budgets: (number | undefined)[] = [];
    const h = handler(chain(b, g.el, { request: async (ctx, r, next) => (budgets.push(ctx.remaining()), next.request(ctx, r)) }));
    const { ctx, cancel } = bg().withTimeout(5000);
    await h.request(ctx, req(conn({ id: 'x' })));
    cancel();
    const ac = new AbortController();
    ac.abort();
    await g.factory!.request({ cancel: ac.signal });
    expect(budgets).toHaveLength(1);
    await g.factory!.request();
    expect(budgets).toHaveLength(2);
    expect(budgets[1]).toBeGreaterThan(4000);
    expect(budgets[1]).toBeLessThanOrEqual(5000);
    await g.factory!.close({ cancel: ac.signal });
    expect(b.ids()).toEqual(['x']);
  });

  test('a begin inside an event (factory already in the context) passes through', async () => {
    const inner = beginServer();
    const h = handler(chain(beginServer(), inner));
    await h.request(bg(), req(conn({ id: 'x' })));
    expect(inner.ids()).toEqual([]);
  });

  test('Close waits for a Request in progress and then uses its result', async () => {
    const b = beginServer();
    const p = probe(20);
    const rec = recorder();
    const h = handler(chain(b, p.el, rec.el));
    await h.request(bg(), req(conn({ id: 'x' })));
    const second = h.request(bg(), req(conn({ id: 'x' })));
    const closing = h.close(bg(), conn({ id: 'x' }));
    const out = await second;
    await closing;
    expect(out.context?.extraContext.n).toBe('2');
    expect(rec.closes[0].context?.extraContext.n).toBe('2');
  });

  test('a new first request after Close starts afresh', async () => {
    const b = beginServer();
    const h = handler(chain(b));
    await h.request(bg(), req(conn({ id: 'x' })));
    await h.close(bg(), conn({ id: 'x' }));
    await h.request(bg(), req(conn({ id: 'x' })));
    expect(b.ids()).toEqual(['x']);
  });
});

describe('begin (client)', () => {
  const withCtx = (c: Connection, extra: Record<string, string>) => ({
    ...c,
    context: { ipContext: undefined, dnsContext: undefined, ethernetContext: undefined, MTU: 0, extraContext: extra },
  });

  test('a re-request sends the stored connection; the caller steers only the NSE name and extra context', async () => {
    const rec = recorder();
    const server: NetworkServiceElement = {
      async request(_ctx, r) {
        return { ...withCtx(r.connection!, { ...(r.connection!.context?.extraContext ?? {}), fromServer: '1' }), networkServiceEndpointName: r.connection!.networkServiceEndpointName || 'nse-1' };
      },
    };
    const h = handler(chain(beginClient(), rec.el, server));
    const first = await h.request(bg(), req(conn({ id: 'c', labels: { a: '1' } })));
    expect(first.networkServiceEndpointName).toBe('nse-1');

    await h.request(bg(), req({ ...first, labels: { a: 'changed' }, networkService: 'other' }));
    expect(rec.requests[1].connection).toMatchObject({ labels: { a: '1' }, networkService: 'svc', networkServiceEndpointName: 'nse-1' });

    await h.request(bg(), req({ ...withCtx(first, { mine: 'x' }), networkServiceEndpointName: 'nse-2' }));
    expect(rec.requests[2].connection!.networkServiceEndpointName).toBe('nse-2');
    // Unlike v1.1.1, keys only the caller has are accepted.
    expect(rec.requests[2].connection!.context!.extraContext).toEqual({ mine: 'x' });
  });

  test('reselect closes the old connection first and clears mechanism and NSE name', async () => {
    const g = grab();
    const rec = recorder();
    const server: NetworkServiceElement = {
      async request(_ctx, r) {
        return { ...r.connection!, networkServiceEndpointName: r.connection!.networkServiceEndpointName || 'nse-1', mechanism: { cls: 'LOCAL', type: 'KERNEL', parameters: {} } };
      },
    };
    const h = handler(chain(beginClient(), g.el, rec.el, server));
    await h.request(bg(), req(conn({ id: 'c' })));
    await g.factory!.request({ reselect: true });
    expect(rec.closes).toHaveLength(1);
    expect(rec.closes[0].networkServiceEndpointName).toBe('nse-1');
    expect(rec.requests[1].connection!.networkServiceEndpointName).toBe('');
    expect(rec.requests[1].connection!.mechanism).toBeUndefined();
  });

  test('the server factory ignores reselect', async () => {
    const g = grab();
    const rec = recorder();
    const h = handler(chain(beginServer(), g.el, rec.el));
    await h.request(bg(), req(conn({ id: 's', networkServiceEndpointName: 'nse' })));
    await g.factory!.request({ reselect: true });
    expect(rec.closes).toHaveLength(0);
    expect(rec.requests[1].connection!.networkServiceEndpointName).toBe('nse');
  });
});

describe('begin (server): a caller that gave up', () => {
  test('a first Request answered after the caller cancelled is closed again at once and leaves no state', async () => {
    const b = beginServer();
    const rec = recorder();
    let answer!: () => void;
    const slow: NetworkServiceElement = { request: (ctx, r, next) => new Promise((res) => (answer = () => res(next.request(ctx, r)))) };
    const h = handler(chain(b, slow, rec.el));
    const { ctx, cancel } = bg().withCancel();
    const pending = h.request(ctx, req(conn({ id: 'x' })));
    await new Promise((r) => setTimeout(r, 5));
    cancel();
    answer();
    await expect(pending).rejects.toMatchObject({ code: Code.CANCELLED, message: expect.stringMatching(/caller gave up/) });
    expect(rec.closes.map((c) => c.id)).toEqual(['x']);
    expect(b.ids()).toEqual([]);
  });

  test('a refresh answered after its caller gave up keeps the established connection', async () => {
    const b = beginServer();
    const rec = recorder();
    const h = handler(chain(b, rec.el));
    await h.request(bg(), req(conn({ id: 'x' })));
    const { ctx, cancel } = bg().withCancel();
    cancel();
    await h.request(ctx, req(conn({ id: 'x' })));
    expect(rec.closes).toEqual([]);
    expect(b.ids()).toEqual(['x']);
  });
});
