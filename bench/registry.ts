// Registry benchmark over real gRPC (unix socket), with the memory store and with the Kubernetes store
// against the in-process fake API server (shared/sdk-k8s/testing/fake-apiserver.ts).
//
// Run:   node --import=./tools/register-ts.mjs bench/registry.ts [count]
// (tools/register-ts.mjs compiles .ts on load with esbuild and maps @nsm/* to shared/*.)
//
// Per store: registers `count` (default 10,000) NSEs, 16 calls in flight, and reports the median and
// p99 latency of Register; then 1,000 Finds by exact name (also 16 in flight); one Find returning
// everything; and the time for 100 open watchers to all see one change (median of 10 changes).
// Client, registry and fake API server share one process and one event loop, so the figures are
// upper bounds of what each part costs alone; on a loaded machine they are mostly CPU contention.
// BENCH_MEMORY_ONLY=1 skips the Kubernetes store.
import '@nsm/sdk-k8s/node-compat';
import { setMaxListeners } from 'node:events';
import { NetworkServiceEndpoint } from '@nsm/api';
import { FakeApiServer } from '@nsm/sdk-k8s/testing/fake-apiserver';
import { k8sNetworkServiceEndpointStore, k8sNetworkServiceStore } from '@nsm/sdk-k8s/store';
import { Context } from '@nsm/sdk/core/context';
import { findAll } from '@nsm/sdk/core/registry';
import { startServer } from '@nsm/sdk/grpc/server';
import { setLogLevel } from '@nsm/sdk/log';
import { registryServer } from '@nsm/sdk/chains/registry';
import { nseRegistryClient } from '@nsm/sdk/grpc/registry';
import { memoryNetworkServiceEndpointStore, memoryNetworkServiceStore } from '@nsm/sdk/registry/store/memory';
import type { NetworkServiceEndpointStore, NetworkServiceStore } from '@nsm/sdk/registry/store/backend';
import { tempDir } from '@nsm/sdk/testing';
import { testIdentities } from '@nsm/sdk/testing/identity';
import { record } from './figures';
import { runMain } from './stats';

const COUNT = Number(process.argv[2] ?? 10_000);
const IN_FLIGHT = 16;
const FINDS = 1000;
const WATCHERS = 100;
const CHANGES = 10;

// One context per call: a shared one would collect an abort listener per call in flight.
const ctx = Context.background();
const now = () => performance.now();
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (v: number) => `${v.toFixed(2)} ms`;

const nse = (i: number, url = 'tcp://10.0.0.1:5001') =>
  NetworkServiceEndpoint.fromPartial({
    name: `nse-${i}`,
    networkServiceNames: ['svc-bench'],
    networkServiceLabels: { 'svc-bench': { labels: { app: 'bench', nodeName: `node-${i % 50}` } } },
    url,
  });

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<{ lat: number[]; wallMs: number }> {
  const lat: number[] = [];
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = now();
        await fn(i);
        lat.push(now() - t);
      }
    }),
  );
  return { lat: lat.sort((a, b) => a - b), wallMs: now() - t0 };
}

interface Row {
  store: string;
  registerP50: number;
  registerP99: number;
  registerRate: number;
  findP50: number;
  findP99: number;
  findAllMs: number;
  watchP50: number;
  watchMax: number;
}

