import * as grpc from '@grpc/grpc-js';
import { Connection, ConnectionEventType, NetworkServiceRequest } from '@nsm/api';
import { Context } from '../core/context';
import { handler, NetworkServiceElement } from '../core/networkservice';
import { fromTimestamp } from '../core/conn';
import { startServer, StartedServer } from '../grpc/server';
import { NsmConnection, rpcClose, rpcRequest, monitorStream } from '../grpc/clients';
import { decodeToken, TokenGenerator } from '../token';
import { parseJwt } from '../token/jwt';
import { policy } from '../policy';
import { serverPolicies } from '../policy/builtin';
import { clientRequest, tempDir, newRequest } from '../testing';
import { testIdentity, TestIdentity } from '../testing/identity';
import { endpoint, Endpoint } from './endpoint';
import { client } from './client';

/** Records how many calls are inside the chain at once, and can be slowed down. */
function probe(delayMs: number) {
  const state = { inFlight: 0, maxInFlight: 0, calls: 0 };
  const el: NetworkServiceElement = {
    async request(ctx, req, next) {
      state.calls++;
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      await new Promise((r) => setTimeout(r, delayMs));
      state.inFlight--;
      return next.request(ctx, req);
    },
  };
  return { el, state };
}

describe('endpoint chain over real gRPC', () => {
  const tmp = tempDir();
  let server: StartedServer;
  let ep: Endpoint;
  const p = probe(30);
  let nscId: TestIdentity;
  let nscTokens: TokenGenerator;

  beforeAll(async () => {
    nscId = await testIdentity('nsc', { maxTokenLifetimeMs: 60_000 });
    nscTokens = nscId.tokens;
    const nse = await testIdentity('nse', { maxTokenLifetimeMs: 120_000 });
    ep = endpoint({ name: 'nse', tokens: nse.tokens, additional: [p.el] });
    server = await startServer([`unix://${tmp.dir}/nse.sock`, 'tcp://127.0.0.1:0'], ep.services(), { source: nse.source });
  });
  afterAll(async () => {
    await server.stop();
    tmp.cleanup();
  });

  for (const transport of ['unix', 'tcp'] as const) {
    test(`Request and Close through a client chain over ${transport}`, async () => {
      const url = server.urls.find((u) => u.startsWith(transport))!;
      const nsc = handler(client({ name: 'nsc', url, tokens: nscTokens, source: nscId.source, refresh: false }));
      const ctx = Context.background();
      const before = Date.now();
      const conn = await nsc.request(ctx, newRequest({ id: `conn-${transport}` }));

      expect(conn.id).toBe(`conn-${transport}`);
      expect(conn.path!.index).toBe(0);
      expect(conn.path!.pathSegments.map((s) => s.name)).toEqual(['nsc', 'nse']);
      const [nscSeg, nseSeg] = conn.path!.pathSegments;
      expect(nscSeg.id).toBe(conn.id);
      expect(nseSeg.id).toMatch(/^[0-9a-f-]{36}$/);
      // The NSC's token came through the call metadata; the NSE stamped its own.
      expect(decodeToken(nscSeg.token)?.sub).toBe('spiffe://nsm.local/nsc');
      expect(decodeToken(nseSeg.token)?.sub).toBe('spiffe://nsm.local/nse');
      // Each token names the other end of its hop.
      expect(decodeToken(nscSeg.token)?.aud).toEqual(['spiffe://nsm.local/nse']);
      expect(decodeToken(nseSeg.token)?.aud).toEqual(['spiffe://nsm.local/nsc']);
      const nscExp = fromTimestamp(nscSeg.expires)!;
      const nseExp = fromTimestamp(nseSeg.expires)!;
      expect(nscExp).toBeGreaterThanOrEqual(before + 59_000);
      expect(nscExp).toBeLessThanOrEqual(Date.now() + 60_000);
      expect(nseExp - nscExp).toBeGreaterThan(55_000);
      expect(ep.begin.ids()).toContain(nseSeg.id);

      // A refresh keeps the endpoint's segment id.
      const again = await nsc.request(ctx, { connection: conn, mechanismPreferences: [] });
      expect(again.path!.pathSegments[1].id).toBe(nseSeg.id);

      await nsc.close(ctx, again);
      expect(ep.begin.ids()).not.toContain(nseSeg.id);
      expect(ep.monitor.snapshot().map((c) => c.id)).not.toContain(nseSeg.id);
    });
  }

  test('concurrent operations on one connection id are serialized, other ids run in parallel', async () => {
    const cc = new NsmConnection(server.urls[0], nscId.source);
    const ctx = Context.background();
    try {
      const first = await rpcRequest(ctx, cc, clientRequest('same'), nscTokens);
      p.state.maxInFlight = 0;
      await Promise.all(Array.from({ length: 5 }, () => rpcRequest(ctx, cc, { connection: first, mechanismPreferences: [] }, nscTokens)));
      expect(p.state.maxInFlight).toBe(1);

      p.state.maxInFlight = 0;
      const others = await Promise.all(Array.from({ length: 4 }, (_, i) => rpcRequest(ctx, cc, clientRequest(`other-${i}`), nscTokens)));
      expect(p.state.maxInFlight).toBeGreaterThan(1);
      for (const c of [first, ...others]) await rpcClose(ctx, cc, c, nscTokens);
      expect(ep.begin.ids()).toEqual([]);
    } finally {
      cc.close();
    }
  });

  describe('malformed requests get INVALID_ARGUMENT naming the field, and the server keeps serving', () => {
    const cases: [string, NetworkServiceRequest, RegExp][] = [
      ['no connection', { connection: undefined, mechanismPreferences: [] }, /request\.connection is required/],
      ['empty network service', newRequest({ networkService: '' }), /network_service must not be empty/],
      [
        'path index out of range',
        newRequest({ id: 'x', path: { index: 5, pathSegments: [{ name: 'nsc', id: 'x', token: '', expires: undefined, metrics: {} }] } }),
        /path\.index 5 is out of range/,
      ],
      [
        'id that does not match its segment',
        newRequest({ id: 'y', path: { index: 0, pathSegments: [{ name: 'nsc', id: 'x', token: '', expires: undefined, metrics: {} }] } }),
        /connection\.id "y" must equal/,
      ],
      ['mechanism without a type', newRequest({ id: 'z' }, [{ cls: 'LOCAL' }]), /mechanism_preferences\[0\]\.type/],
    ];
    test.each(cases)('%s', async (_name, req, message) => {
      const cc = new NsmConnection(server.urls[1], nscId.source);
      try {
        await expect(rpcRequest(Context.background(), cc, req, nscTokens)).rejects.toMatchObject({
          code: grpc.status.INVALID_ARGUMENT,
          message: expect.stringMatching(message),
        });
        const ok = await rpcRequest(Context.background(), cc, clientRequest('after-bad'), nscTokens);
        await rpcClose(Context.background(), cc, ok, nscTokens);
      } finally {
        cc.close();
      }
    });
  });

  test('MonitorConnections starts with the initial state and reports updates and deletes', async () => {
    const cc = new NsmConnection(server.urls[0], nscId.source);
    const { ctx, cancel } = Context.background().withCancel();
    const events: { type: ConnectionEventType; ids: string[] }[] = [];
    const done = monitorStream(ctx, cc, { pathSegments: [], networkServices: [] }, (ev) =>
      events.push({ type: ev.type, ids: Object.keys(ev.connections) }),
    );
    try {
      await waitFor(() => events.length === 1);
      expect(events[0]).toEqual({ type: ConnectionEventType.INITIAL_STATE_TRANSFER, ids: [] });
      const conn: Connection = await rpcRequest(Context.background(), cc, clientRequest('watched'), nscTokens);
      await rpcClose(Context.background(), cc, conn, nscTokens);
      const nseId = conn.path!.pathSegments[1].id;
      await waitFor(() => events.length === 3);
      expect(events.slice(1)).toEqual([
        { type: ConnectionEventType.UPDATE, ids: [nseId] },
        { type: ConnectionEventType.DELETE, ids: [nseId] },
      ]);
    } finally {
      cancel();
      await done;
      cc.close();
    }
    await waitFor(() => ep.monitor.subscriberCount === 0);
  });
});

