import { readFileSync } from 'node:fs';
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { NetworkServiceEndpoint } from '@nsm/api';
import { Code, codeOf } from '@nsm/sdk/core/errors';
import { describeRegistryStore, recorder, sampleEndpoint, sampleService, StoreFixture } from '@nsm/sdk/testing/store.suite';
import { FakeApiServer } from './testing/fake-apiserver';
import { CRD_FILES, realClusterFixture, realClusterSkipReason } from './testing/real-cluster';
import { k8sNetworkServiceEndpointStore, k8sNetworkServiceStore, K8sStoreOptions } from './store';

const NS = 'nsm-test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fakeFixture(server?: FakeApiServer, opts: K8sStoreOptions = {}): Promise<StoreFixture & { server: FakeApiServer }> {
  const srv = server ?? (await FakeApiServer.start());
  const kc = srv.kubeConfig();
  const ns = k8sNetworkServiceStore(kc, { namespace: NS, backoffMs: 20, ...opts });
  const nse = k8sNetworkServiceEndpointStore(kc, { namespace: NS, backoffMs: 20, ...opts });
  return {
    ns,
    nse,
    server: srv,
    activeWatches: () => srv.openWatches,
    cleanup: async () => {
      await ns.close();
      await nse.close();
      await srv.close();
    },
  };
}

describeRegistryStore('Kubernetes custom resources on the fake API server', () => fakeFixture());

const skip = realClusterSkipReason();
if (skip) {
  describe('RegistryStore conformance: real cluster', () => {
    it.skip(`not run: ${skip}`, () => undefined);
  });
  console.info(`sdk-k8s: real-cluster store tests skipped: ${skip}`);
} else {
  describeRegistryStore('Kubernetes custom resources on $KUBECONFIG', realClusterFixture);
}

it.each(CRD_FILES)('%s goes through the client unchanged (as the real-cluster fixture installs it)', (file) => {
  const text = readFileSync(file, 'utf8');
  expect(parse(dumpYaml(loadYaml(text)))).toEqual(parse(text));
});