async function runOne(name: string, stores: { ns: NetworkServiceStore; nse: NetworkServiceEndpointStore }): Promise<Row> {
  const tmp = tempDir('nsm-bench-');
  const reg = registryServer({ stores, expiryMs: 10 * 60_000 });
  const ids = await testIdentities();
  const server = await startServer([`unix://${tmp.dir}/registry.sock`], reg.services(), { source: ids.registry.source });
  const client = nseRegistryClient(server.urls[0], ids.nse.source);
  try {
    await client.register(ctx, nse(-1)); // warm the channel
    const reg1 = await timed(COUNT, (i) => client.register(Context.background(), nse(i)));
    console.log(`${name}: registered ${COUNT} in ${(reg1.wallMs / 1000).toFixed(1)} s`);
    const find = await timed(FINDS, async (i) => {
      const got = await findAll(client, Context.background(), NetworkServiceEndpoint.fromPartial({ name: `nse-${(i * 7919) % COUNT}` }));
      if (got.length !== 1) throw new Error(`find nse-${i} returned ${got.length}`);
    });
    const tAll = now();
    const all = await findAll(client, ctx, NetworkServiceEndpoint.fromPartial({ networkServiceNames: ['svc-bench'] }));
    const findAllMs = now() - tAll;
    if (all.length !== COUNT + 1) throw new Error(`find all returned ${all.length}`);

    // 100 watchers of one NSE; each change is timed until the last of them has seen it.
    const target = 'nse-0';
    let seen = 0;
    let waiter: (() => void) | undefined;
    const { ctx: wctx, cancel } = ctx.withCancel();
    setMaxListeners(0, wctx.signal); // 100 watches share it
    const watchers = Array.from({ length: WATCHERS }, () =>
      client.find(wctx, { item: NetworkServiceEndpoint.fromPartial({ name: target }), watch: true }, (r) => {
        if (r.item.url.startsWith('tcp://10.9.')) {
          seen++;
          if (seen === WATCHERS) waiter?.();
        }
      }),
    );
    while (reg.nseStore.streaming < WATCHERS) await new Promise((r) => setTimeout(r, 5));
    const watchLat: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      seen = 0;
      const all = new Promise<void>((r) => (waiter = r));
      const t = now();
      await client.register(ctx, nse(0, `tcp://10.9.0.${c}:5001`));
      await all;
      watchLat.push(now() - t);
    }
    cancel();
    await Promise.all(watchers);
    watchLat.sort((a, b) => a - b);
    return {
      store: name,
      registerP50: pct(reg1.lat, 50),
      registerP99: pct(reg1.lat, 99),
      registerRate: (COUNT / reg1.wallMs) * 1000,
      findP50: pct(find.lat, 50),
      findP99: pct(find.lat, 99),
      findAllMs,
      watchP50: pct(watchLat, 50),
      watchMax: watchLat[watchLat.length - 1],
    };
  } finally {
    client.close();
    await reg.close();
    await server.stop(500);
    tmp.cleanup();
  }
}

async function main() {
  setLogLevel('error');
  const started = now();
  const rows: Row[] = [];
  rows.push(await runOne('memory', { ns: memoryNetworkServiceStore(), nse: memoryNetworkServiceEndpointStore() }));
  if (process.env.BENCH_MEMORY_ONLY) return print(rows, started);
  const api = await FakeApiServer.start();
  try {
    const kc = api.kubeConfig();
    rows.push(
      await runOne('k8s (fake API server)', {
        ns: k8sNetworkServiceStore(kc, { namespace: 'nsm-system' }),
        nse: k8sNetworkServiceEndpointStore(kc, { namespace: 'nsm-system' }),
      }),
    );
  } finally {
    await api.close();
  }
  print(rows, started);
}

function print(rows: Row[], started: number) {
  const key = (r: Row) => (r.store.startsWith('k8s') ? 'k8s' : 'memory');
  for (const r of rows) {
    const base = `${COUNT} NSEs, ${IN_FLIGHT} in flight`;
    record(
      { key: `registry.${key(r)}.register.p50`, what: `registry (${r.store}): Register p50`, value: r.registerP50, unit: 'ms', better: 'lower', baseline: `${base}; ${r.registerRate.toFixed(0)}/s` },
      { key: `registry.${key(r)}.find.p50`, what: `registry (${r.store}): Find by name p50`, value: r.findP50, unit: 'ms', better: 'lower' },
      { key: `registry.${key(r)}.watch.p50`, what: `registry (${r.store}): ${WATCHERS} watchers see a change, p50`, value: r.watchP50, unit: 'ms', better: 'lower' },
    );
  }
  const cols: [string, (r: Row) => string][] = [
    ['store', (r) => r.store],
    ['Register p50', (r) => ms(r.registerP50)],
    ['Register p99', (r) => ms(r.registerP99)],
    ['Register/s', (r) => r.registerRate.toFixed(0)],
    ['Find p50', (r) => ms(r.findP50)],
    ['Find p99', (r) => ms(r.findP99)],
    [`Find all (${COUNT})`, (r) => ms(r.findAllMs)],
    [`${WATCHERS} watchers see 1 change p50`, (r) => ms(r.watchP50)],
    ['(max)', (r) => ms(r.watchMax)],
  ];
  const widths = cols.map(([h, f]) => Math.max(h.length, ...rows.map((r) => f(r).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  console.log(`\nregistry benchmark: ${COUNT} NSEs over gRPC (unix socket), ${IN_FLIGHT} calls in flight, ${FINDS} Finds by name\n`);
  console.log(line(cols.map(([h]) => h)));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(cols.map(([, f]) => f(r))));
  console.log(`\ntotal ${((now() - started) / 1000).toFixed(1)} s`);
}

runMain(main);