describe('MonitorConnections over gRPC shows a caller only the connections whose path holds its identity', () => {
  const tmp = tempDir();
  let server: StartedServer;
  let ids: Record<'a' | 'b' | 'c' | 'nse', TestIdentity>;

  beforeAll(async () => {
    ids = { a: await testIdentity('nsc-a'), b: await testIdentity('nsc-b'), c: await testIdentity('nsc-c'), nse: await testIdentity('nse') };
    const ep = endpoint({ name: 'nse', tokens: ids.nse.tokens });
    server = await startServer([`unix://${tmp.dir}/nse.sock`], ep.services(), { source: ids.nse.source });
  });
  afterAll(async () => {
    await server.stop();
    tmp.cleanup();
  });

  /** The connection ids a caller is shown in the initial state of an unfiltered MonitorConnections. */
  async function shown(who: TestIdentity): Promise<string[]> {
    const cc = new NsmConnection(server.urls[0], who.source);
    const { ctx, cancel } = Context.background().withCancel();
    let ids: string[] | undefined;
    const done = monitorStream(ctx, cc, { pathSegments: [], networkServices: [] }, (ev) => (ids ??= Object.keys(ev.connections).sort()));
    try {
      await waitFor(() => ids !== undefined);
      return ids!;
    } finally {
      cancel();
      await done;
      cc.close();
    }
  }

  test('two clients each see their own connection, a third sees none', async () => {
    const opened: [NsmConnection, Connection, TokenGenerator][] = [];
    for (const [who, id] of [[ids.a, 'conn-a'], [ids.b, 'conn-b']] as const) {
      const cc = new NsmConnection(server.urls[0], who.source);
      opened.push([cc, await rpcRequest(Context.background(), cc, clientRequest(id), who.tokens), who.tokens]);
    }
    const nseIdOf = (i: number) => opened[i][1].path!.pathSegments[1].id;
    try {
      expect(await shown(ids.a)).toEqual([nseIdOf(0)]);
      expect(await shown(ids.b)).toEqual([nseIdOf(1)]);
      expect(await shown(ids.c)).toEqual([]);
    } finally {
      for (const [cc, conn, tokens] of opened) {
        await rpcClose(Context.background(), cc, conn, tokens);
        cc.close();
      }
    }
  });
});

