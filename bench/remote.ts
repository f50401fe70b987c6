// Remote connections (client on node1, endpoints on node2), per mechanism: Request → first reply
// through the new interface and Close, sequentially, each client in a namespace of its own; iperf3
// through the VXLAN vWire against a VXLAN tunnel made by hand between the same two nodes in the same
// run (the baseline: the vWire is a veth and a VXLAN device joined by tc on each node), and
// through WireGuard and the VLAN breakout against plain routing between the nodes; and what the
// WireGuard device pool saves a Request (bench/wg-device.ts).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import { Context } from '@nsm/sdk/core/context';
import { handler } from '@nsm/sdk/core/networkservice';
import { LocalMesh } from '../local/mesh';
import { meshPaths } from '../local/paths';
import { Figure, record } from './figures';
import { clientNamespaces, Prober } from './probe';
import { median, percentile, runMain, table } from './stats';

const CONNS = Number(process.env.BENCH_REMOTE_CONNS ?? 20);
const IPERF_SEC = Number(process.env.BENCH_IPERF_SEC ?? 4);

const paths = meshPaths('bench-remote');
const sh = (ns: string, argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });
const msSince = (t0: bigint, t1 = process.hrtime.bigint()) => Number(t1 - t0) / 1e6;
const ms1 = (v: number) => `${v.toFixed(1)} ms`;

function iperf(serverNs: string, clientNs: string, ip: string): number {
  sh(serverNs, ['iperf3', '-s', '-1', '-D', '-B', ip]);
  execFileSync('sleep', ['0.3']);
  const out = JSON.parse(sh(clientNs, ['iperf3', '-c', ip, '-t', String(IPERF_SEC), '-J']));
  return out.end.sum_received.bits_per_second / 1e9;
}

interface Mech {
  key: string;
  label: string;
  service: string;
  expect: string;
  /** Where iperf3's server runs (a pod or an external network). */
  server: string;
  /** The server's address; default the endpoint side of the connection. */
  target?: string;
}

const MECHS: Mech[] = [
  { key: 'vxlan', label: 'VXLAN (Ethernet payload)', service: 'bench-eth', expect: 'VXLAN', server: 'nse-eth' },
  { key: 'wireguard', label: 'WireGuard (IP payload)', service: 'bench-ip', expect: 'WIREGUARD', server: 'nse-ip' },
  { key: 'vlan', label: 'VLAN breakout (node1 uplink → external network)', service: 'bench-vlan', expect: 'VLAN', server: 'ext-bench', target: '172.24.0.1' },
];

/** A VXLAN tunnel between the two nodes made by hand (the baseline of the VXLAN vWire). */
function handMadeVxlan(): () => void {
  const ends = [
    ['node1', '10.233.0.11', '10.233.0.12', '192.0.2.11'],
    ['node2', '10.233.0.12', '10.233.0.11', '192.0.2.12'],
  ];
  for (const [node, local, remote, addr] of ends) {
    const ns = paths.netns(node);
    execFileSync('ip', ['-n', ns, 'link', 'add', 'bvx0', 'mtu', '1450', 'type', 'vxlan', 'id', '16000001', 'local', local, 'remote', remote, 'dstport', '4789', 'nolearning']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'bvx0']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'bvx0', 'up']);
  }
  return () => ends.forEach(([node]) => execFileSync('ip', ['-n', paths.netns(node), 'link', 'del', 'bvx0']));
}

