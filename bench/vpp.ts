// Issue 14 figures: the VPP forwarder next to the OVS forwarder and a plain veth pair, in one run.
// Request → first ping reply through a new vWire (Kernel2Kernel on one node, the bench process as the
// client), iperf3 through one vWire and across two nodes (VXLAN, WireGuard), and heal: kill → first
// reply again after the client's forwarder-vpp dies, and after its VPP restarts. Needs the VPP
// runtime beside the repository (../shared/vpp/runtime); says so and stops without it.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import { Context } from '@nsm/sdk/core/context';
import { handler } from '@nsm/sdk/core/networkservice';
import { vppRuntimeDir, vppRuntimeMissing } from '@nsm/sdk-vpp/runtime';
import { createNetns, deleteNetns } from '../local/host';
import { LocalMesh } from '../local/mesh';
import { meshPaths } from '../local/paths';
import type { ForwarderKind, PodSpec } from '../local/topology';
import { healedAt, untilClientReady } from './clientlog';
import { median, ms, percentile, runMain, table } from './stats';

const REQUESTS = Number(process.env.BENCH_VPP_REQUESTS ?? 20);
const HEAL_RUNS = Number(process.env.BENCH_VPP_HEAL_RUNS ?? 3);
/** Parts to run (local, remote, heal; comma-separated), all by default. */
const PARTS = (process.env.BENCH_VPP_PARTS ?? 'local,remote,heal').split(',');
const root = join(__dirname, '..');

const sh = (ns: string, argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });
const pingOnce = (ns: string, ip: string, waitS = '0.25') => new Promise<boolean>((resolve) => execFile('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', waitS, ip], (err) => resolve(!err)));

async function untilPing(ns: string, ip: string, limitMs = 60_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await pingOnce(ns, ip)) return performance.now() - t0;
    if (performance.now() - t0 > limitMs) throw new Error(`no ping to ${ip} from ${ns} within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function iperf(serverNs: string, clientNs: string, ip: string): Promise<number> {
  execFileSync('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-D', '-B', ip]);
  await new Promise((r) => setTimeout(r, 300));
  const out = JSON.parse(sh(clientNs, ['iperf3', '-c', ip, '-t', '4', '-J']));
  return out.end.sum_received.bits_per_second / 1e9;
}

const gbit = (v: number) => `${v.toFixed(2)} Gbit/s`;
const nse = (name: string, node: string, service: string, cidr: string, ip: boolean): PodSpec => ({
  name,
  node,
  command: 'nse-icmp-responder',
  env: { NSM_SERVICE_NAMES: service, NSM_CIDR_PREFIX: cidr, ...(ip ? { NSM_PAYLOAD: 'IP' } : {}) },
});
const nsc = (name: string, node: string, service: string): PodSpec => ({ name, node, command: 'nsc', env: { NSM_NETWORK_SERVICES: `kernel://${service}/nsm-1` } });

/** One node of `kind`: Request → first reply, REQUESTS times one after the other, then iperf3 through the last vWire. */
async function local(kind: ForwarderKind): Promise<{ firstReply: number[]; request: number[]; iperf: number }> {
  const paths = meshPaths(`bv${kind}`);
  const mesh = new LocalMesh(paths, () => undefined);
  const benchNs = paths.netns('bench-client');
  try {
    await mesh.apply({ nodes: [{ name: 'node1', forwarder: kind, env: {} }], pods: [nse('nse', 'node1', 'bench', '172.20.0.0/16', true)] });
    await createNetns(benchNs);
    const me = await mesh.workload('bench-client');
    const h = handler(client({ name: 'bench', url: `unix://${paths.nsmSocket('node1')}`, tokens: me.tokens, source: me.source, refresh: false }));
    const ctx = Context.background();
    let n = 0;
    const request = (): NetworkServiceRequest => ({
      connection: Connection.fromPartial({ id: `bench-${++n}`, networkService: 'bench' }),
      mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: `file:///var/run/netns/${benchNs}`, name: `b${n}` } })],
    });
    for (let i = 0; ; i++) {
      try {
        await h.close(ctx, await h.request(ctx, request()));
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const firstReply: number[] = [];
    const requestMs: number[] = [];
    let last: Connection | undefined;
    for (let i = 0; i < REQUESTS; i++) {
      if (last) await h.close(ctx, last);
      const t0 = performance.now();
      last = await h.request(ctx, request());
      requestMs.push(performance.now() - t0);
      await untilPing(benchNs, last.context!.ipContext!.dstIpAddrs[0].split('/')[0], 10_000);
      firstReply.push(performance.now() - t0);
    }
    const bw = await iperf(paths.netns('nse'), benchNs, last!.context!.ipContext!.dstIpAddrs[0].split('/')[0]);
    await h.close(ctx, last!);
    return { firstReply, request: requestMs, iperf: bw };
  } finally {
    await deleteNetns(benchNs).catch(() => undefined);
    await mesh.down();
  }
}

/** Two VPP nodes: iperf3 client on node1 → endpoint on node2, over VXLAN (Ethernet) and WireGuard (IP). */
async function remote(): Promise<{ vxlan: number; wireguard: number }> {
  const paths = meshPaths('bvremote');
  const mesh = new LocalMesh(paths, () => undefined);
  try {
    await mesh.apply({
      nodes: ['node1', 'node2'].map((name) => ({ name, forwarder: 'vpp' as const, env: {} })),
      pods: [nse('nse-eth', 'node2', 'eth', '172.21.0.0/31', false), nsc('nsc-eth', 'node1', 'eth'), nse('nse-ip', 'node2', 'ip', '172.22.0.0/31', true), nsc('nsc-ip', 'node1', 'ip')],
    });
    await untilPing(paths.netns('nsc-eth'), '172.21.0.0');
    await untilPing(paths.netns('nsc-ip'), '172.22.0.0');
    return { vxlan: await iperf(paths.netns('nse-eth'), paths.netns('nsc-eth'), '172.21.0.0'), wireguard: await iperf(paths.netns('nse-ip'), paths.netns('nsc-ip'), '172.22.0.0') };
  } finally {
    await mesh.down();
  }
}

