import { Connection } from '@nsm/api';
import { createKey } from './context';
import { Half } from './metadata';
import { chain, closeThenRelease, handler, makeOnce, makeOrUndo, NetworkServiceElement, passThrough, tail } from './networkservice';
import { bg, conn, req } from '../testing/elements';

/** Appends `name` on the way down and `name'` on the way back. */
function tracer(name: string, log: string[]): NetworkServiceElement {
  return {
    async request(ctx, r, next) {
      log.push(name);
      const out = await next.request(ctx, r);
      log.push(`${name}'`);
      return out;
    },
    async close(ctx, c, next) {
      log.push(`close:${name}`);
      return next.close(ctx, c);
    },
  };
}

describe('chain', () => {
  test('runs elements in order and unwinds in reverse', async () => {
    const log: string[] = [];
    await handler(chain(tracer('a', log), tracer('b', log), tracer('c', log))).request(bg(), req(conn()));
    expect(log).toEqual(['a', 'b', 'c', "c'", "b'", "a'"]);
  });

  test('a nested chain splices like its inlined elements and continues into the outer chain', async () => {
    const log: string[] = [];
    const inner = chain(tracer('b', log), tracer('c', log));
    await handler(chain(tracer('a', log), inner, tracer('d', log))).request(bg(), req(conn()));
    expect(log).toEqual(['a', 'b', 'c', 'd', "d'", "c'", "b'", "a'"]);
    log.length = 0;
    await handler(chain(tracer('a', log), inner, tracer('d', log))).close(bg(), conn());
    expect(log).toEqual(['close:a', 'close:b', 'close:c', 'close:d']);
  });

  test('an element is given the same next on every call and for Close, also inside a nested chain: nothing is rebuilt per connection', async () => {
    const seen: NetworkServiceElement[] = [];
    const keeper: NetworkServiceElement = {
      request: (ctx, r, next) => (seen.push(next), next.request(ctx, r)),
      close: (ctx, c, next) => (seen.push(next), next.close(ctx, c)),
    };
    const h = handler(chain(passThrough, chain(keeper, passThrough), passThrough));
    await h.request(bg(), req(conn({ id: '1' })));
    await h.request(bg(), req(conn({ id: '2' })));
    await h.close(bg(), conn({ id: '1' }));
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(1);
  });

  test('missing methods and empty elements pass through', async () => {
    const log: string[] = [];
    const h = handler(chain({}, passThrough, { close: undefined }, tracer('x', log)));
    const c = conn({ id: 'id-1' });
    expect(await h.request(bg(), req(c))).toBe(c);
    await h.close(bg(), c);
    expect(log).toEqual(['x', "x'", 'close:x']);
  });

  test('the tail returns the request connection unchanged and closes successfully', async () => {
    const c = conn({ id: 't' });
    expect(await tail.request(bg(), req(c))).toBe(c);
    await expect(tail.close(bg(), c)).resolves.toBeUndefined();
  });

  test('handler ends in the given last handler', async () => {
    const last = { request: jest.fn(async () => conn({ id: 'from-last' })), close: jest.fn(async () => undefined) };
    const h = handler(chain(passThrough), last);
    expect((await h.request(bg(), req(conn()))).id).toBe('from-last');
    await h.close(bg(), conn());
    expect(last.close).toHaveBeenCalledTimes(1);
  });

  test('an element may call next several times (trying candidates)', async () => {
    let calls = 0;
    const flaky: NetworkServiceElement = {
      async request(ctx, r, next) {
        if (++calls < 3) throw new Error(`attempt ${calls}`);
        return next.request(ctx, r);
      },
    };
    const retrying: NetworkServiceElement = {
      async request(ctx, r, next) {
        for (;;) {
          try {
            return await next.request(ctx, r);
          } catch {
            /* again */
          }
        }
      },
    };
    const out: Connection = await handler(chain(retrying, flaky)).request(bg(), req(conn({ id: 'again' })));
    expect(out.id).toBe('again');
    expect(calls).toBe(3);
  });

  test('one chain instance serves several calls independently', async () => {
    const log: string[] = [];
    const h = handler(chain(tracer('a', log)));
    await Promise.all([h.request(bg(), req(conn({ id: '1' }))), h.request(bg(), req(conn({ id: '2' })))]);
    expect(log.filter((l) => l === 'a')).toHaveLength(2);
  });
});

