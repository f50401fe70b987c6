// Issue 6 figures: reconvergence time, from the kill to the first successful ping through the vWire,
// over several runs per scenario (median and worst). Upstream NSM at scale was reported at 15 s or more.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalMesh } from '../local/mesh';
import { meshPaths } from '../local/paths';
import type { PodSpec, Topology } from '../local/topology';
import { healedAt, untilClientReady } from './clientlog';
import { record } from './figures';
import { median, ms, runMain, table } from './stats';

const RUNS = Number(process.env.BENCH_HEAL_RUNS ?? 5);
const REMOTE = process.env.BENCH_HEAL_REMOTE !== '0';

const pingOnce = (ns: string, ip: string) =>
  new Promise<boolean>((resolve) => execFile('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '0.25', ip], (err) => resolve(!err)));

async function untilPing(ns: string, ip: string, limitMs = 60_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await pingOnce(ns, ip)) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`no ping to ${ip} from ${ns} within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const nse = (name: string, node: string, cidr: string, ip = false): PodSpec => ({
  name,
  node,
  command: 'nse-icmp-responder',
  env: { NSM_SERVICE_NAMES: ip ? 'icmp-responder-ip' : 'icmp-responder', NSM_CIDR_PREFIX: cidr, ...(ip ? { NSM_PAYLOAD: 'IP' } : {}) },
});
const nsc = (node: string, ip = false): PodSpec => ({ name: 'nsc', node, command: 'nsc', env: { NSM_NETWORK_SERVICES: `kernel://${ip ? 'icmp-responder-ip' : 'icmp-responder'}/nsm-1` } });

interface Scenario {
  name: string;
  nodes: number;
  nseNode: string;
  ip?: boolean;
  kill: string | 'nse';
}

async function run(s: Scenario): Promise<{ dataPath: number[]; controlPlane: number[] }> {
  const paths = meshPaths('bheal');
  const mesh = new LocalMesh(paths, () => undefined);
  const nodes: Topology['nodes'] = Array.from({ length: s.nodes }, (_, i) => ({ name: `node${i + 1}`, forwarder: 'ovs', env: {} }));
  const times: number[] = [];
  const control: number[] = [];
  try {
    await mesh.apply({ nodes, pods: [nse('nse-0', s.nseNode, '172.16.1.0/31', s.ip), nsc('node1', s.ip)] });
    let target = '172.16.1.0';
    await untilPing(paths.netns('nsc'), target);
    await untilClientReady(join(paths.logs, 'nsc.log'));
    for (let i = 0; i < RUNS; i++) {
      let t0: number;
      if (s.kill === 'nse') {
        // The replacement is up before the old endpoint goes, as in a rolling update.
        const next = `172.16.1.${2 * (i + 1)}`;
        await mesh.apply({ pods: [nse(`nse-${i + 1}`, s.nseNode, `${next}/31`, s.ip)] });
        await new Promise((r) => setTimeout(r, 1500));
        t0 = Date.now();
        await mesh.deletePod(`nse-${i}`, { force: true });
        target = next;
      } else {
        t0 = Date.now();
        mesh.supervisor.signal(s.kill, 'SIGKILL');
      }
      // Ping every ~20 ms from the kill until 3 s after the client reports its connection healed;
      // the outage is the longest stretch without a reply (a restart may break the path late).
      const ok: number[] = [];
      let healed: number | undefined;
      for (;;) {
        if (await pingOnce(paths.netns('nsc'), target)) ok.push(Date.now());
        healed ??= healedAt(join(paths.logs, 'nsc.log'), t0);
        const now = Date.now();
        if (healed !== undefined && now > healed + 3000 && ok.some((t) => t > healed!)) break;
        if (now - t0 > 60_000) {
          const tail = (f: string) => readFileSync(join(paths.logs, f), 'utf8').trimEnd().split('\n').slice(-6).join('\n');
          throw new Error(`no recovery within 60 s (healed: ${healed !== undefined}, run ${i + 1})\n${tail('nsc.log')}\n${tail(`${s.kill === 'nse' ? `nse-${i}` : s.kill}.log`)}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const marks = [t0, ...ok];
      times.push(Math.max(...marks.slice(1).map((t, k) => t - marks[k])));
      control.push(healed! - t0);
      // Let the restarted component settle before the next round.
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await mesh.down();
  }
  return { dataPath: times, controlPlane: control };
}

async function main() {
  const scenarios: Scenario[] = [
    { name: 'local forwarder death', nodes: 1, nseNode: 'node1', kill: 'forwarder-node1' },
    { name: 'local nsmgr restart', nodes: 1, nseNode: 'node1', kill: 'nsmgr-node1' },
    { name: 'local NSE death', nodes: 1, nseNode: 'node1', kill: 'nse' },
  ];
  if (REMOTE) {
    scenarios.push(
      { name: 'remote forwarder death (VXLAN)', nodes: 2, nseNode: 'node2', kill: 'forwarder-node2' },
      { name: 'remote nsmgr restart (VXLAN)', nodes: 2, nseNode: 'node2', kill: 'nsmgr-node2' },
      { name: 'remote NSE death (VXLAN)', nodes: 2, nseNode: 'node2', kill: 'nse' },
    );
  }
  const rows: [string, string][] = [];
  for (const s of scenarios) {
    try {
      const { dataPath: t, controlPlane: c } = await run(s);
      const key = s.name.replace(/\W+/g, '-').replace(/-+$/, '').toLowerCase();
      record({
        key: `heal.${key}.outage`,
        what: `heal, ${s.name}: data path outage, median of ${t.length}`,
        value: median(t),
        unit: 'ms',
        better: 'lower',
        target: 1000,
        baseline: `worst ${ms(Math.max(...t))}; client healed after ${ms(median(c))} (median)`,
      });
      rows.push([`${s.name}: data path outage`, `median ${ms(median(t))}, worst ${ms(Math.max(...t))} (runs: ${t.join(', ')} ms)`]);
      rows.push([`${s.name}: control plane healed`, `median ${ms(median(c))}, worst ${ms(Math.max(...c))} (runs: ${c.join(', ')} ms)`]);
    } catch (err) {
      rows.push([s.name, `FAILED: ${(err as Error).message}`]);
    }
  }
  table(`Reconvergence, ${RUNS} runs each: longest stretch without a ping reply through the vWire from the kill (data path outage), and kill → the client's connection healed through the new path (control plane); ${new Date().toISOString()}`, rows);
}

runMain(main);
