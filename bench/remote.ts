// Issue 5 figures: remote connections (NSC on node1, NSE on node2) per mechanism. Request-to-
// interface time (the Request returns once the client's interface is configured) over sequential
// connections, and iperf3 through each tunnel next to plain routing between the two node namespaces
// over the fabric, measured in the same run. VLAN breakout goes from node1's uplink to an external
// network on the node network (iperf3's server there).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import { Context } from '@nsm/sdk/core/context';
import { handler } from '@nsm/sdk/core/networkservice';
import { LocalMesh } from '../local/mesh';
import { meshPaths } from '../local/paths';
import { createNetns, deleteNetns } from '../local/host';
import { median, ms, percentile, table } from './stats';

const CONNS = Number(process.env.BENCH_REMOTE_CONNS ?? 20);
const IPERF_SEC = Number(process.env.BENCH_IPERF_SEC ?? 4);

const sh = (ns: string, argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });

function iperf(serverNs: string, clientNs: string, ip: string): number {
  execFileSync('sh', ['-c', `ip netns exec ${serverNs} iperf3 -s -1 -D -B ${ip}`]);
  execFileSync('sleep', ['0.3']);
  const out = JSON.parse(sh(clientNs, ['iperf3', '-c', ip, '-t', String(IPERF_SEC), '-J']));
  return out.end.sum_received.bits_per_second / 1e9;
}

interface Mech {
  label: string;
  service: string;
  expect: string;
  /** Where iperf3's server runs (a pod or an external network). */
  server: string;
  /** The server's address; default the endpoint side of the connection. */
  target?: string;
}

const MECHS: Mech[] = [
  { label: 'local KERNEL (same node, reference)', service: 'bench-local', expect: 'KERNEL', server: 'nse-local' },
  { label: 'VXLAN (Ethernet payload)', service: 'bench-eth', expect: 'VXLAN', server: 'nse-eth' },
  { label: 'WireGuard (IP payload)', service: 'bench-ip', expect: 'WIREGUARD', server: 'nse-ip' },
  { label: 'VLAN breakout (node1 uplink → external network)', service: 'bench-vlan', expect: 'VLAN', server: 'ext-bench', target: '172.24.0.1' },
];

async function main() {
  const paths = meshPaths('bench-remote');
  const mesh = new LocalMesh(paths, () => undefined);
  await mesh.down().catch(() => undefined);
  const benchNs = paths.netns('bench-client');
  const rows: [string, string][] = [];
  try {
    await mesh.apply({
      nodes: [
        { name: 'node1', forwarder: 'ovs', env: {} },
        { name: 'node2', forwarder: 'ovs', env: {} },
      ],
      pods: [
        { name: 'nse-eth', node: 'node2', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'bench-eth', NSM_PAYLOAD: 'ETHERNET', NSM_CIDR_PREFIX: '172.21.0.0/16' } },
        { name: 'nse-local', node: 'node1', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'bench-local', NSM_PAYLOAD: 'ETHERNET', NSM_CIDR_PREFIX: '172.23.0.0/16' } },
        { name: 'nse-ip', node: 'node2', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'bench-ip', NSM_PAYLOAD: 'IP', NSM_CIDR_PREFIX: '172.22.0.0/16' } },
        {
          name: 'nse-vlan',
          node: 'node1',
          command: 'nse-icmp-responder',
          env: { NSM_SERVICE_NAMES: 'bench-vlan', NSM_CIDR_PREFIX: '172.24.0.0/16', NSM_REMOTE_VLAN: '200', NSM_REMOTE_VLAN_EXCLUDE: '172.24.0.1' },
        },
      ],
      externals: [{ name: 'ext-bench', vlans: [{ id: 200, addresses: ['172.24.0.1/16'] }] }],
    });
    await createNetns(benchNs);
    const me = await mesh.workload('bench-client');
    const nsc = handler(client({ name: 'bench', url: `unix://${paths.nsmSocket('node1')}`, tokens: me.tokens, source: me.source, refresh: false }));
    const ctx = Context.background();
    let n = 0;
    const request = (service: string): NetworkServiceRequest => {
      n++;
      return {
        connection: Connection.fromPartial({ id: `bench-${n}`, networkService: service }),
        mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: `file:///var/run/netns/${benchNs}`, name: `b${n}` } })],
      };
    };
    const throughput: [string, string][] = [];
    for (const m of MECHS) {
      // Wait for both endpoints' registration (and a first remote path) before measuring.
      for (let i = 0; ; i++) {
        try {
          await nsc.close(ctx, await nsc.request(ctx, request(m.service)));
          break;
        } catch (err) {
          if (i > 100) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      process.stderr.write(`${m.label}: measuring\n`);
      const setup: number[] = [];
      const teardown: number[] = [];
      let last: Connection | undefined;
      for (let i = 0; i < CONNS; i++) {
        const t0 = performance.now();
        const c = await nsc.request(ctx, request(m.service));
        setup.push(performance.now() - t0);
        if (i < CONNS - 1) {
          const t1 = performance.now();
          await nsc.close(ctx, c);
          teardown.push(performance.now() - t1);
        } else last = c;
      }
      // Which mechanism actually ran: the tunnel devices on node1.
      const links = sh(paths.netns('node1'), ['ip', '-br', 'link']);
      const flows = sh(paths.netns('node1'), ['ovs-ofctl', 'dump-flows', `unix:${join(paths.nodeDir('node1'), 'ovs', 'br-nsm.mgmt')}`]);
      const mechanism = /^nsmwg/m.test(links) ? 'WIREGUARD' : /^vxlan/m.test(links) ? 'VXLAN' : /^tapdst/m.test(links) ? 'KERNEL' : /dl_vlan=200/.test(flows) ? 'VLAN' : 'unknown';
      if (mechanism !== m.expect) throw new Error(`${m.label}: expected ${m.expect}, node1 has ${mechanism}`);
      rows.push([`${m.label}: Request→interface median / p99 (${CONNS} sequential)`, `${ms(median(setup))} / ${ms(percentile(setup, 99))}`]);
      rows.push([`${m.label}: Close median`, ms(median(teardown))]);
      const target = m.target ?? last!.context!.ipContext!.dstIpAddrs[0].split('/')[0];
      throughput.push([`iperf3 through ${m.label} (1 TCP stream, ${IPERF_SEC} s)`, `${iperf(paths.netns(m.server), benchNs, target).toFixed(2)} Gbit/s`]);
      process.stderr.write(`${m.label}: closing\n`);
      await nsc.close(ctx, last!);
    }
    process.stderr.write('plain iperf\n');
    const plain = iperf(paths.netns('node2'), paths.netns('node1'), '10.233.0.12');
    throughput.push([`iperf3 node1 → node2 over the fabric, no mesh, same run`, `${plain.toFixed(2)} Gbit/s`]);
    table('Remote connections (node1 → node2, OVS forwarders)', [...rows, ...throughput]);
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
