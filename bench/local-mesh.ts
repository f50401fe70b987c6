// Issue 4 figures on this machine: Request-to-usable-interface latency (sequential and 50 concurrent
// clients), connections per second, nsmgr and forwarder memory with many live connections, and iperf3
// through the vWire next to a plain veth pair measured in the same run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import { Context } from '@nsm/sdk/core/context';
import { handler } from '@nsm/sdk/core/networkservice';
import { LocalMesh } from '../local/mesh';
import { meshPaths } from '../local/paths';
import { createNetns, deleteNetns } from '../local/host';
import { median, ms, percentile, table } from './stats';

const CONNS = Number(process.env.BENCH_CONNS ?? 500);
const SEQ = Number(process.env.BENCH_SEQUENTIAL ?? 50);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 50);

const sh = (ns: string, argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });
const rssMb = (pid?: number) => (pid ? Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024 : NaN);

async function iperf(serverNs: string, clientNs: string, ip: string): Promise<number> {
  const server = execFileSync('sh', ['-c', `ip netns exec ${serverNs} iperf3 -s -1 -D -B ${ip} && echo started`], { encoding: 'utf8' });
  void server;
  await new Promise((r) => setTimeout(r, 300));
  const out = JSON.parse(sh(clientNs, ['iperf3', '-c', ip, '-t', '4', '-J']));
  return out.end.sum_received.bits_per_second / 1e9;
}

async function main() {
  const paths = meshPaths('bench');
  const mesh = new LocalMesh(paths, () => undefined);
  await mesh.down().catch(() => undefined);
  const benchNs = paths.netns('bench-client');
  try {
    await mesh.apply({
      nodes: [{ name: 'node1', forwarder: 'ovs', env: {} }],
      pods: [{ name: 'nse', node: 'node1', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'bench', NSM_PAYLOAD: 'IP', NSM_CIDR_PREFIX: '172.20.0.0/16' } }],
    });
    await createNetns(benchNs);
    const me = await mesh.workload('bench-client');
    const nsc = handler(client({ name: 'bench', url: `unix://${paths.nsmSocket('node1')}`, tokens: me.tokens, source: me.source, refresh: false }));
    const ctx = Context.background();
    let n = 0;
    const request = (): NetworkServiceRequest => {
      n++;
      return {
        connection: Connection.fromPartial({ id: `bench-${n}`, networkService: 'bench' }),
        mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: `file:///var/run/netns/${benchNs}`, name: `b${n}` } })],
      };
    };
    // Registration of the endpoint takes a moment after its process starts.
    for (let i = 0; ; i++) {
      try {
        const c = await nsc.request(ctx, request());
        await nsc.close(ctx, c);
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const live: Connection[] = [];
    const timed = async () => {
      const t0 = performance.now();
      const c = await nsc.request(ctx, request());
      const dt = performance.now() - t0;
      live.push(c);
      return dt;
    };
    const seq: number[] = [];
    for (let i = 0; i < SEQ; i++) seq.push(await timed());
    const t0 = performance.now();
    const conc = await Promise.all(Array.from({ length: CONCURRENT }, timed));
    const concWall = performance.now() - t0;
    // Usable: the last one can carry traffic right away.
    const last = live[live.length - 1];
    const dst = last.context!.ipContext!.dstIpAddrs[0].split('/')[0];
    sh(benchNs, ['ping', '-c', '1', '-W', '2', dst]);

    const fill0 = performance.now();
    while (live.length < CONNS) await Promise.all(Array.from({ length: Math.min(10, CONNS - live.length) }, timed));
    const fillWall = performance.now() - fill0;
    const procs = mesh.status().processes;
    const nsmgrMb = rssMb(procs.find((p) => p.name === 'nsmgr-node1')?.pid);
    const fwdMb = rssMb(procs.find((p) => p.name === 'forwarder-node1')?.pid);
    const ovsMb = Number(execFileSync('sh', ['-c', `ps -o rss= -C ovs-vswitchd | awk '{s+=$1} END {print s/1024}'`], { encoding: 'utf8' }));

    const closeTimes: number[] = [];
    const close0 = performance.now();
    const keep = live.splice(0, 1);
    while (live.length) {
      const batch = live.splice(0, 10);
      await Promise.all(
        batch.map(async (c) => {
          const t = performance.now();
          await nsc.close(ctx, c);
          closeTimes.push(performance.now() - t);
        }),
      );
    }
    const closeWall = performance.now() - close0;

    // Throughput: through the vWire (one connection kept) vs. a plain veth pair between two namespaces.
    const vwireIp = keep[0].context!.ipContext!.dstIpAddrs[0].split('/')[0];
    const viaMesh = await iperf(paths.netns('nse'), benchNs, vwireIp);
    await nsc.close(ctx, keep[0]);
    const a = paths.netns('bench-a');
    const b = paths.netns('bench-b');
    await createNetns(a);
    await createNetns(b);
    execFileSync('ip', ['-n', a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b]);
    sh(a, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'va']);
    sh(b, ['ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'vb']);
    sh(a, ['ip', 'link', 'set', 'va', 'up']);
    sh(b, ['ip', 'link', 'set', 'vb', 'up']);
    const plain = await iperf(b, a, '192.0.2.2');
    await deleteNetns(a);
    await deleteNetns(b);

    table(`Local mesh (Kernel2Kernel, forwarder-ovs, OVS userspace datapath), ${new Date().toISOString()}`, [
      [`Request→usable interface, sequential (n=${SEQ})`, `median ${ms(median(seq))}, p99 ${ms(percentile(seq, 99))}`],
      [`Request→usable interface, ${CONCURRENT} concurrent`, `median ${ms(median(conc))}, p99 ${ms(percentile(conc, 99))}, all done in ${ms(concWall)}`],
      ['Connections per second', `${((CONCURRENT / concWall) * 1000).toFixed(1)} (${CONCURRENT} concurrent); ${(((CONNS - SEQ - CONCURRENT) / fillWall) * 1000).toFixed(1)} (10 at a time)`],
      [`Memory with ${CONNS} live connections`, `nsmgr ${nsmgrMb.toFixed(0)} MB, forwarder ${fwdMb.toFixed(0)} MB, ovs-vswitchd ${ovsMb.toFixed(0)} MB (RSS)`],
      [`Close, 10 at a time (n=${closeTimes.length})`, `median ${ms(median(closeTimes))}, p99 ${ms(percentile(closeTimes, 99))}, all in ${ms(closeWall)}`],
      ['iperf3 through the vWire (1 TCP stream, 4 s)', `${viaMesh.toFixed(2)} Gbit/s`],
      ['iperf3 over a plain veth pair, same run', `${plain.toFixed(2)} Gbit/s`],
      ['ratio vWire / plain veth', `${(viaMesh / plain).toFixed(3)}`],
    ]);
  } finally {
    await deleteNetns(benchNs).catch(() => undefined);
    await mesh.down();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
