// Kernel configuration by process spawns (ip -batch, nsenter, ethtool: shared/sdk-kernel) against
// netlink from Node (shared/sdk-kernel/netlink), in the same run, and the throughput of the kernel
// fast path (tc redirect) that the netlink package builds, against a plain veth pair and a VXLAN
// tunnel set up by hand. Issue 15 asks both to be measured against today's spawns.
//
//   node --import=./tools/register-ts.mjs bench/netlink.ts [--iterations N] [--rounds R] [--iperf-seconds S] [--no-iperf]
//
// One "connection" = what a forwarder does for a local kernel-to-kernel connection: two veth pairs
// (host ends in the node namespace, peers created in two pod namespaces), the pod-side IP context
// (address, route) of both, and TX offloads off on both pod ends (OVS userspace datapath) or, for
// the fast path, tc redirects between the two host ends instead. Needs root.
import { resolve } from 'node:path';
import * as spawnPath from '@nsm/sdk-kernel';
import { Netns } from '@nsm/sdk-kernel/netns';
import { TestNetnsSet } from '@nsm/sdk-kernel/testhost';
import * as nl from '@nsm/sdk-kernel/netlink';
import { median, ms, percentile, table } from './stats';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};
if (args.includes('--help')) {
  process.stdout.write(`bench/netlink.ts: spawn path vs netlink path, and fast-path throughput
  --iterations N     connections set up and torn down per path (default 30)
  --rounds R         iperf3 rounds; every topology once per round (default 3)
  --iperf-seconds S  length of one iperf3 run (default 4)
  --no-iperf         skip the throughput part
`);
  process.exit(0);
}
const config = { iterations: opt('--iterations', 30), rounds: opt('--rounds', 3), iperfSeconds: opt('--iperf-seconds', 4), iperf: !args.includes('--no-iperf') };
process.stdout.write(`bench/netlink.ts ${JSON.stringify(config)}\n`);
if (process.getuid?.() !== 0) {
  process.stderr.write('needs root (namespaces, links)\n');
  process.exit(1);
}

// Counts child processes, to show which path starts none. exec.ts calls child_process.spawn through
// the module object, so replacing the property there sees every call.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cp = require('node:child_process') as typeof import('node:child_process');
let spawned = 0;
const realSpawn = cp.spawn;
cp.spawn = ((...a: Parameters<typeof realSpawn>) => {
  spawned++;
  return realSpawn(...a);
}) as typeof realSpawn;

interface Ops {
  createVethPair(spec: spawnPath.VethPairSpec): Promise<unknown>;
  applyIpContext(ns: Netns, ifName: string, spec: spawnPath.IpContextSpec): Promise<void>;
  disableOffloads(ns: Netns, ifName: string): Promise<void>;
  deleteLinks(ns: Netns, names: string[]): Promise<void>;
}
const SPAWN: Ops = { ...spawnPath, disableOffloads: (ns, i) => spawnPath.disableOffloads(ns, i) };
const NETLINK: Ops = { createVethPair: (s) => nl.createVethPair(s), applyIpContext: (n, i, s) => nl.applyIpContext(n, i, s), disableOffloads: (n, i) => nl.disableOffloads(n, i), deleteLinks: (n, l) => nl.deleteLinks(n, l) };

type Sample = { setup: number; del: number; veth: number; ipctx: number; third: number; spawns: number };

async function connection(ops: Ops, node: Netns, a: Netns, b: Netns, i: number, fast: boolean): Promise<Sample> {
  const [ha, hb] = [`bha${i}`, `bhb${i}`];
  const before = spawned;
  const t0 = performance.now();
  await ops.createVethPair({ hostName: ha, hostNetns: node, peerName: `nsm${i}`, peerNetns: a });
  await ops.createVethPair({ hostName: hb, hostNetns: node, peerName: `nsm${i}`, peerNetns: b });
  const t1 = performance.now();
  await ops.applyIpContext(a, `nsm${i}`, { addrs: [`172.30.${i % 250}.1/32`], routes: [{ prefix: `172.30.${i % 250}.2/32` }] });
  await ops.applyIpContext(b, `nsm${i}`, { addrs: [`172.30.${i % 250}.2/32`], routes: [{ prefix: `172.30.${i % 250}.1/32` }] });
  const t2 = performance.now();
  if (fast) {
    await nl.addRedirects(node, [
      { from: ha, to: hb },
      { from: hb, to: ha },
    ]);
  } else {
    await ops.disableOffloads(a, `nsm${i}`);
    await ops.disableOffloads(b, `nsm${i}`);
  }
  const t3 = performance.now();
  const spawns = spawned - before;
  await ops.deleteLinks(node, [ha, hb]);
  const t4 = performance.now();
  return { setup: t3 - t0, del: t4 - t3, veth: t1 - t0, ipctx: t2 - t1, third: t3 - t2, spawns };
}

