import { Connection, ConnectionEventType as T, State } from '@nsm/api';
import { flushPromises } from '../../core/clock';
import { Code } from '../../core/errors';
import { clientMeta, metadata } from '../../core/metadata';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { NsmConnection } from '../../grpc/clients';
import { startServer, StartedServer } from '../../grpc/server';
import { monitorRegistration } from '../../grpc/services';
import { bg, conn, failer, req, seg, tokenOf } from '../../testing/elements';
import { testIdentity, TestIdentity } from '../../testing/identity';
import { tempDir } from '../../testing';
import { clientConnKey } from '../dial';
import { monitor, MonitorServer, translateDownstream } from './index';

// This hop ("fwd") at index 1 with id B; the next hop has index 2.
const FWD = 'spiffe://nsm.local/fwd';
const ours = () => conn({ id: 'B', path: { index: 1, pathSegments: [seg('nsc', 'A'), seg('fwd', 'B'), seg('nse', 'C')] } });
const theirs = (p: Partial<Connection> & { idx?: number; segs?: ReturnType<typeof seg>[] } = {}) =>
  conn({
    id: 'C',
    state: p.state ?? State.UP,
    context: { ipContext: undefined, dnsContext: undefined, ethernetContext: undefined, MTU: 1400, extraContext: {} },
    // The fwd segment holds the token the next hop stamped from fwd's call: fwd may see it in Monitor.
    path: { index: p.idx ?? 2, pathSegments: p.segs ?? [seg('nsc', 'A'), seg('fwd', 'B', undefined, tokenOf(FWD)), seg('nse', 'C', undefined, 'new-token')] },
  });

describe('translateDownstream (sdk.md §3.8 filter)', () => {
  const cases: [string, Connection, boolean, State | undefined][] = [
    ['next hop\'s own event', theirs(), false, State.UP],
    ['event at our index', theirs({ idx: 1 }), false, State.UP],
    ['DELETE becomes DOWN', theirs(), true, State.DOWN],
    ['DOWN stays DOWN', theirs({ state: State.DOWN }), false, State.DOWN],
    ['too short a path', theirs({ segs: [seg('nsc', 'A')], idx: 0 }), false, undefined],
    ['other connection at our index', theirs({ segs: [seg('nsc', 'A'), seg('fwd', 'X'), seg('nse', 'C')] }), false, undefined],
    ['index too far down', theirs({ idx: 3, segs: [seg('nsc', 'A'), seg('fwd', 'B'), seg('nse', 'C'), seg('x', 'D')] }), false, undefined],
    ['index before ours', theirs({ idx: 0 }), false, undefined],
  ];
  test.each(cases)('%s', (_n, t, deleted, want) => {
    const out = translateDownstream(ours(), t, deleted);
    if (want === undefined) return expect(out).toBeUndefined();
    expect(out).toMatchObject({ id: 'B', state: want, path: { index: 1 }, context: { MTU: 1400 } });
    expect(out!.path!.pathSegments[2].token).toBe('new-token');
  });
});