describe('the dataplane idiom: made after next, undone on failure, released on Close', () => {
  /** A downstream that records its closes, and whether the caller's cancellation reached them. */
  function downstream(log: string[]) {
    return {
      close: jest.fn(async (ctx: ReturnType<typeof bg>, c: Connection) => void log.push(`close ${c.id}${ctx.done ? ' (cancelled)' : ''}`)),
    };
  }

  test('makeOrUndo returns what was made and leaves downstream alone', async () => {
    const log: string[] = [];
    const next = downstream(log);
    await expect(makeOrUndo(bg(), next, conn({ id: 'c1' }), async () => 'port')).resolves.toBe('port');
    expect(log).toEqual([]);
  });

  test('a failure forgets the record, then closes downstream with a copy, then rethrows', async () => {
    const log: string[] = [];
    const next = downstream(log);
    const out = conn({ id: 'c2' });
    const boom = new Error('no device');
    const { ctx, cancel } = bg().withCancel();
    const made = makeOrUndo(ctx, next, out, async () => {
      cancel(); // the caller gave up meanwhile: the undo runs anyway
      throw boom;
    }, { forget: (err) => void log.push(`forget ${(err as Error).message}`) });
    await expect(made).rejects.toBe(boom);
    expect(log).toEqual(['forget no device', 'close c2']);
    expect(next.close.mock.calls[0][1]).not.toBe(out);
    expect(next.close.mock.calls[0][1]).toEqual(out);
  });

  test('undo: false (a failed refresh) keeps downstream; a failing forget does not hide the cause', async () => {
    const log: string[] = [];
    const next = downstream(log);
    const boom = new Error('flows');
    const made = makeOrUndo(bg(), next, conn({ id: 'c3' }), () => Promise.reject(boom), {
      undo: false,
      forget: () => {
        throw new Error('forget failed');
      },
    });
    await expect(made).rejects.toBe(boom);
    expect(log).toEqual([]);
  });

  test('an undo that fails is ignored: the caller sees why making failed', async () => {
    const next = { close: jest.fn(async () => Promise.reject(new Error('downstream gone'))) };
    await expect(makeOrUndo(bg(), next, conn(), () => Promise.reject(new Error('cause')))).rejects.toThrow('cause');
    expect(next.close).toHaveBeenCalledTimes(1);
  });

  test('makeOnce makes and stores once; a refresh keeps the record; a failure stores nothing', async () => {
    const key = createKey<{ n: number }>('test.record');
    const records = new Half();
    const log: string[] = [];
    const next = downstream(log);
    let made = 0;
    const make = async () => ({ n: ++made });
    await makeOnce(bg(), next, conn({ id: 'r' }), records, key, make);
    await makeOnce(bg(), next, conn({ id: 'r' }), records, key, make);
    expect([made, records.get(key)]).toEqual([1, { n: 1 }]);
    const other = new Half();
    await expect(makeOnce(bg(), next, conn({ id: 'f' }), other, key, () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect([other.get(key), log]).toEqual([undefined, ['close f']]);
  });

  test('closeThenRelease closes downstream first and releases even when the close fails', async () => {
    const log: string[] = [];
    await closeThenRelease(bg(), downstream(log), conn({ id: 'k' }), { release: async () => void log.push('release') });
    await closeThenRelease(bg(), downstream(log), conn({ id: 'k2' }), async () => void log.push('release fn'));
    await closeThenRelease(bg(), downstream(log), conn({ id: 'k3' }), undefined);
    const failing = { close: async () => Promise.reject(new Error('close failed')) };
    await expect(closeThenRelease(bg(), failing, conn(), { release: async () => void log.push('released anyway') })).rejects.toThrow('close failed');
    expect(log).toEqual(['close k', 'release', 'close k2', 'release fn', 'close k3', 'released anyway']);
  });
});
