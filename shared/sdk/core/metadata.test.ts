import { createKey } from './context';
import { chain, handler, NetworkServiceElement } from './networkservice';
import { clientMeta, hasMetadata, metadata, serverMeta } from './metadata';
import { bg, conn, failer, req } from '../testing/elements';

const key = createKey<string>('test.value');

/** Stores the request's label "v" in the server half and reports what was there before. */
function store(seen: (string | undefined)[]): NetworkServiceElement {
  return {
    async request(ctx, r, next) {
      seen.push(serverMeta(ctx).get(key));
      serverMeta(ctx).set(key, r.connection!.labels.v);
      return next.request(ctx, r);
    },
    async close(ctx, c, next) {
      seen.push(serverMeta(ctx).get(key));
      return next.close(ctx, c);
    },
  };
}

describe('metadata', () => {
  test('keeps per-connection values across requests and drops them on close', async () => {
    const seen: (string | undefined)[] = [];
    const m = metadata();
    const h = handler(chain(m, store(seen)));
    await h.request(bg(), req(conn({ id: 'a', labels: { v: '1' } })));
    await h.request(bg(), req(conn({ id: 'a', labels: { v: '2' } })));
    await h.request(bg(), req(conn({ id: 'b', labels: { v: 'x' } })));
    expect(m.size()).toBe(2);
    await h.close(bg(), conn({ id: 'a' }));
    expect(m.size()).toBe(1);
    await h.request(bg(), req(conn({ id: 'a', labels: { v: '3' } })));
    expect(seen).toEqual([undefined, '1', undefined, '2', undefined]);
  });

  test('a failed first request leaves no entry; a failed re-request keeps it', async () => {
    const seen: (string | undefined)[] = [];
    const m = metadata();
    const f = failer();
    const h = handler(chain(m, store(seen), f.el));
    f.requestFailures = 1;
    await expect(h.request(bg(), req(conn({ id: 'a', labels: { v: '1' } })))).rejects.toThrow('injected');
    expect(m.size()).toBe(0);
    await h.request(bg(), req(conn({ id: 'a', labels: { v: '2' } })));
    f.requestFailures = 1;
    await expect(h.request(bg(), req(conn({ id: 'a', labels: { v: '3' } })))).rejects.toThrow();
    expect(m.size()).toBe(1);
    expect(seen).toEqual([undefined, undefined, '2']);
  });

  test('close removes the entry even when next fails, and downstream still reads it', async () => {
    const seen: (string | undefined)[] = [];
    const m = metadata();
    const f = failer();
    const h = handler(chain(m, store(seen), f.el));
    await h.request(bg(), req(conn({ id: 'a', labels: { v: '1' } })));
    f.closeFailures = 1;
    await expect(h.close(bg(), conn({ id: 'a' }))).rejects.toThrow();
    expect(m.size()).toBe(0);
    expect(seen).toEqual([undefined, '1']);
    await h.close(bg(), conn({ id: 'never-seen' }));
    expect(seen[2]).toBeUndefined();
  });

  test('an inner metadata element reuses the outer entry; halves are separate', async () => {
    const outer = metadata();
    const inner = metadata();
    let same = false;
    const h = handler(
      chain(
        outer,
        { request: async (ctx, r, next) => (serverMeta(ctx).set(key, 's'), clientMeta(ctx).set(key, 'c'), next.request(ctx, r)) },
        inner,
        { request: async (ctx, r, next) => ((same = serverMeta(ctx).get(key) === 's' && clientMeta(ctx).get(key) === 'c'), next.request(ctx, r)) },
      ),
    );
    await h.request(bg(), req(conn({ id: 'a' })));
    expect(same).toBe(true);
    expect(inner.size()).toBe(0);
  });

  test('accessors fail without a metadata element', () => {
    expect(() => serverMeta(bg())).toThrow(/metadata element/);
    expect(() => clientMeta(bg())).toThrow(/metadata element/);
    expect(hasMetadata(bg())).toBe(false);
  });

  test('Half.take reads and deletes', async () => {
    let got: (string | undefined)[] = [];
    await handler(chain(metadata(), {
      async request(ctx, r, next) {
        const h = serverMeta(ctx);
        h.set(key, 'x');
        got = [h.take(key), h.get(key)];
        return next.request(ctx, r);
      },
    })).request(bg(), req(conn({ id: 'a' })));
    expect(got).toEqual(['x', undefined]);
  });
});
