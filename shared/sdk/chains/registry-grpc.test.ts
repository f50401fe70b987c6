// The registry gRPC edge (grpc/registry.ts) end to end: clients and a registryServer on real sockets.
import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../core/context';
import { Code, StatusError } from '../core/errors';
import { findAll, registryHandler } from '../core/registry';
import { startServer, StartedServer } from '../grpc/server';
import { tempDir } from '../testing';
import { registryServer, RegistryServer } from './registry';
import { nseRegistryClient, RegistryClient } from '../grpc/registry';
import { endpoint, eventually } from '../testing/registry.suite';

describe('registry gRPC boundary', () => {
  const tmp = tempDir('nsm-reggrpc-');
  let reg: RegistryServer;
  let server: StartedServer;
  let nse: RegistryClient<NetworkServiceEndpoint>;
  beforeAll(async () => {
    reg = registryServer();
    server = await startServer([`unix://${tmp.dir}/r.sock`, 'tcp://127.0.0.1:0'], reg.services());
    nse = nseRegistryClient(server.urls[1]);
    for (let i = 0; i < 50; i++) await nse.register(Context.background(), endpoint(`nse-${String(i).padStart(2, '0')}`, ['svc']));
  });
  afterAll(async () => {
    nse.close();
    await reg.close();
    await server.stop(500);
    tmp.cleanup();
  });

  test('a sink that fails ends the Find on both sides', async () => {
    let n = 0;
    const err = await nse
      .find(Context.background(), { item: NetworkServiceEndpoint.fromPartial({}), watch: true }, async () => {
        if (++n === 3) throw new Error('consumer gone');
      })
      .catch((e) => e);
    expect(err).toEqual(new Error('consumer gone'));
    await eventually('server side over', () => reg.stats.nse.activeFinds === 0 && reg.nseStore.watchers === 0);
  });

  test('the ctx deadline bounds a watch; cancellation ends it without error', async () => {
    const { ctx } = Context.background().withTimeout(200);
    const seen: string[] = [];
    await expect(nse.find(ctx, { item: NetworkServiceEndpoint.fromPartial({}), watch: true }, (r) => void seen.push(r.item.name))).resolves.toBeUndefined();
    expect(seen).toHaveLength(50);
    await eventually('server side over', () => reg.stats.nse.activeFinds === 0);
  });

  test('a watch the server ends is reported as UNAVAILABLE; errors keep their code', async () => {
    const other = registryServer();
    const srv = await startServer([`unix://${tmp.dir}/other.sock`], other.services());
    const c = nseRegistryClient(srv.urls[0]);
    try {
      const watching = c.find(Context.background(), { item: NetworkServiceEndpoint.fromPartial({}), watch: true }, () => undefined).catch((e) => e);
      await eventually('watching', () => other.nseStore.streaming === 1);
      other.nseStore.close(); // as on shutdown
      expect(await watching).toMatchObject({ code: Code.UNAVAILABLE, message: expect.stringMatching(/ended by the server/) });
      const bad = await c.register(Context.background(), NetworkServiceEndpoint.fromPartial({})).catch((e) => e);
      expect(bad).toBeInstanceOf(StatusError);
      expect(bad.code).toBe(Code.INVALID_ARGUMENT);
    } finally {
      await srv.stop(200);
    }
    const gone = await c.register(Context.background(), endpoint('x', ['s'])).catch((e) => e);
    expect(gone.code).toBe(Code.UNAVAILABLE);
    c.close();
    const closed = await c.register(Context.background(), endpoint('x', ['s'])).catch((e) => e);
    expect(closed.code).toBe(Code.UNAVAILABLE);
  });

  test('a registry client is a RegistryHandler: findAll works over it', async () => {
    const h = registryHandler({}, nse);
    const got = await findAll(h, Context.background(), NetworkServiceEndpoint.fromPartial({ name: 'nse-07' }));
    expect(got.map((r) => r.item.name)).toEqual(['nse-07']);
  });
});
