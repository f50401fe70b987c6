import { Connection } from '@nsm/api';
import { chain, handler, NetworkServiceElement, passThrough, tail } from './networkservice';
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