describe('K8sRegistryStore on the fake API server', () => {
  let f: Awaited<ReturnType<typeof fakeFixture>>;
  beforeEach(async () => {
    f = await fakeFixture(await FakeApiServer.start({ historyLimit: 4 }));
  });
  afterEach(() => f.cleanup());

  const listCalls = () => f.server.requests.filter((r) => r.method === 'GET' && !r.watch && r.path.endsWith('/networkserviceendpoints')).length;

  it('keeps each record as a custom resource in its namespace', async () => {
    const nse = await f.nse.put(sampleEndpoint('nse-a'));
    const [cr] = f.server.stored('networkserviceendpoints', NS);
    expect(cr).toMatchObject({ apiVersion: 'networkservicemesh.io/v1', kind: 'NetworkServiceEndpoint', metadata: { name: 'nse-a', namespace: NS } });
    expect(cr.spec.network_service_names).toEqual(nse.networkServiceNames);
    expect(f.server.stored('networkserviceendpoints', 'default')).toEqual([]);
    await f.ns.put(sampleService('svc'));
    expect(f.server.stored('networkservices', NS)[0].spec).toMatchObject({ name: 'svc', payload: 'ETHERNET' });
  });

  it('lets a generated name come from metadata.generateName', async () => {
    const nse = await f.nse.put(sampleEndpoint(''));
    const [cr] = f.server.stored('networkserviceendpoints', NS);
    expect(cr.metadata).toMatchObject({ name: nse.name, generateName: 'nse-' });
    expect(nse.name).toMatch(/^nse-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('maps API failures onto gRPC codes', async () => {
    expect(codeOf(await f.nse.put(sampleEndpoint('Not_A_DNS_Name')).catch((e) => e))).toBe(Code.INVALID_ARGUMENT);
    const dead = await FakeApiServer.start();
    const store = k8sNetworkServiceStore(dead.kubeConfig(), { namespace: NS });
    await dead.close();
    expect(codeOf(await store.list().catch((e) => e))).toBe(Code.UNAVAILABLE);
  });

  it('retries a 409 Conflict between two writers by reading again', async () => {
    const other = await fakeFixture(f.server);
    await f.nse.put(sampleEndpoint('shared', 0));
    // Hold the first PUT until the other writer has read and written, so the first one is stale.
    let holding!: () => void;
    const firstHeld = new Promise<void>((r) => (holding = r));
    let releaseFirst!: () => void;
    const otherDone = new Promise<void>((r) => (releaseFirst = r));
    f.server.onRequest = async (info) => {
      if (info.method !== 'PUT' || f.server.onRequest === undefined) return;
      f.server.onRequest = undefined;
      holding();
      await otherDone;
    };
    const first = f.nse.put({ ...sampleEndpoint('shared', 0), url: 'tcp://first:5001' });
    await firstHeld;
    await other.nse.put({ ...sampleEndpoint('shared', 0), url: 'tcp://second:5001' });
    releaseFirst();
    expect((await first).url).toBe('tcp://first:5001');
    expect(f.server.conflicts).toBe(1);
    expect((await other.nse.get('shared'))?.url).toBe('tcp://first:5001');
  });

  it('gives up with ABORTED when conflicts outlast its attempts', async () => {
    const impatient = k8sNetworkServiceEndpointStore(f.server.kubeConfig(), { namespace: NS, maxAttempts: 1 });
    await f.nse.put(sampleEndpoint('busy'));
    let once = false;
    f.server.onRequest = async (info) => {
      if (info.method === 'PUT' && !once) {
        once = true;
        await f.nse.put({ ...sampleEndpoint('busy'), url: 'tcp://sneaky:1' }); // nested write bumps the version
      }
    };
    expect(codeOf(await impatient.put({ ...sampleEndpoint('busy'), url: 'tcp://late:1' }).catch((e) => e))).toBe(Code.ABORTED);
  });

  for (const how of ['reset', 'end'] as const) {
    it(`resumes a dropped watch (${how}) from the last version, without listing again`, async () => {
      const rec = recorder<NetworkServiceEndpoint>();
      const ac = new AbortController();
      await f.nse.watch(ac.signal, rec.onEvent);
      await f.nse.put(sampleEndpoint('a'));
      await rec.waitFor(1);
      const lists = listCalls();
      f.server.holdWatches();
      f.server.dropWatches(how);
      await f.nse.put(sampleEndpoint('b'));
      await f.nse.put(sampleEndpoint('a', 1));
      await f.nse.delete('a');
      f.server.releaseWatches();
      await rec.waitFor(4);
      await sleep(200);
      expect(rec.brief()).toEqual(['put a', 'put b', 'put a', 'delete a']);
      expect(rec.events[2].item).toEqual(sampleEndpoint('a', 1));
      expect(listCalls()).toBe(lists);
      f.server.dropWatches(how); // and once more while idle
      await f.nse.put(sampleEndpoint('c'));
      await rec.waitFor(5);
      expect(rec.brief().slice(4)).toEqual(['put c']);
      ac.abort();
    });
  }

  it('after 410 Gone lists again and reports exactly what it missed', async () => {
    await f.nse.put(sampleEndpoint('stays'));
    await f.nse.put(sampleEndpoint('goes'));
    await f.nse.put(sampleEndpoint('changes'));
    const rec = recorder<NetworkServiceEndpoint>();
    const ac = new AbortController();
    await f.nse.watch(ac.signal, rec.onEvent);
    await f.nse.put(sampleEndpoint('seen'));
    await rec.waitFor(1);
    f.server.holdWatches();
    f.server.dropWatches();
    await f.nse.delete('goes');
    await f.nse.put(sampleEndpoint('changes', 1));
    await f.nse.put(sampleEndpoint('new'));
    for (let i = 0; i < 5; i++) await f.nse.put({ ...sampleEndpoint('churn'), url: `tcp://10.9.9.${i}:1` }); // overflows history (4)
    await f.nse.delete('churn');
    const lists = listCalls();
    f.server.releaseWatches();
    await rec.waitFor(4);
    await sleep(200);
    expect(listCalls()).toBe(lists + 1);
    expect(rec.brief().sort()).toEqual(['delete goes', 'put changes', 'put new', 'put seen'].sort());
    expect(rec.events.find((e) => e.item.name === 'changes')?.item).toEqual(sampleEndpoint('changes', 1));
    expect(rec.events.find((e) => e.type === 'delete')?.item).toEqual(sampleEndpoint('goes'));
    // And the watch goes on from the new list.
    await f.nse.delete('stays');
    await rec.waitFor(5);
    expect(rec.brief()[4]).toBe('delete stays');
    ac.abort();
  });

  it('moves its resume point with bookmarks, so compaction alone does not force a list', async () => {
    const rec = recorder<NetworkServiceEndpoint>();
    const ac = new AbortController();
    await f.nse.watch(ac.signal, rec.onEvent);
    const elsewhere = k8sNetworkServiceEndpointStore(f.server.kubeConfig(), { namespace: 'elsewhere' });
    await elsewhere.put(sampleEndpoint('far'));
    f.server.bookmark();
    await sleep(200); // for the bookmark to reach the store
    f.server.compact();
    const lists = listCalls();
    f.server.dropWatches();
    await sleep(100);
    await f.nse.put(sampleEndpoint('near'));
    await rec.waitFor(1);
    expect(rec.brief()).toEqual(['put near']);
    expect(listCalls()).toBe(lists);
    ac.abort();
  });

  it('close() ends every watch', async () => {
    await f.nse.watch(new AbortController().signal, () => undefined);
    await f.ns.watch(new AbortController().signal, () => undefined);
    expect(f.server.openWatches).toBe(2);
    await f.nse.close?.();
    await f.ns.close?.();
    await sleep(100);
    expect(f.server.openWatches).toBe(0);
  });
});
