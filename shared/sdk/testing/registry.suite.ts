// The registry-level suite: a registryServer over a given pair of stores, served on real gRPC and used
// through the gRPC clients. It runs with the memory store (chains/registry-server.test.ts) and with
// the Kubernetes store against the fake API server (sdk-k8s/registry-server.test.ts), so both behave
// the same at the wire.
import { randomBytes } from 'node:crypto';
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { FakeClock } from '../core/clock';
import { fromTimestamp, toTimestamp } from '../core/conn';
import { Context } from '../core/context';
import { Code } from '../core/errors';
import { findAll, FindResult } from '../core/registry';
import { startServer, StartedServer } from '../grpc/server';
import { tempDir } from './index';
import { registryServer, RegistryServer } from '../chains/registry';
import { nseRegistryClient, nsRegistryClient, RegistryClient } from '../grpc/registry';
import type { NetworkServiceEndpointStore, NetworkServiceStore } from '../registry/store/backend';

export interface RegistryFixture {
  ns: NetworkServiceStore;
  nse: NetworkServiceEndpointStore;
  /** Watches open in the backend (store watchers or API-server watches). */
  backendWatches(): number;
  cleanup(): Promise<void>;
}

const EXPIRY_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const uniq = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

export async function eventually(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export const endpoint = (name: string, services: string[], extra: Partial<NetworkServiceEndpoint> = {}) =>
  NetworkServiceEndpoint.fromPartial({
    name,
    networkServiceNames: services,
    networkServiceLabels: Object.fromEntries(services.map((s) => [s, { labels: { app: 'test' } }])),
    url: 'tcp://10.1.2.3:5001',
    ...extra,
  });

/** Starts a watch Find and records what it sees, as "put name" / "delete name". */
export function watch<T extends { name: string }>(client: RegistryClient<T>, item: T) {
  const { ctx, cancel } = Context.background().withCancel();
  const seen: FindResult<T>[] = [];
  const done = client.find(ctx, { item, watch: true }, (r) => void seen.push(r)).catch((e) => e);
  return {
    seen,
    brief: () => seen.map((r) => `${r.deleted ? 'delete' : 'put'} ${r.item.name}`),
    stop: async () => {
      cancel();
      return done;
    },
  };
}

export function describeRegistry(title: string, makeFixture: () => Promise<RegistryFixture>): void {
  describe(`registry over gRPC: ${title}`, () => {
    const tmp = tempDir('nsm-reg-');
    let f: RegistryFixture;
    let clock: FakeClock;
    let reg: RegistryServer;
    let server: StartedServer;
    let ns: RegistryClient<NetworkService>;
    let nse: RegistryClient<NetworkServiceEndpoint>;
    const ctx = Context.background();

    beforeAll(async () => {
      f = await makeFixture();
      clock = new FakeClock(Date.now());
      reg = registryServer({ stores: { ns: f.ns, nse: f.nse }, expiryMs: EXPIRY_MS, clock });
      server = await startServer([`unix://${tmp.dir}/registry.sock`], reg.services());
      ns = nsRegistryClient(server.urls[0]);
      nse = nseRegistryClient(server.urls[0]);
    });
    afterAll(async () => {
      ns.close();
      nse.close();
      await reg.close();
      await server.stop(500);
      await f.cleanup();
      tmp.cleanup();
    });

    test('Register returns the record as stored; Find matches exact names only', async () => {
      const name = uniq('nse-find');
      const before = clock.now();
      const out = await nse.register(ctx, endpoint(name, ['svc-find']));
      expect(out.name).toBe(name);
      expect(fromTimestamp(out.expirationTime)).toBe(before + EXPIRY_MS);
      expect(fromTimestamp(out.initialRegistrationTime)).toBe(before);
      await nse.register(ctx, endpoint(`${name}-longer`, ['svc-find']));

      const exact = await findAll(nse, ctx, NetworkServiceEndpoint.fromPartial({ name }));
      expect(exact.map((r) => r.item.name)).toEqual([name]);
      expect(exact[0]).toMatchObject({ deleted: false, item: { url: 'tcp://10.1.2.3:5001', networkServiceNames: ['svc-find'] } });
      const bySvc = await findAll(nse, ctx, NetworkServiceEndpoint.fromPartial({ networkServiceNames: ['svc-find'] }));
      expect(bySvc.map((r) => r.item.name)).toEqual([name, `${name}-longer`]);
      const byLabel = await findAll(
        nse,
        ctx,
        NetworkServiceEndpoint.fromPartial({ networkServiceLabels: { 'svc-find': { labels: { app: 'other' } } } }),
      );
      expect(byLabel).toEqual([]);

      const svc = uniq('svc');
      const stored = await ns.register(ctx, NetworkService.fromPartial({ name: svc }));
      expect(stored.payload).toBe('IP');
      expect((await findAll(ns, ctx, NetworkService.fromPartial({ name: svc }))).map((r) => r.item)).toEqual([stored]);
      expect(await findAll(ns, ctx, NetworkService.fromPartial({ name: svc.slice(0, -1) }))).toEqual([]);
      await nse.unregister(ctx, out);
      await nse.unregister(ctx, endpoint(`${name}-longer`, []));
      await ns.unregister(ctx, stored);
    });

    test('an existing watcher sees a new NSE, an update, an expiry and an unregister, in that order', async () => {
      const svc = uniq('svc-watch');
      const a = uniq('nse-a');
      const b = uniq('nse-b');
      const w = watch(nse, NetworkServiceEndpoint.fromPartial({ networkServiceNames: [svc] }));
      await eventually('the watch to be served', () => reg.nseStore.streaming === 1);
      try {
        await nse.register(ctx, endpoint(a, [svc]));
        await eventually('a', () => w.seen.length === 1);
        await nse.register(ctx, endpoint(a, [svc], { url: 'tcp://10.9.9.9:5001' }));
        await eventually('a updated', () => w.seen.length === 2);
        await nse.register(ctx, endpoint(b, [svc], { expirationTime: toTimestamp(clock.now() + 2000) }));
        await eventually('b', () => w.seen.length === 3);
        await clock.advance(2001);
        await eventually('b expired', () => w.seen.length === 4);
        await nse.unregister(ctx, endpoint(a, []));
        await eventually('a unregistered', () => w.seen.length === 5);
        expect(w.brief()).toEqual([`put ${a}`, `put ${a}`, `put ${b}`, `delete ${b}`, `delete ${a}`]);
        expect(w.seen[1].item.url).toBe('tcp://10.9.9.9:5001');
        expect(w.seen[4].item.url).toBe('tcp://10.9.9.9:5001');
      } finally {
        await w.stop();
      }
    });

    test('a watch starts with the current matches', async () => {
      const svc = uniq('svc-snap');
      const names = [uniq('nse-s1'), uniq('nse-s2')];
      for (const n of names) await nse.register(ctx, endpoint(n, [svc]));
      const w = watch(nse, NetworkServiceEndpoint.fromPartial({ networkServiceNames: [svc] }));
      try {
        await eventually('snapshot', () => w.seen.length === 2);
        expect(w.brief().sort()).toEqual(names.map((n) => `put ${n}`).sort());
      } finally {
        await w.stop();
        for (const n of names) await nse.unregister(ctx, endpoint(n, []));
      }
    });

    test('NetworkService watchers see deletions', async () => {
      const svc = uniq('svc-del');
      const w = watch(ns, NetworkService.fromPartial({ name: svc }));
      await eventually('the watch to be served', () => reg.nsStore.streaming === 1);
      try {
        await ns.register(ctx, NetworkService.fromPartial({ name: svc, payload: 'ETHERNET' }));
        await ns.unregister(ctx, NetworkService.fromPartial({ name: svc }));
        await eventually('put and delete', () => w.seen.length === 2);
        expect(w.brief()).toEqual([`put ${svc}`, `delete ${svc}`]);
        expect(w.seen[1].item.payload).toBe('ETHERNET');
      } finally {
        await w.stop();
      }
    });

    test('registrations expire after the configured period unless registered again', async () => {
      const name = uniq('nse-exp');
      await nse.register(ctx, endpoint(name, ['svc-exp']));
      await clock.advance(EXPIRY_MS - 1000);
      await nse.register(ctx, endpoint(name, ['svc-exp'])); // a refresh moves the expiry
      await clock.advance(EXPIRY_MS - 500);
      expect(await findAll(nse, ctx, NetworkServiceEndpoint.fromPartial({ name }))).toHaveLength(1);
      await clock.advance(600);
      await eventually('expiry', async () => (await findAll(nse, ctx, NetworkServiceEndpoint.fromPartial({ name }))).length === 0);
      expect(reg.expire.timers).toBe(0);
    });

    test('a requested expiration is kept when earlier, capped when later', async () => {
      const early = uniq('nse-early');
      const late = uniq('nse-late');
      const e = await nse.register(ctx, endpoint(early, ['s'], { expirationTime: toTimestamp(clock.now() + 3000) }));
      const l = await nse.register(ctx, endpoint(late, ['s'], { expirationTime: toTimestamp(clock.now() + 10 * EXPIRY_MS) }));
      expect(fromTimestamp(e.expirationTime)).toBe(clock.now() + 3000);
      expect(fromTimestamp(l.expirationTime)).toBe(clock.now() + EXPIRY_MS);
      await nse.unregister(ctx, e);
      await nse.unregister(ctx, l);
    });

    test('initial_registration_time is kept across re-registrations until Unregister', async () => {
      const name = uniq('nse-irt');
      const first = await nse.register(ctx, endpoint(name, ['s']));
      await clock.advance(1000);
      const again = await nse.register(ctx, endpoint(name, ['s']));
      expect(again.initialRegistrationTime).toEqual(first.initialRegistrationTime);
      await nse.unregister(ctx, again);
      const fresh = await nse.register(ctx, endpoint(name, ['s']));
      expect(fromTimestamp(fresh.initialRegistrationTime)).toBe(clock.now());
      await nse.unregister(ctx, fresh);
    });

    test('an NSE registered without a name gets one', async () => {
      const out = await nse.register(ctx, endpoint('', ['svc-gen']));
      expect(out.name).toMatch(/^nse-/);
      expect((await findAll(nse, ctx, NetworkServiceEndpoint.fromPartial({ name: out.name }))).length).toBe(1);
      await nse.unregister(ctx, out);
    });

    test('Unregister of an unknown name succeeds, twice', async () => {
      await expect(nse.unregister(ctx, endpoint(uniq('nse-unknown'), []))).resolves.toBeUndefined();
      const name = uniq('nse-twice');
      await nse.register(ctx, endpoint(name, ['s']));
      await nse.unregister(ctx, endpoint(name, []));
      await expect(nse.unregister(ctx, endpoint(name, []))).resolves.toBeUndefined();
      await expect(ns.unregister(ctx, NetworkService.fromPartial({ name: uniq('svc-unknown') }))).resolves.toBeUndefined();
    });

    describe('bad input gets INVALID_ARGUMENT naming the field and disturbs nothing', () => {
      const keep = uniq('nse-keep');
      beforeAll(async () => {
        await nse.register(ctx, endpoint(keep, ['svc-keep']));
      });
      afterAll(async () => {
        await nse.unregister(ctx, endpoint(keep, []));
      });
      const cases: [string, () => Promise<unknown>, RegExp][] = [
        ['empty NSE', () => nse.register(ctx, NetworkServiceEndpoint.fromPartial({})), /network_service_endpoint is empty/],
        ['NSE without url', () => nse.register(ctx, endpoint(keep, ['svc-keep'], { url: '' })), /network_service_endpoint\.url must not be empty/],
        ['NSE with a malformed url', () => nse.register(ctx, endpoint(keep, ['svc-keep'], { url: 'not a url' })), /url "not a url" is not a URL/],
        [
          'NSE with an empty label key',
          () => nse.register(ctx, endpoint(keep, ['svc-keep'], { networkServiceLabels: { 'svc-keep': { labels: { '': 'x' } } } })),
          /network_service_labels\["svc-keep"\]\.labels has an empty key/,
        ],
        [
          'NSE with an empty service in its labels',
          () => nse.register(ctx, endpoint(keep, ['svc-keep'], { networkServiceLabels: { '': { labels: {} } } })),
          /network_service_labels has an empty service name/,
        ],
        ['NSE with an empty service name', () => nse.register(ctx, endpoint(keep, ['svc-keep', ''])), /network_service_names\[1\] must not be empty/],
        ['NSE name with spaces', () => nse.register(ctx, endpoint('a b', ['s'])), /network_service_endpoint\.name "a b"/],
        ['NS without a name', () => ns.register(ctx, NetworkService.fromPartial({ payload: 'IP' })), /network_service\.name must not be empty/],
        [
          'NS with a bad selector',
          () => ns.register(ctx, NetworkService.fromPartial({ name: 's', matches: [{ sourceSelector: { '': 'v' } }] })),
          /network_service\.matches\[0\]\.source_selector has an empty key/,
        ],
        ['Unregister without a name', () => nse.unregister(ctx, NetworkServiceEndpoint.fromPartial({})), /network_service_endpoint\.name must not be empty/],
      ];
      test.each(cases)('%s', async (_what, call, message) => {
        await expect(call()).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(message) });
        const still = await findAll(nse, ctx, NetworkServiceEndpoint.fromPartial({ name: keep }));
        expect(still.map((r) => [r.item.name, r.item.url])).toEqual([[keep, 'tcp://10.1.2.3:5001']]);
      });
    });

    test('watchers that disconnect leave nothing behind', async () => {
      const base = f.backendWatches();
      const ws = Array.from({ length: 5 }, (_, i) => watch(nse, NetworkServiceEndpoint.fromPartial({ networkServiceNames: [`svc-leak-${i}`] })));
      const nsw = watch(ns, NetworkService.fromPartial({}));
      await eventually('watches served', () => reg.nseStore.watchers === 5 && reg.nsStore.streaming === 1);
      expect(reg.stats.nse.activeFinds).toBe(5);
      expect(reg.nseStore.storeWatchOpen).toBe(true);
      for (const w of [...ws, nsw]) expect(await w.stop()).toBeUndefined();
      await eventually('watches gone', () => reg.nseStore.watchers === 0 && reg.nsStore.watchers === 0);
      await eventually('server finds over', () => reg.stats.nse.activeFinds === 0 && reg.stats.ns.activeFinds === 0);
      expect(reg.nseStore.storeWatchOpen).toBe(false);
      expect(reg.nsStore.storeWatchOpen).toBe(false);
      await eventually('backend watches closed', () => f.backendWatches() === 0);
      expect(base).toBe(0);
    });
  });
}