const fmt = (v: number[]) => `median ${ms(median(v)).padStart(9)}   p99 ${ms(percentile(v, 99)).padStart(9)}`;

async function costs(nets: TestNetnsSet): Promise<void> {
  const node = await nets.add('node');
  const a = await nets.add('pa');
  const b = await nets.add('pb');
  const paths = { spawn: SPAWN, netlink: NETLINK, 'netlink fast path': NETLINK } as const;
  const samples: Record<keyof typeof paths, Sample[]> = { spawn: [], netlink: [], 'netlink fast path': [] };
  // Warm-up (addon load, ethtool family and feature names, first sockets), not counted.
  await connection(NETLINK, node, a, b, 9999, false);
  await connection(SPAWN, node, a, b, 9998, false);
  for (let i = 0; i < config.iterations; i++) {
    // Interleaved, so that load from elsewhere falls on every path alike.
    for (const [name, ops] of Object.entries(paths) as [keyof typeof paths, Ops][]) {
      samples[name].push(await connection(ops, node, a, b, i * 3 + Object.keys(paths).indexOf(name), name === 'netlink fast path'));
    }
  }
  const rows: [string, string][] = [];
  for (const [name, s] of Object.entries(samples)) {
    const third = name === 'netlink fast path' ? 'tc redirects both ways' : 'offloads off, 2 ends';
    rows.push(
      [`${name}: connection set-up`, `${fmt(s.map((x) => x.setup))}   processes ${median(s.map((x) => x.spawns))}`],
      [`  2 veth pairs into pods`, fmt(s.map((x) => x.veth))],
      [`  IP context, 2 pod ends`, fmt(s.map((x) => x.ipctx))],
      [`  ${third}`, fmt(s.map((x) => x.third))],
      [`${name}: deletion (both pairs)`, fmt(s.map((x) => x.del))],
    );
  }
  table(`Per connection, ${config.iterations} each, interleaved (${new Date().toISOString().slice(0, 10)})`, rows);
}

// ---- throughput ----

const run = (argv: string[]) => spawnPath.exec(argv, { timeoutMs: 60_000 });

