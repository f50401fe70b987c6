// Interdomain (issue 17): Request → first reply through the new interface for a network service of
// another cluster (`bench-eth@my.cluster2`: both clusters' nsmgr-proxies, DNS, federation, VXLAN
// through both NATs), next to the same within one cluster (node1 → node2 of cluster 1, VXLAN), in
// the same run on the multi-cluster runtime; sequential, each client in a namespace of its own.
import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import { Context } from '@nsm/sdk/core/context';
import { handler } from '@nsm/sdk/core/networkservice';
import { LocalClusters } from '../local/clusters';
import { clusterPaths, meshPaths } from '../local/paths';
import { parseClusters } from '../local/topology';
import { Figure, record } from './figures';
import { clientNamespaces, Prober } from './probe';
import { median, percentile, runMain, table } from './stats';

const CONNS = Number(process.env.BENCH_INTERDOMAIN_CONNS ?? 15);
const paths = meshPaths('bench-idom');
const msSince = (t0: bigint, t1 = process.hrtime.bigint()) => Number(t1 - t0) / 1e6;
const ms1 = (v: number) => `${v.toFixed(1)} ms`;

const nse = (name: string, node: string, service: string, cidr: string) =>
  `      - {name: ${name}, node: ${node}, command: nse-icmp-responder, env: {NSM_SERVICE_NAMES: ${service}, NSM_CIDR_PREFIX: ${cidr}}}`;
const TOPOLOGY = [
  'clusters:',
  '  - name: cluster1',
  '    nodes: [node1, node2]',
  '    pods:',
  nse('nse-local', 'node2', 'bench-eth', '172.21.0.0/16'),
  '  - name: cluster2',
  '    nodes: [node1]',
  '    pods:',
  nse('nse-remote', 'node1', 'bench-eth', '172.22.0.0/16'),
].join('\n');

async function main() {
  const clusters = new LocalClusters(paths, () => undefined);
  await clusters.down().catch(() => undefined);
  const prober = new Prober();
  const figs: Figure[] = [];
  try {
    await clusters.apply(parseClusters(TOPOLOGY));
    const c1 = clusters.cluster('cluster1');
    const c1Paths = clusterPaths(paths, 'cluster1');
    const clientNs = await clientNamespaces(prober, paths.netns, CONNS);
    const me = await c1.workload('bench-client');
    const nsc = handler(client({ name: 'bench', url: `unix://${c1Paths.nsmSocket('node1')}`, tokens: me.tokens, source: me.source, refresh: false }));
    const ctx = Context.background();
    let n = 0;
    const request = (service: string, i: number): NetworkServiceRequest => ({
      connection: Connection.fromPartial({ id: `bench-${++n}`, networkService: service }),
      mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: `file:///var/run/netns/${clientNs[i]}`, name: 'nsm-1' } })],
    });
    const rows: [string, string][] = [];
    const medians: Record<string, number> = {};
    const cases: [key: string, label: string, service: string, endpoint: string][] = [
      ['cluster', 'within cluster 1 (node1 → node2)', 'bench-eth', 'nse-local'],
      ['domains', 'across domains (cluster 1 → cluster 2)', 'bench-eth@my.cluster2', 'nse-remote@my.cluster2'],
    ];
    for (const [key, label, service, endpoint] of cases) {
      // Wait for the endpoint's registration (and, across domains, DNS and the proxies) before measuring.
      for (let i = 0; ; i++) {
        try {
          const c = await nsc.request(ctx, request(service, 0));
          if (c.networkServiceEndpointName !== endpoint) throw new Error(`${label}: went to ${c.networkServiceEndpointName}, not ${endpoint}`);
          await nsc.close(ctx, c);
          break;
        } catch (err) {
          if (i > 150) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      process.stderr.write(`${label}: measuring\n`);
      const reply: number[] = [];
      const close: number[] = [];
      for (let i = 0; i < CONNS; i++) {
        const t0 = process.hrtime.bigint();
        const c = await nsc.request(ctx, request(service, i));
        reply.push(msSince(t0, (await prober.firstReply(i, c.context!.ipContext!.dstIpAddrs[0].split('/')[0], 1000, 10_000)).at));
        const t1 = process.hrtime.bigint();
        await nsc.close(ctx, c);
        close.push(msSince(t1));
      }
      medians[key] = median(reply);
      rows.push([`${label}: Request → first reply median / p99 (${CONNS} sequential)`, `${ms1(median(reply))} / ${ms1(percentile(reply, 99))}`]);
      rows.push([`${label}: Close median`, ms1(median(close))]);
      figs.push({
        key: `interdomain.${key}.reply.median`,
        what: `Request → first reply ${label}, VXLAN, median (n=${CONNS})`,
        value: median(reply),
        unit: 'ms',
        better: 'lower',
        baseline: key === 'domains' ? `within one cluster ${ms1(medians.cluster)}; p99 ${ms1(percentile(reply, 99))}` : `p99 ${ms1(percentile(reply, 99))}`,
      });
    }
    record(...figs);
    table(`Interdomain (multi-cluster runtime); ${new Date().toISOString()}`, rows);
  } finally {
    prober.stop();
    await clusters.down();
  }
}

runMain(main);