test('a deployment adds a policy through the options, without touching the chain: denial names it, nothing runs', async () => {
  const tmp = tempDir();
  const [a, b, nse] = [await testIdentity('nsc-a'), await testIdentity('nsc-b'), await testIdentity('nse')];
  const onlyA = policy('only_nsc_a', (i) => parseJwt(i.segments[0]?.token ?? '')?.claims.sub === a.id);
  const p = probe(0);
  const ep = endpoint({ name: 'nse', tokens: nse.tokens, policies: [...serverPolicies, onlyA], additional: [p.el] });
  const server = await startServer([`unix://${tmp.dir}/nse.sock`], ep.services(), { source: nse.source });
  const [ca, cb] = [new NsmConnection(server.urls[0], a.source), new NsmConnection(server.urls[0], b.source)];
  try {
    const ok = await rpcRequest(Context.background(), ca, clientRequest('from-a'), a.tokens);
    await expect(rpcRequest(Context.background(), cb, clientRequest('from-b'), b.tokens)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      message: expect.stringContaining('policy only_nsc_a denied'),
    });
    expect(p.state.calls).toBe(1);
    expect(ep.begin.ids()).toEqual([ok.path!.pathSegments[1].id]);
    await rpcClose(Context.background(), ca, ok, a.tokens);
  } finally {
    ca.close();
    cb.close();
    await server.stop();
    tmp.cleanup();
  }
});

async function waitFor(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