async function iperf(client: Netns, server: Netns, ip: string): Promise<number> {
  const s = realSpawn('ip', ['netns', 'exec', server.name!, 'iperf3', '-s', '-1'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const { stdout } = await run(['ip', 'netns', 'exec', client.name!, 'iperf3', '-c', ip, '-t', String(config.iperfSeconds), '-J']);
    return (JSON.parse(stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9;
  } finally {
    s.kill('SIGKILL');
  }
}

type Topology = (nets: TestNetnsSet, a: Netns, b: Netns) => Promise<void>;

const plainVeth: Topology = async (_n, a, b) => {
  await nl.addVeth(a, { name: 'eth1', peerName: 'eth1', peerNetns: b });
};
const tcLocal: Topology = async (nets, a, b) => {
  const node = await nets.add('tn');
  await nl.createVethPair({ hostName: 'ha', hostNetns: node, peerName: 'eth1', peerNetns: a });
  await nl.createVethPair({ hostName: 'hb', hostNetns: node, peerName: 'eth1', peerNetns: b });
  await nl.addRedirects(node, [
    { from: 'ha', to: 'hb' },
    { from: 'hb', to: 'ha' },
  ]);
};
async function underlay(nets: TestNetnsSet): Promise<[Netns, Netns]> {
  const [n1, n2] = [await nets.add('n1'), await nets.add('n2')];
  await nl.addVeth(n1, { name: 'u1', peerName: 'u2', peerNetns: n2 });
  await nl.applyIpContext(n1, 'u1', { addrs: ['10.98.0.1/24'] });
  await nl.applyIpContext(n2, 'u2', { addrs: ['10.98.0.2/24'] });
  return [n1, n2];
}
const vxlanByHand: Topology = async (nets, a, b) => {
  const [n1, n2] = await underlay(nets);
  for (const [n, pod, local, remote] of [
    [n1, a, '10.98.0.1', '10.98.0.2'],
    [n2, b, '10.98.0.2', '10.98.0.1'],
  ] as const) {
    await run(['ip', '-n', n.name!, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'local', local, 'remote', remote, 'dstport', '4789', 'nolearning']);
    await run(['ip', '-n', n.name!, 'link', 'set', 'vx0', 'netns', pod.name!]);
    await run(['ip', '-n', pod.name!, 'link', 'set', 'vx0', 'name', 'eth1']);
  }
};
const tcVxlan: Topology = async (nets, a, b) => {
  const [n1, n2] = await underlay(nets);
  for (const [n, pod, local, remote] of [
    [n1, a, '10.98.0.1', '10.98.0.2'],
    [n2, b, '10.98.0.2', '10.98.0.1'],
  ] as const) {
    await nl.addVxlan(n, { name: 'vx0', vni: 42, local, remote });
    await nl.createVethPair({ hostName: 'hp', hostNetns: n, peerName: 'eth1', peerNetns: pod, mtu: 1450 });
    await nl.addRedirects(n, [
      { from: 'hp', to: 'vx0' },
      { from: 'vx0', to: 'hp' },
    ]);
  }
};

async function throughput(): Promise<void> {
  const topologies: [string, Topology, string][] = [
    ['plain veth pair', plainVeth, 'plain veth pair'],
    ['fast path, local (netlink: 2 veth + tc)', tcLocal, 'plain veth pair'],
    ['VXLAN by hand, pod to pod', vxlanByHand, 'VXLAN by hand, pod to pod'],
    ['fast path, 2 nodes (veth + tc + VXLAN)', tcVxlan, 'VXLAN by hand, pod to pod'],
  ];
  const gbit: Record<string, number[]> = {};
  const ratio: Record<string, number[]> = {};
  for (let r = 0; r < config.rounds; r++) {
    const round: Record<string, number> = {};
    for (const [name, build] of topologies) {
      const nets = new TestNetnsSet();
      try {
        const [a, b] = [await nets.add('a'), await nets.add('b')];
        await build(nets, a, b);
        await nl.applyIpContext(a, 'eth1', { addrs: ['10.199.0.1/24'] });
        await nl.applyIpContext(b, 'eth1', { addrs: ['10.199.0.2/24'] });
        const t0 = performance.now();
        await run(['ip', 'netns', 'exec', a.name!, 'ping', '-c', '1', '-W', '3', '10.199.0.2']);
        const firstPing = performance.now() - t0;
        round[name] = await iperf(a, b, '10.199.0.2');
        (gbit[name] ??= []).push(round[name]);
        (gbit[`${name} first ping`] ??= []).push(firstPing);
      } finally {
        nl.defaultNetlink().closeAll();
        await nets.cleanup();
      }
    }
    for (const [name, , base] of topologies) (ratio[name] ??= []).push(round[name] / round[base]);
  }
  table(
    `One TCP stream, iperf3 ${config.iperfSeconds} s, ${config.rounds} rounds (ratio to the baseline of the same round; first ping includes starting ping)`,
    topologies.map(([name, , base]) => [
      name,
      `${median(gbit[name]).toFixed(2).padStart(6)} Gbit/s   ratio ${median(ratio[name]).toFixed(2)} [${Math.min(...ratio[name]).toFixed(2)}..${Math.max(...ratio[name]).toFixed(2)}] vs ${base}   first ping ${ms(median(gbit[`${name} first ping`]))}`,
    ]),
  );
}

async function main(): Promise<void> {
  await run([process.execPath, resolve(__dirname, '../tools/build-addon.mjs')]);
  const nets = new TestNetnsSet();
  try {
    await costs(nets);
  } finally {
    nl.defaultNetlink().closeAll();
    await nets.cleanup();
  }
  if (config.iperf) await throughput();
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
