import { Connection, ConnectionEventType as T, State } from '@nsm/api';
import { flushPromises, realClock } from '../../core/clock';
import { clientMeta, metadata } from '../../core/metadata';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { NsmConnection } from '../../grpc/clients';
import { startServer, StartedServer } from '../../grpc/server';
import { monitorRegistration } from '../../grpc/services';
import { tempDir } from '../../testing';
import { bg, conn, req, seg, tokenOf } from '../../testing/elements';
import { testIdentity, TestIdentity } from '../../testing/identity';
import { beginClient } from '../begin';
import { clientConnKey } from '../dial';
import { MonitorServer } from '../monitor';
import { updatePath } from '../updatepath';
import { heal, HealOptions } from './index';

describe('heal (client) against a real monitor stream', () => {
  const tmp = tempDir();
  let server: StartedServer;
  let nsmgr: MonitorServer;
  let cc: NsmConnection;
  let n = 0;
  let nscId: TestIdentity;
  let nsmgrId: TestIdentity;

  beforeAll(async () => {
    nscId = await testIdentity('nsc');
    nsmgrId = await testIdentity('nsmgr');
  });
  beforeEach(async () => {
    nsmgr = new MonitorServer();
    server = await startServer([`unix://${tmp.dir}/nsmgr-${++n}.sock`], [monitorRegistration(nsmgr)], { source: nsmgrId.source });
    cc = new NsmConnection(server.urls[0], nscId.source);
  });
  afterEach(async () => {
    cc.close();
    await server.stop(100);
  });
  afterAll(() => tmp.cleanup());

  /** NSC chain whose "nsmgr" records calls, can fail, and publishes the connection it returns. */
  function setup(opts: HealOptions = {}) {
    const s = { requests: [] as Connection[], closes: [] as Connection[], failing: 0, healed: [] as string[], publish: true, publishState: State.UP };
    const next = cc;
    const nextHop: NetworkServiceElement = {
      async request(ctx, r) {
        clientMeta(ctx).set(clientConnKey, next);
        s.requests.push(structuredClone(r.connection!));
        if (s.failing > 0) {
          s.failing--;
          throw new Error('nsmgr refused');
        }
        const out = structuredClone(r.connection!);
        if (out.path!.pathSegments.length === 1) out.path!.pathSegments.push(seg('nsmgr', 'M'));
        out.networkServiceEndpointName ||= `nse-${s.requests.length}`;
        // As a real nsmgr does before it answers (unless a test wants it not to).
        if (s.publish) nsmgr.publish(T.UPDATE, [asNsmgr(out, s.publishState)]);
        return out;
      },
      async close(_ctx, c) {
        s.closes.push(structuredClone(c));
      },
    };
    const h = handler(chain(updatePath('nsc'), beginClient(), metadata(), heal({ attemptAfterMs: 5, onHealed: (id) => s.healed.push(id), ...opts }), nextHop));
    // Every test ends by closing its connection, which stops all background work.
    const done = () => h.close(bg(), conn({ id: 'nsc-1', path: { index: 0, pathSegments: [seg('nsc', 'nsc-1')] } }));
    return Object.assign(s, { h, done });
  }
  /** The connection as the nsmgr would publish it: its own coordinates. */
  const asNsmgr = (c: Connection, state = State.UP) => {
    const out = { ...structuredClone(c), id: 'M', state, path: { ...structuredClone(c.path!), index: 1 } };
    // The nsmgr stamped the client's token into its segment: what lets the client see it in Monitor.
    out.path.pathSegments[0].token = tokenOf(nscId.id);
    return out;
  };

  test('a DOWN event first re-requests the same path, then reselects (close, then request without NSE name) until it works', async () => {
    const s = setup();
    const out = await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await waitFor(() => nsmgr.subscriberCount === 1);
    s.failing = 2;
    nsmgr.publish(T.UPDATE, [asNsmgr(out, State.DOWN)]);
    await waitFor(() => s.healed.length === 1);
    expect(s.healed).toEqual(['nsc-1']);
    expect(s.requests).toHaveLength(4);
    expect(s.closes.length).toBeGreaterThanOrEqual(1);
    expect(s.closes[0].networkServiceEndpointName).toBe('nse-1');
    // The first heal attempt restores along the same path; the following ones reselect.
    expect(s.requests[1].networkServiceEndpointName).toBe('nse-1');
    expect(s.requests.slice(2).every((r) => r.networkServiceEndpointName === '' && r.mechanism === undefined)).toBe(true);
    // The healed connection is watched again, the old subscription is gone.
    await waitFor(() => nsmgr.subscriberCount === 1);
    await s.done();
    await waitFor(() => nsmgr.subscriberCount === 0);
  });

  test('while the data-path check says the far end answers, failed restores are repeated along the same path: no Close, no reselect', async () => {
    const asked: string[] = [];
    const s = setup({ livenessCheck: async (c) => (asked.push(c.networkServiceEndpointName), true) });
    const out = await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await waitFor(() => nsmgr.subscriberCount === 1);
    s.failing = 4;
    nsmgr.publish(T.UPDATE, [asNsmgr(out, State.DOWN)]);
    await waitFor(() => s.healed.length === 1);
    expect(s.requests).toHaveLength(6);
    expect(s.requests.slice(1).map((r) => r.networkServiceEndpointName)).toEqual(Array(5).fill('nse-1'));
    expect(s.closes).toEqual([]);
    // Asked about the connection as it was, once per attempt.
    expect(asked.length).toBeGreaterThanOrEqual(4);
    expect(new Set(asked)).toEqual(new Set(['nse-1']));
    await s.done();
  });

  test.each([
    ['does not answer', false],
    ['cannot tell (nothing to ask)', undefined],
    ['throws', 'throw'],
  ] as const)('when the data-path check %s, the failed restore is followed by reselects', async (_n, verdict) => {
    const s = setup({
      livenessCheck: async () => {
        if (verdict === 'throw') throw new Error('no ping here');
        return verdict;
      },
    });
    const out = await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await waitFor(() => nsmgr.subscriberCount === 1);
    s.failing = 2;
    nsmgr.publish(T.UPDATE, [asNsmgr(out, State.DOWN)]);
    await waitFor(() => s.healed.length === 1);
    expect(s.requests).toHaveLength(4);
    expect(s.requests[1].networkServiceEndpointName).toBe('nse-1');
    expect(s.requests.slice(2).every((r) => r.networkServiceEndpointName === '' && r.mechanism === undefined)).toBe(true);
    expect(s.closes[0].networkServiceEndpointName).toBe('nse-1');
    await s.done();
  });

  test('a data path that stops answering during the restores ends them: the next attempt reselects, and later ones too', async () => {
    let alive = true;
    const s = setup({ livenessCheck: async () => alive });
    const out = await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await waitFor(() => nsmgr.subscriberCount === 1);
    s.failing = 1000;
    nsmgr.publish(T.UPDATE, [asNsmgr(out, State.DOWN)]);
    await waitFor(() => s.requests.length >= 4);
    expect(s.closes).toEqual([]);
    alive = false;
    await waitFor(() => s.closes.length >= 1);
    // Back alive does not bring restores back: the old path is closed.
    alive = true;
    const at = s.requests.length;
    await waitFor(() => s.requests.length >= at + 3);
    expect(s.requests.slice(at).every((r) => r.networkServiceEndpointName === '')).toBe(true);
    s.failing = 0;
    await waitFor(() => s.healed.length === 1);
    await s.done();
  });

  test('a connection closed while healing is not reported healed, and its attempts stop', async () => {
    const s = setup({ livenessCheck: async () => true });
    const out = await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await waitFor(() => nsmgr.subscriberCount === 1);
    s.failing = 1000;
    nsmgr.publish(T.UPDATE, [asNsmgr(out, State.DOWN)]);
    await waitFor(() => s.requests.length >= 3);
    await s.done();
    const after = s.requests.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(s.healed).toEqual([]);
    // At most the attempt that was already running when the Close came.
    expect(s.requests.length).toBeLessThanOrEqual(after + 1);
  });

  test('UP events and events about other connections are ignored; DELETE heals', async () => {
    const s = setup();
    const out = await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await waitFor(() => nsmgr.subscriberCount === 1);
    nsmgr.publish(T.UPDATE, [asNsmgr(out)]);
    const other = asNsmgr(out, State.DOWN);
    other.path.pathSegments = [seg('nsc', 'someone-else'), seg('nsmgr', 'M')];
    nsmgr.publish(T.UPDATE, [other]);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.requests).toHaveLength(1);
    nsmgr.publish(T.DELETE, [asNsmgr(out)]);
    await waitFor(() => s.healed.length === 1);
    await s.done();
  });

  test('a broken monitor stream heals', async () => {
    const s = setup();
    await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await waitFor(() => nsmgr.subscriberCount === 1);
    s.failing = 1;
    await server.stop(0);
    server = await startServer([server.urls[0]], [monitorRegistration(nsmgr)], { source: nsmgrId.source });
    // While the server is away each new subscription fails at once, which heals again: at least once.
    await waitFor(() => s.healed.length >= 1 && nsmgr.subscriberCount === 1);
    await s.done();
  });

  test('a failing data-path check heals', async () => {
    let alive = true;
    const s = setup({ livenessCheck: async () => alive, livenessIntervalMs: 5 });
    await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await new Promise((r) => setTimeout(r, 30));
    expect(s.healed).toEqual([]);
    alive = false;
    // Each heal starts a new check that still fails until the path is back: at least one heal.
    await waitFor(() => s.healed.length >= 1);
    alive = true;
    await s.done();
  });

  test('a DOWN published before the watch started (in the initial state) heals', async () => {
    const s = setup();
    // The next hop's state turned DOWN between its answer and our subscription.
    s.publishState = State.DOWN;
    await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    s.publishState = State.UP;
    await waitFor(() => s.healed.length === 1);
    await s.done();
  });

  test('a next hop that does not know the connection (restarted before the watch) heals', async () => {
    const s = setup();
    s.publish = false;
    await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    s.publish = true;
    await waitFor(() => s.healed.length === 1);
    await s.done();
  });

  test('a failed re-request (a refresh along a broken path) heals at once: its watch had ended with it', async () => {
    const s = setup();
    const out = await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await waitFor(() => nsmgr.subscriberCount === 1);
    s.failing = 1;
    await expect(s.h.request(bg(), req(out))).rejects.toThrow('nsmgr refused');
    await waitFor(() => s.healed.length === 1);
    expect(s.requests).toHaveLength(3);
    // Watched again after the heal.
    await waitFor(() => nsmgr.subscriberCount === 1);
    await s.done();
  });

  test('a first Request that fails is not healed (its caller retries)', async () => {
    const s = setup();
    s.failing = 1;
    await expect(s.h.request(bg(), req(conn({ id: 'nsc-1' })))).rejects.toThrow('nsmgr refused');
    await new Promise((r) => setTimeout(r, 30));
    expect(s.requests).toHaveLength(1);
    expect(s.healed).toEqual([]);
  });

  test('the time to heal is measured on the injected clock', async () => {
    let t = 0;
    const times: number[] = [];
    const s = setup({ clock: { now: () => (t += 250), after: realClock.after }, onHealed: (_id, ms) => times.push(ms) });
    const out = await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await waitFor(() => nsmgr.subscriberCount === 1);
    nsmgr.publish(T.UPDATE, [asNsmgr(out, State.DOWN)]);
    await waitFor(() => times.length === 1);
    expect(times).toEqual([250]);
    await s.done();
  });

  test('Close stops watching', async () => {
    const s = setup();
    const out = await s.h.request(bg(), req(conn({ id: 'nsc-1' })));
    await waitFor(() => nsmgr.subscriberCount === 1);
    await s.h.close(bg(), out);
    await waitFor(() => nsmgr.subscriberCount === 0);
    nsmgr.publish(T.UPDATE, [asNsmgr(out, State.DOWN)]);
    await new Promise((r) => setTimeout(r, 30));
    expect(s.requests).toHaveLength(1);
  });
});

async function waitFor(cond: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await flushPromises(1);
    await new Promise((r) => setTimeout(r, 5));
  }
}