/** Runs bench/wg-device.ts in a scratch namespace: device start vs from the pool. */
function wgDevices(): { startMs: number; pooledMs: number; spawnsAfterFill: number } {
  const ns = paths.netns('wgdev');
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import=./tools/register-ts.mjs', join('bench', 'wg-device.ts')], { cwd: join(__dirname, '..'), encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop()!);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

async function main() {
  const mesh = new LocalMesh(paths, () => undefined);
  await mesh.down().catch(() => undefined);
  const prober = new Prober();
  const figs: Figure[] = [];
  try {
    await mesh.apply({
      nodes: [
        { name: 'node1', forwarder: 'ovs', env: {} },
        { name: 'node2', forwarder: 'ovs', env: {} },
      ],
      pods: [
        { name: 'nse-eth', node: 'node2', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'bench-eth', NSM_PAYLOAD: 'ETHERNET', NSM_CIDR_PREFIX: '172.21.0.0/16' } },
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
    const clients = await clientNamespaces(prober, paths.netns, CONNS);
    const me = await mesh.workload('bench-client');
    const nsc = handler(client({ name: 'bench', url: `unix://${paths.nsmSocket('node1')}`, tokens: me.tokens, source: me.source, refresh: false }));
    const ctx = Context.background();
    let n = 0;
    // One interface name per mechanism: the VXLAN vWire stays up in the last client while the others run.
    const request = (service: string, i: number, ifName: string): NetworkServiceRequest => ({
      connection: Connection.fromPartial({ id: `bench-${++n}`, networkService: service }),
      mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: `file:///var/run/netns/${clients[i]}`, name: ifName } })],
    });
    const rows: [string, string][] = [];
    const throughput: [string, number][] = [];
    let vxlanConn: Connection | undefined;
    for (const m of MECHS) {
      // Wait for both endpoints' registration (and a first remote path) before measuring.
      for (let i = 0; ; i++) {
        try {
          await nsc.close(ctx, await nsc.request(ctx, request(m.service, 0, `nsm-${m.key}`)));
          break;
        } catch (err) {
          if (i > 100) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      process.stderr.write(`${m.label}: measuring\n`);
      const reply: number[] = [];
      const close: number[] = [];
      let last: Connection | undefined;
      for (let i = 0; i < CONNS; i++) {
        const t0 = process.hrtime.bigint();
        const c = await nsc.request(ctx, request(m.service, i, `nsm-${m.key}`));
        const target = m.target ?? c.context!.ipContext!.dstIpAddrs[0].split('/')[0];
        reply.push(msSince(t0, (await prober.firstReply(i, target, 1000, 10_000)).at));
        if (i < CONNS - 1) {
          const t1 = process.hrtime.bigint();
          await nsc.close(ctx, c);
          close.push(msSince(t1));
        } else last = c;
      }
      // Which mechanism actually ran: the devices on node1.
      const links = sh(paths.netns('node1'), ['ip', '-br', 'link']);
      const flows = sh(paths.netns('node1'), ['ovs-ofctl', 'dump-flows', `unix:${join(paths.nodeDir('node1'), 'ovs', 'br-nsm.mgmt')}`]);
      // The VXLAN vWire stays up meanwhile, so each mechanism is judged by its own evidence.
      const seen: Record<string, boolean> = { WIREGUARD: /^nsmwgd-/m.test(links), VXLAN: /^vxlan/m.test(links), VLAN: /dl_vlan=200/.test(flows) };
      if (!seen[m.expect]) throw new Error(`${m.label}: expected ${m.expect}, node1 has ${Object.keys(seen).filter((k) => seen[k]).join(', ') || 'none of them'}`);
      figs.push({ key: `remote.${m.key}.reply.median`, what: `${m.label}: Request → first reply, median (n=${CONNS})`, value: median(reply), unit: 'ms', better: 'lower', baseline: `p99 ${ms1(percentile(reply, 99))}; Close median ${ms1(median(close))}` });
      rows.push([`${m.label}: Request → first reply median / p99 (${CONNS} sequential)`, `${ms1(median(reply))} / ${ms1(percentile(reply, 99))}`]);
      rows.push([`${m.label}: Close median`, ms1(median(close))]);
      const target = m.target ?? last!.context!.ipContext!.dstIpAddrs[0].split('/')[0];
      throughput.push([m.key, iperf(paths.netns(m.server), clients[CONNS - 1], target)]);
      // The VXLAN vWire stays for the comparison with the tunnel made by hand.
      if (m.key === 'vxlan') vxlanConn = last;
      else await nsc.close(ctx, last!);
    }
    process.stderr.write('baselines\n');
    const plain = iperf(paths.netns('node2'), paths.netns('node1'), '10.233.0.12');
    const removeVxlan = handMadeVxlan();
    // Alternating, best of three each: the machine's load moves between runs.
    const byHandRuns: number[] = [];
    const vwireRuns: number[] = [throughput.find(([k]) => k === 'vxlan')![1]];
    try {
      const target = vxlanConn!.context!.ipContext!.dstIpAddrs[0].split('/')[0];
      for (let round = 0; round < 2; round++) {
        byHandRuns.push(iperf(paths.netns('node2'), paths.netns('node1'), '192.0.2.12'));
        vwireRuns.push(iperf(paths.netns('nse-eth'), clients[CONNS - 1], target));
      }
      byHandRuns.push(iperf(paths.netns('node2'), paths.netns('node1'), '192.0.2.12'));
    } finally {
      removeVxlan();
      await nsc.close(ctx, vxlanConn!);
    }
    const byHand = Math.max(...byHandRuns);
    const t: Record<string, number> = { ...Object.fromEntries(throughput), vxlan: Math.max(...vwireRuns) };
    figs.push({ key: 'remote.iperf.vxlan.ratio', what: 'iperf3 1 TCP stream across nodes: VXLAN vWire / VXLAN made by hand', value: t.vxlan / byHand, unit: 'x', better: 'higher', target: 0.9, baseline: `vWire ${t.vxlan.toFixed(2)} vs by hand ${byHand.toFixed(2)} Gbit/s` });
    figs.push({ key: 'remote.iperf.wireguard', what: 'iperf3 1 TCP stream across nodes: WireGuard vWire (wireguard-go)', value: t.wireguard, unit: 'Gbit/s', better: 'higher', baseline: `plain routing between the nodes ${plain.toFixed(2)} Gbit/s` });
    figs.push({ key: 'remote.iperf.vlan', what: 'iperf3 1 TCP stream: VLAN breakout to the external network (OVS)', value: t.vlan, unit: 'Gbit/s', better: 'higher', baseline: `plain routing between the nodes ${plain.toFixed(2)} Gbit/s` });
    process.stderr.write('WireGuard devices\n');
    const wg = wgDevices();
    figs.push({ key: 'remote.wg.device.pooled', what: 'WireGuard device ready for a connection, from the pool', value: wg.pooledMs, unit: 'ms', better: 'lower', baseline: `started per connection (wireguard-go): ${ms1(wg.startMs)}; processes started after the pool filled: ${wg.spawnsAfterFill}` });
    record(...figs);
    table(`Remote connections (node1 → node2); ${new Date().toISOString()}`, [
      ...rows,
      ...throughput.map(([k, v]): [string, string] => [`iperf3 through ${k}`, `${v.toFixed(2)} Gbit/s`]),
      ['iperf3 through a VXLAN tunnel made by hand, node1 → node2', `${byHand.toFixed(2)} Gbit/s`],
      ['iperf3 node1 → node2 over the fabric, no tunnel', `${plain.toFixed(2)} Gbit/s`],
      ['WireGuard device: started per connection / from the pool', `${ms1(wg.startMs)} / ${ms1(wg.pooledMs)}`],
    ]);
  } finally {
    prober.stop();
    await mesh.down();
  }
}

runMain(main);
