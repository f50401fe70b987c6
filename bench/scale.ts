// Issue 16 figures: Request → first successful reply for a network service whose endpoint must first be
// started on the client's node (scale from zero: the supplier creates the pod through the runtime's
// pod API, the endpoint starts and registers, the client retries as cmd-nsc does), next to the same
// Request when the endpoint already exists, in the same run. Between runs the endpoint retires.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import { Context } from '@nsm/sdk/core/context';
import { handler } from '@nsm/sdk/core/networkservice';
import { requestWithRetry } from '@nsm/sdk/elements/retry';
import { createNetns, deleteNetns } from '../local/host';
import { LocalMesh } from '../local/mesh';
import { meshPaths } from '../local/paths';
import { parseTopology } from '../local/topology';
import { median, ms, percentile, table } from './stats';

const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 5);
const WARM = Number(process.env.BENCH_SCALE_WARM ?? 5);
const SERVICE = 'autoscale-bench';

const rssMb = (pid?: number) => (pid ? Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024 : NaN);

async function until(what: string, check: () => boolean, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main() {
  const paths = meshPaths('bscale');
  const mesh = new LocalMesh(paths, () => undefined);
  await mesh.down().catch(() => undefined);
  const clientNs = paths.netns('bench-client');
  const template = join(paths.root, 'pod-template.yaml');
  try {
    await mesh.apply(parseTopology('nodes: [node1, node2]'));
    writeFileSync(
      template,
      `apiVersion: v1
kind: Pod
metadata: {name: nse-bench, labels: {app: nse-bench}}
spec:
  restartPolicy: Never
  containers:
    - name: nse
      image: cmd-nse-icmp-responder
      env:
        - {name: NSM_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: NSM_SERVICE_NAMES, value: ${SERVICE}}
        - {name: NSM_LABELS, value: "app:nse-bench"}
        - {name: NSM_REGISTER_SERVICE, value: "false"}
        - {name: NSM_CIDR_PREFIX, value: 172.21.0.0/16}
        - {name: NSM_IDLE_TIMEOUT, value: 1s}
`,
    );
    await mesh.apply(
      parseTopology(`
networkServices:
  - name: ${SERVICE}
    matches:
      - fallthrough: true
        routes: [{destination_selector: {app: nse-bench, nodeName: "{{.nodeName}}"}}]
      - routes: [{destination_selector: {app: bench-supplier}}]
pods:
  - name: supplier
    node: node1
    command: nse-supplier-k8s
    env: {NSM_SERVICE_NAME: ${SERVICE}, NSM_LABELS: "app:bench-supplier", NSM_POD_DESCRIPTION_FILE: ${template}}
`),
    );
    await createNetns(clientNs);
    // The client is on node2, the supplier on node1: the first Request also crosses the nodes to the supplier.
    const me = await mesh.workload('bench-client');
    const nsc = handler(client({ name: 'bench', url: `unix://${paths.nsmSocket('node2')}`, tokens: me.tokens, source: me.source, refresh: false }));
    const ctx = Context.background();
    let n = 0;
    const request = (): NetworkServiceRequest => {
      n++;
      return {
        connection: Connection.fromPartial({ id: `bench-${n}`, networkService: SERVICE }),
        mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: `file:///var/run/netns/${clientNs}`, name: `s${n}` } })],
      };
    };
    const spawned = () => mesh.kube.store.list({ labels: [{ key: 'app', op: '=', values: ['nse-bench'] }] }).items;
    const supplierUp = () => mesh.status().processes.some((p) => p.name === 'supplier' && p.running);
    await until('the supplier', supplierUp);
    const timed = async (retry: boolean) => {
      const t0 = performance.now();
      const c = retry ? await requestWithRetry(ctx, nsc, request(), { tryTimeoutMs: 30_000, onAttemptFailed: () => undefined }) : await nsc.request(ctx, request());
      return { c, dt: performance.now() - t0 };
    };
    // The supplier registers a moment after its process starts: the first Request of all waits for that.
    for (let i = 0; ; i++) {
      try {
        const { c } = await timed(true);
        await nsc.close(ctx, c);
        break;
      } catch (err) {
        if (i > 100) throw err;
      }
    }
    await until('no endpoint', () => spawned().length === 0);
    const cold: number[] = [];
    const warm: number[] = [];
    const attempts: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      let tries = 0;
      const t0 = performance.now();
      const first = await requestWithRetry(ctx, nsc, request(), { tryTimeoutMs: 30_000, onAttemptFailed: () => void tries++ });
      cold.push(performance.now() - t0);
      attempts.push(tries + 1);
      const live = [first];
      for (let i = 0; i < WARM; i++) {
        const { c, dt } = await timed(false);
        warm.push(dt);
        live.push(c);
      }
      for (const c of live) await nsc.close(ctx, c);
      // The endpoint retires after its idle timeout; the supplier deletes its pod.
      await until('the endpoint retired', () => spawned().length === 0);
    }
    const supplierMb = rssMb(mesh.status().processes.find((p) => p.name === 'supplier')?.pid);
    table(`Scale from zero (client on node2, supplier on node1, forwarder-ovs), ${new Date().toISOString()}`, [
      [`Request→reply, endpoint spawned on the node (n=${cold.length})`, `median ${ms(median(cold))}, max ${ms(Math.max(...cold))}, ${median(attempts)} attempts (median)`],
      [`Request→reply, endpoint already there (n=${warm.length})`, `median ${ms(median(warm))}, p99 ${ms(percentile(warm, 99))}`],
      ['Supplier memory after the runs', `${supplierMb.toFixed(0)} MB (RSS)`],
    ]);
  } finally {
    await deleteNetns(clientNs).catch(() => undefined);
    await mesh.down();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench/scale.ts failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
