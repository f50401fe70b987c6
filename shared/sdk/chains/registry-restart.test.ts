// A central registry that restarts empty gets everything back: the nsmgr notices the lost
// connection and the endpoints registered through it register again (issue 6, registry-restart).
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../core/context';
import { findAll } from '../core/registry';
import { startServer, StartedServer } from '../grpc/server';
import { tempDir } from '../testing';
import { nsmgrRegistry, registrationClient, registryServer } from './registry';

async function eventually(cond: () => Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('after a registry restart, NetworkServices and endpoints are registered again', async () => {
  const tmp = tempDir();
  const registryUrl = `unix://${tmp.dir}/registry.sock`;
  const nsmgrUrl = `unix://${tmp.dir}/nsm.sock`;
  let reg = registryServer();
  let regServer: StartedServer = await startServer([registryUrl], reg.services());
  const mgr = nsmgrRegistry({ nsmgrUrl, registryUrl });
  const mgrServer = await startServer([nsmgrUrl], mgr.services());
  const client = registrationClient({ url: nsmgrUrl, healRetryMs: 50 });
  const ctx = Context.background();
  try {
    await client.ns.register(ctx, NetworkService.fromPartial({ name: 'svc', payload: 'IP' }));
    await client.nse.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'nse-1', networkServiceNames: ['svc'], url: 'unix:///x' }));
    expect(await findAll(reg.ns, ctx, NetworkService.fromPartial({ name: 'svc' }))).toHaveLength(1);

    await regServer.stop(0);
    await reg.close();
    reg = registryServer();
    regServer = await startServer([registryUrl], reg.services());

    await eventually(async () => (await findAll(reg.ns, ctx, NetworkService.fromPartial({ name: 'svc' }))).length === 1);
    await eventually(async () => (await findAll(reg.nse, ctx, NetworkServiceEndpoint.fromPartial({ name: 'nse-1' }))).length === 1);
  } finally {
    await client.close();
    await mgrServer.stop(0);
    await mgr.close();
    await regServer.stop(0);
    await reg.close();
    tmp.cleanup();
  }
});
