// The conformance suite every RegistryStore passes (registry/store/memory.test.ts,
// sdk-k8s/store.test.ts). Each test uses names of its own and looks only at events about them, so a
// store whose backend is shared (a real cluster namespace) can run it too.
import { randomBytes } from 'node:crypto';
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { Code, codeOf } from '../core/errors';
import type { NetworkServiceEndpointStore, NetworkServiceStore, RegistryStore, StoreEvent } from '../registry/store/backend';

export interface StoreFixture {
  ns: NetworkServiceStore;
  nse: NetworkServiceEndpointStore;
  cleanup(): Promise<void>;
  /** Open watches behind both stores, for the leak check; leave out when the store cannot tell. */
  activeWatches?(): number;
}

const WAIT_MS = 10_000;
/** How long "nothing more arrives" is watched for. */
const QUIET_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uniq = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

async function eventually(what: string, cond: () => boolean, ms = WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Collects watch events about the given names only. */
export function recorder<T extends { name: string }>(names?: () => string[]) {
  const events: StoreEvent<T>[] = [];
  return {
    events,
    onEvent: (ev: StoreEvent<T>) => {
      if (!names || names().includes(ev.item.name)) events.push(ev);
    },
    waitFor: (n: number) => eventually(`${n} watch events (have ${events.length})`, () => events.length >= n),
    brief: () => events.map((e) => `${e.type} ${e.item.name}`),
  };
}

export function sampleService(name: string, variant = 0): NetworkService {
  return NetworkService.fromPartial({
    name,
    payload: variant ? 'IP' : 'ETHERNET',
    matches: [
      {
        sourceSelector: { app: 'client' },
        routes: [{ destinationSelector: { app: 'nse', nodeName: '{{.nodeName}}' }, weight: 3 }],
        fallthrough: true,
        metadata: { labels: { p2p: 'true' } },
      },
      { routes: [{ destinationSelector: { app: `supplier-${variant}` } }] },
      ...(variant ? [] : [{ metadata: { labels: {} } }]),
    ],
  });
}

export function sampleEndpoint(name: string, variant = 0): NetworkServiceEndpoint {
  return NetworkServiceEndpoint.fromPartial({
    name,
    networkServiceNames: variant ? ['svc-b'] : ['svc-a', 'svc-b'],
    networkServiceLabels: variant ? { 'svc-b': { labels: {} } } : { 'svc-a': { labels: { app: 'nse', nodeName: 'node-1' } } },
    url: `tcp://10.0.0.${variant + 1}:5001`,
    expirationTime: { seconds: 1_767_225_660 + variant, nanos: 123_456_789 },
    initialRegistrationTime: variant ? undefined : { seconds: 1_767_225_600, nanos: 0 },
  });
}

export function describeRegistryStore(name: string, makeStores: () => Promise<StoreFixture>): void {
  describe(`RegistryStore conformance: ${name}`, () => {
    let f: StoreFixture;
    beforeEach(async () => {
      f = await makeStores();
    });
    afterEach(async () => {
      await f?.cleanup();
    });

    it('tells its kind', () => {
      expect(f.ns.kind).toBe('NetworkService');
      expect(f.nse.kind).toBe('NetworkServiceEndpoint');
    });

    it('puts, gets, lists and deletes NetworkServices', async () => {
      await roundTrip(f.ns, [sampleService(uniq('ns')), sampleService(uniq('ns'), 1)]);
    });

    it('puts, gets, lists and deletes NetworkServiceEndpoints', async () => {
      await roundTrip(f.nse, [sampleEndpoint(uniq('nse')), sampleEndpoint(uniq('nse'), 1)]);
    });

    it('answers undefined and false for unknown names', async () => {
      expect(await f.ns.get(uniq('missing'))).toBeUndefined();
      expect(await f.nse.delete(uniq('missing'))).toBe(false);
      expect(await f.ns.delete(uniq('missing'))).toBe(false);
    });

    it('names an endpoint without a name nse-<random>', async () => {
      const a = await f.nse.put(sampleEndpoint(''));
      const b = await f.nse.put(sampleEndpoint(''));
      expect(a.name).toMatch(/^nse-./);
      expect(b.name).not.toBe(a.name);
      expect(await f.nse.get(a.name)).toEqual({ ...sampleEndpoint(''), name: a.name });
      await f.nse.delete(a.name);
      await f.nse.delete(b.name);
    });

    it('rejects a NetworkService without a name', async () => {
      const err = await f.ns.put(sampleService('')).catch((e: unknown) => e);
      expect(codeOf(err)).toBe(Code.INVALID_ARGUMENT);
    });

    it('replaces a record on update instead of merging', async () => {
      const name = uniq('nse');
      await f.nse.put(sampleEndpoint(name, 0));
      expect(await f.nse.put(sampleEndpoint(name, 1))).toEqual(sampleEndpoint(name, 1));
      expect(await f.nse.get(name)).toEqual(sampleEndpoint(name, 1));
      const sname = uniq('ns');
      await f.ns.put(sampleService(sname, 0));
      await f.ns.put(sampleService(sname, 1));
      expect(await f.ns.get(sname)).toEqual(sampleService(sname, 1));
      await f.nse.delete(name);
      await f.ns.delete(sname);
    });

    it('keeps what it stored away from callers', async () => {
      const name = uniq('nse');
      const input = sampleEndpoint(name);
      const out = await f.nse.put(input);
      input.networkServiceNames.push('changed');
      out.url = 'changed';
      (await f.nse.get(name))!.networkServiceLabels['svc-a'].labels.app = 'changed';
      expect(await f.nse.get(name)).toEqual(sampleEndpoint(name));
      await f.nse.delete(name);
    });

    it('watch sees put, update and delete in order; a delete carries the last record', async () => {
      const name = uniq('nse');
      const rec = recorder<NetworkServiceEndpoint>(() => [name]);
      const ac = new AbortController();
      await f.nse.watch(ac.signal, rec.onEvent);
      await f.nse.put(sampleEndpoint(name, 0));
      await f.nse.put(sampleEndpoint(name, 1));
      await f.nse.delete(name);
      await rec.waitFor(3);
      expect(rec.events).toEqual([
        { type: 'put', item: sampleEndpoint(name, 0) },
        { type: 'put', item: sampleEndpoint(name, 1) },
        { type: 'delete', item: sampleEndpoint(name, 1) },
      ]);
      const sname = uniq('ns');
      const srec = recorder<NetworkService>(() => [sname]);
      await f.ns.watch(ac.signal, srec.onEvent);
      await f.ns.put(sampleService(sname));
      await f.ns.delete(sname);
      await srec.waitFor(2);
      expect(srec.brief()).toEqual([`put ${sname}`, `delete ${sname}`]);
      await sleep(QUIET_MS);
      expect(rec.events).toHaveLength(3);
      expect(srec.events).toHaveLength(2);
      ac.abort();
    });

    it('watch is established when it resolves: a change right after is seen, earlier ones are not', async () => {
      const before = uniq('nse');
      await f.nse.put(sampleEndpoint(before));
      for (let i = 0; i < 3; i++) {
        const after = uniq('nse');
        const rec = recorder<NetworkServiceEndpoint>(() => [before, after]);
        const ac = new AbortController();
        await f.nse.watch(ac.signal, rec.onEvent);
        await f.nse.put(sampleEndpoint(after));
        await rec.waitFor(1);
        expect(rec.brief()).toEqual([`put ${after}`]);
        ac.abort();
        await f.nse.delete(after);
      }
      await f.nse.delete(before);
    });

    it('serves watchers independently', async () => {
      const name = uniq('ns');
      const a = recorder<NetworkService>(() => [name]);
      const b = recorder<NetworkService>(() => [name]);
      const acA = new AbortController();
      const acB = new AbortController();
      await f.ns.watch(acA.signal, a.onEvent);
      await f.ns.watch(acB.signal, b.onEvent);
      await f.ns.put(sampleService(name));
      await a.waitFor(1);
      await b.waitFor(1);
      acA.abort();
      await f.ns.delete(name);
      await b.waitFor(2);
      await sleep(QUIET_MS);
      expect(a.brief()).toEqual([`put ${name}`]);
      expect(b.brief()).toEqual([`put ${name}`, `delete ${name}`]);
      acB.abort();
    });

    it('stops a watch on abort, leaving nothing open', async () => {
      const name = uniq('nse');
      const rec = recorder<NetworkServiceEndpoint>(() => [name]);
      const ac = new AbortController();
      await f.nse.watch(ac.signal, rec.onEvent);
      await f.ns.watch(ac.signal, () => rec.events.push({ type: 'put', item: sampleEndpoint('from-ns-watch') }));
      ac.abort();
      await f.nse.watch(ac.signal, rec.onEvent); // already aborted: resolves and never calls back
      await f.nse.put(sampleEndpoint(name));
      await f.ns.put(sampleService(name));
      await sleep(QUIET_MS);
      expect(rec.events).toEqual([]);
      if (f.activeWatches) await eventually('watches to close', () => f.activeWatches!() === 0);
      await f.nse.delete(name);
      await f.ns.delete(name);
    });

    it('resolves concurrent writers of one name', async () => {
      const name = uniq('nse');
      const writes = [0, 1, 2, 3, 4].map((i) => ({ ...sampleEndpoint(name), url: `tcp://10.0.1.${i}:5001` }));
      const results = await Promise.all(writes.map((w) => f.nse.put(w)));
      expect(results).toEqual(writes);
      expect(writes).toContainEqual(await f.nse.get(name));
      await f.nse.delete(name);
    });
  });
}

async function roundTrip<T extends { name: string }>(store: RegistryStore<T>, items: T[]): Promise<void> {
  for (const it of items) expect(await store.put(it)).toEqual(it);
  for (const it of items) expect(await store.get(it.name)).toEqual(it);
  const names = items.map((i) => i.name);
  const listed = (await store.list()).filter((i) => names.includes(i.name));
  expect(listed.sort((a, b) => a.name.localeCompare(b.name))).toEqual([...items].sort((a, b) => a.name.localeCompare(b.name)));
  expect(await store.delete(items[0].name)).toBe(true);
  expect(await store.delete(items[0].name)).toBe(false);
  expect(await store.get(items[0].name)).toBeUndefined();
  expect((await store.list()).map((i) => i.name)).not.toContain(items[0].name);
  for (const it of items.slice(1)) await store.delete(it.name);
}