describe('monitor element', () => {
  test('publishes UPDATE on Request and DELETE on Close, even when Close fails', async () => {
    const m = new MonitorServer();
    const f = failer();
    const h = handler(chain(metadata(), monitor(m), f.el));
    const out = await h.request(bg(), req(ours()));
    expect(m.snapshot()).toEqual([out]);
    f.closeFailures = 1;
    await expect(h.close(bg(), out)).rejects.toThrow();
    expect(m.size).toBe(0);
  });

  test('a failed Request publishes nothing', async () => {
    const m = new MonitorServer();
    const f = failer();
    f.requestFailures = 1;
    await expect(handler(chain(metadata(), monitor(m), f.el)).request(bg(), req(ours()))).rejects.toThrow();
    expect(m.size).toBe(0);
  });

  describe('following the next hop over gRPC', () => {
    const tmp = tempDir();
    let server: StartedServer;
    let down: MonitorServer;
    let cc: NsmConnection;
    let fwdId: TestIdentity;
    let nseId: TestIdentity;
    beforeAll(async () => {
      fwdId = await testIdentity('fwd');
      nseId = await testIdentity('nse');
    });
    const useNextHop: NetworkServiceElement = {
      async request(ctx, r, next) {
        clientMeta(ctx).set(clientConnKey, cc);
        return next.request(ctx, r);
      },
    };

    beforeEach(async () => {
      down = new MonitorServer();
      server = await startServer([`unix://${tmp.dir}/next-${Date.now()}.sock`], [monitorRegistration(down)], { source: nseId.source });
      cc = new NsmConnection(server.urls[0], fwdId.source);
    });
    afterEach(async () => {
      cc.close();
      await server.stop(100);
    });
    afterAll(() => tmp.cleanup());

    test('re-publishes relevant downstream changes in our coordinates and DOWN when the stream breaks', async () => {
      const m = new MonitorServer();
      const h = handler(chain(metadata(), monitor(m, { lingerMs: 50 }), useNextHop));
      const out = await h.request(bg(), req(ours()));
      expect(down.subscriberCount).toBe(1);

      down.publish(T.UPDATE, [theirs()]);
      down.publish(T.UPDATE, [theirs({ segs: [seg('nsc', 'Q'), seg('fwd', 'Other'), seg('nse', 'Z')] })]);
      await waitFor(() => m.snapshot()[0].path!.pathSegments[2].token === 'new-token');
      expect(m.snapshot()).toHaveLength(1);
      expect(m.snapshot()[0]).toMatchObject({ id: 'B', path: { index: 1 }, context: { MTU: 1400 } });

      down.publish(T.DELETE, [theirs()]);
      await waitFor(() => m.snapshot()[0].state === State.DOWN);

      await h.close(bg(), out);
      expect(m.size).toBe(0);
      // The stream outlives its last connection by lingerMs.
      await waitFor(() => down.subscriberCount === 0);
    });

    test('connections to one next hop share one stream; only the first waits for it', async () => {
      const m = new MonitorServer();
      const h = handler(chain(metadata(), monitor(m), useNextHop));
      // fwd's segment holds a token fwd issued: the next hop shows fwd these connections.
      const seg3 = (id: string) => [seg('nsc', `n${id}`), seg('fwd', id, undefined, tokenOf(FWD)), seg('nse', `e${id}`)];
      const a = await h.request(bg(), req(conn({ id: 'B1', path: { index: 1, pathSegments: seg3('B1') } })));
      const b = await h.request(bg(), req(conn({ id: 'B2', path: { index: 1, pathSegments: seg3('B2') } })));
      expect(down.subscriberCount).toBe(1);
      // Each downstream change reaches only the connection it concerns.
      down.publish(T.DELETE, [conn({ id: 'eB2', path: { index: 2, pathSegments: seg3('B2') } })]);
      await waitFor(() => m.snapshot().find((c) => c.id === 'B2')?.state === State.DOWN);
      expect(m.snapshot().find((c) => c.id === 'B1')?.state).not.toBe(State.DOWN);
      await h.close(bg(), a);
      await h.close(bg(), b);
      // Kept for the next connection (lingerMs, default 60 s).
      expect(down.subscriberCount).toBe(1);
    });

    test('a DOWN the next hop reports before the Request returns is not lost; one from before the Request is', async () => {
      const m = new MonitorServer();
      const seg3 = (id: string) => [seg('nsc', `n${id}`), seg('fwd', id, undefined, tokenOf(FWD)), seg('nse', `e${id}`)];
      const downOf = (id: string) => conn({ id: `e${id}`, state: State.DOWN, path: { index: 2, pathSegments: seg3(id) } });
      // The next hop reports the connection DOWN (a hop behind it died) while the reply is on its way.
      const dyingBehind: NetworkServiceElement = {
        async request(ctx, r) {
          const out = r.connection!;
          if (out.id === 'B2') {
            down.publish(T.UPDATE, [downOf('B2')]);
            await new Promise((res) => setTimeout(res, 200));
          }
          return out;
        },
      };
      const h = handler(chain(metadata(), monitor(m), useNextHop, dyingBehind));
      await h.request(bg(), req(conn({ id: 'B1', path: { index: 1, pathSegments: seg3('B1') } })));
      // News about B3 from before its Request (an earlier life of the id) does not count.
      down.publish(T.UPDATE, [downOf('B3')]);
      await new Promise((res) => setTimeout(res, 200));
      await h.request(bg(), req(conn({ id: 'B2', path: { index: 1, pathSegments: seg3('B2') } })));
      await h.request(bg(), req(conn({ id: 'B3', path: { index: 1, pathSegments: seg3('B3') } })));
      expect(down.subscriberCount).toBe(1);
      await waitFor(() => m.snapshot().find((c) => c.id === 'B2')?.state === State.DOWN);
      expect(m.snapshot().find((c) => c.id === 'B3')?.state).not.toBe(State.DOWN);
      expect(m.snapshot().find((c) => c.id === 'B1')?.state).not.toBe(State.DOWN);
    });

    test('a broken downstream stream is reported as DOWN', async () => {
      const m = new MonitorServer();
      await handler(chain(metadata(), monitor(m), useNextHop)).request(bg(), req(ours()));
      await server.stop(0);
      await waitFor(() => m.snapshot()[0]?.state === State.DOWN);
    });

    test('without a reachable next hop monitor the Request fails UNAVAILABLE and is undone', async () => {
      const m = new MonitorServer();
      let closes = 0;
      const gone = new NsmConnection(`unix://${tmp.dir}/nobody.sock`, fwdId.source);
      try {
        const h = handler(
          chain(metadata(), monitor(m), {
            async request(ctx, r, next) {
              clientMeta(ctx).set(clientConnKey, gone);
              return next.request(ctx, r);
            },
            async close() {
              closes++;
            },
          }),
        );
        await expect(h.request(bg(), req(ours()))).rejects.toMatchObject({ code: Code.UNAVAILABLE, message: expect.stringMatching(/unable to monitor/) });
        expect(closes).toBe(1);
        expect(m.size).toBe(0);
      } finally {
        gone.close();
      }
    });
  });
});

async function waitFor(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await flushPromises(1);
    await new Promise((r) => setTimeout(r, 5));
  }
}