/** Two VPP nodes, client on node1, endpoint on node2 (IP, WireGuard): kill `proc` HEAL_RUNS times. */
async function heal(proc: 'forwarder-node1' | 'vpp-node1'): Promise<{ outage: number[]; healed: number[] }> {
  const paths = meshPaths('bvheal');
  const mesh = new LocalMesh(paths, () => undefined);
  const outage: number[] = [];
  const healed: number[] = [];
  try {
    await mesh.apply({ nodes: ['node1', 'node2'].map((name) => ({ name, forwarder: 'vpp' as const, env: {} })), pods: [nse('nse', 'node2', 'ip', '172.23.0.0/31', true), nsc('nsc', 'node1', 'ip')] });
    const ns = paths.netns('nsc');
    await untilPing(ns, '172.23.0.0');
    await untilClientReady(join(paths.logs, 'nsc.log'));
    for (let i = 0; i < HEAL_RUNS; i++) {
      const t0 = Date.now();
      mesh.supervisor.signal(proc, 'SIGKILL');
      // The data path goes with the dead forwarder's successor's clean-up (or with VPP): ping every
      // ~10 ms until a reply comes after the client reported its connection healed.
      let back: number | undefined;
      let h: number | undefined;
      for (;;) {
        const ok = await pingOnce(ns, '172.23.0.0');
        h ??= healedAt(join(paths.logs, 'nsc.log'), t0);
        if (ok && h !== undefined) {
          back = Date.now();
          break;
        }
        if (Date.now() - t0 > 60_000) {
          const tail = (f: string) => readFileSync(join(paths.logs, f), 'utf8').trimEnd().split('\n').slice(-4).join('\n');
          throw new Error(`${proc}: no recovery within 60 s (healed: ${h !== undefined}, run ${i + 1})\n${tail('nsc.log')}\n${tail('forwarder-node1.log')}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      outage.push(back - t0);
      healed.push(h - t0);
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await mesh.down();
  }
  return { outage, healed };
}

async function plainVeth(): Promise<number> {
  const a = 'bv-plain-a';
  const b = 'bv-plain-b';
  await createNetns(a);
  await createNetns(b);
  try {
    execFileSync('ip', ['-n', a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b]);
    sh(a, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'va']);
    sh(b, ['ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'vb']);
    sh(a, ['ip', 'link', 'set', 'va', 'up']);
    sh(b, ['ip', 'link', 'set', 'vb', 'up']);
    return await iperf(b, a, '192.0.2.2');
  } finally {
    await deleteNetns(a);
    await deleteNetns(b);
  }
}

async function main() {
  const missing = vppRuntimeMissing(vppRuntimeDir(root));
  if (missing) {
    process.stdout.write(`bench/vpp.ts skipped: ${missing}\n`);
    return;
  }
  const rows: [string, string][] = [];
  const row = (k: string, f: () => string) => {
    try {
      rows.push([k, f()]);
    } catch (err) {
      rows.push([k, `FAILED: ${(err as Error).message}`]);
    }
  };
  const results: Record<string, Awaited<ReturnType<typeof local>>> = {};
  for (const kind of PARTS.includes('local') ? (['vpp', 'ovs'] as const) : []) {
    try {
      results[kind] = await local(kind);
    } catch (err) {
      rows.push([`Kernel2Kernel on forwarder-${kind}`, `FAILED: ${(err as Error).message}`]);
    }
  }
  const plain = PARTS.includes('local') ? await plainVeth() : NaN;
  for (const kind of ['vpp', 'ovs'] as const) {
    const r = results[kind];
    if (!r) continue;
    row(`forwarder-${kind}: Request → first reply (n=${REQUESTS}, one at a time)`, () => `median ${ms(median(r.firstReply))}, p99 ${ms(percentile(r.firstReply, 99))} (Request alone: median ${ms(median(r.request))})`);
    row(`forwarder-${kind}: iperf3 through the vWire (1 TCP stream, 4 s)`, () => `${gbit(r.iperf)} (ratio to plain veth ${(r.iperf / plain).toFixed(3)})`);
  }
  if (PARTS.includes('local')) rows.push(['plain veth pair, same run', gbit(plain)]);
  if (PARTS.includes('remote')) try {
    const r = await remote();
    rows.push(['forwarder-vpp across two nodes: iperf3 over VXLAN / WireGuard', `${gbit(r.vxlan)} / ${gbit(r.wireguard)}`]);
  } catch (err) {
    rows.push(['forwarder-vpp across two nodes', `FAILED: ${(err as Error).message}`]);
  }
  for (const [proc, what] of PARTS.includes('heal') ? ([['forwarder-node1', 'forwarder-vpp death'], ['vpp-node1', 'VPP restart']] as const) : []) {
    try {
      const r = await heal(proc);
      rows.push([`heal after ${what} (WireGuard, ${HEAL_RUNS} runs): kill → first reply / → client healed`, `median ${ms(median(r.outage))} / ${ms(median(r.healed))} (runs: ${r.outage.join(', ')} / ${r.healed.join(', ')} ms)`]);
    } catch (err) {
      rows.push([`heal after ${what}`, `FAILED: ${(err as Error).message}`]);
    }
  }
  table(`VPP forwarder (VPP 25.02, af_packet, 1 main core, 4k pages) next to forwarder-ovs, ${new Date().toISOString()}`, rows);
}

runMain(main);
