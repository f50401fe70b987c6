// Issue 15: what one connection's OVS work costs when spoken directly (OVSDB JSON-RPC + OpenFlow,
// DirectOvs) against today's process per call (ovs-vsctl/ovs-ofctl, BatchingOvs), in the same run
// on the same private switch. Per connection: "add" = two ports (with external_ids, returning their
// OpenFlow numbers) + the two cross-connect rules; "delete" = the rules by cookie + the two ports.
// Measured with 0, 100 and 500 other ports on the bridge, and for many connections at once (group
// commit). Only OVS work is timed: the veth pairs exist before and are removed after.
//
//   node --import=./tools/register-ts.mjs bench/ovs-proto.ts [--help]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { exec } from '@nsm/sdk-kernel/exec';
import { netnsByName } from '@nsm/sdk-kernel/netns';
import { BatchingOvs, OvsDaemon } from '@nsm/sdk-ovs';
import { crossConnectFlows, flowCookie } from '@nsm/sdk-ovs/flows';
import type { Ovs } from '@nsm/sdk-ovs/ovs';
import { DirectOvs } from '@nsm/sdk-ovs/direct';
import { median, ms, percentile, table } from './stats';

const SETTINGS = {
  BENCH_OVS_ITERATIONS: ['25', 'connections added and deleted one after the other, per path and level'],
  BENCH_OVS_LEVELS: ['0,100,500', 'numbers of other ports on the bridge to measure at'],
  BENCH_OVS_CONCURRENT: ['50', 'connections added (then deleted) at once, per path, at level 0'],
} as const;

if (process.argv.includes('--help')) {
  process.stdout.write('bench/ovs-proto.ts: OVS per-connection cost, spawned ovs-vsctl/ovs-ofctl vs direct OVSDB/OpenFlow.\nSettings (environment):\n');
  for (const [k, [def, what]] of Object.entries(SETTINGS)) process.stdout.write(`  ${k} (default ${def}): ${what}\n`);
  process.exit(0);
}
const env = (k: keyof typeof SETTINGS) => process.env[k] ?? SETTINGS[k][0];
const ITER = Number(env('BENCH_OVS_ITERATIONS'));
const LEVELS = env('BENCH_OVS_LEVELS').split(',').map(Number);
const CONCURRENT = Number(env('BENCH_OVS_CONCURRENT'));

const BR = 'br-bench';
const tag = randomBytes(3).toString('hex');
const nsName = `nsmbench-ovs-${tag}`;
const ip = (lines: string[]) => exec(['ip', '-n', nsName, '-batch', '-'], { input: lines.join('\n') + '\n', timeoutMs: 120_000 });
const now = () => performance.now();

/** `n` veth pairs in the node namespace, down (no traffic), named <prefix><i>a / <prefix><i>b. */
async function vethPairs(prefix: string, n: number): Promise<string[][]> {
  const pairs = Array.from({ length: n }, (_, i) => [`${prefix}${i}a`, `${prefix}${i}b`]);
  for (let i = 0; i < pairs.length; i += 200) await ip(pairs.slice(i, i + 200).map(([a, b]) => `link add ${a} type veth peer name ${b}`));
  return pairs;
}

async function delLinks(names: string[]): Promise<void> {
  for (let i = 0; i < names.length; i += 200) await ip(names.slice(i, i + 200).map((n) => `link del ${n}`)).catch(() => undefined);
}

interface Sample {
  add: number[];
  del: number[];
}

/** One connection's OVS work, as the forwarder's elements do it (kernel.ts addPorts, xconnect.ts rules). */
async function connect(ovs: Ovs, [a, b]: string[], id: string): Promise<void> {
  const ofp = await ovs.addPorts(BR, [
    { name: a, externalIds: { 'nsm-connection-id': id, 'nsm-side': 'src' } },
    { name: b, externalIds: { 'nsm-connection-id': id, 'nsm-side': 'dst' } },
  ]);
  await ovs.addFlows(BR, crossConnectFlows(ofp[a], ofp[b], flowCookie(id)));
}

async function disconnect(ovs: Ovs, [a, b]: string[], id: string): Promise<void> {
  await ovs.delFlows(BR, { cookie: flowCookie(id) });
  await ovs.delPorts(BR, [a, b]);
}

async function main() {
  process.stdout.write(`bench/ovs-proto.ts: ${Object.keys(SETTINGS).map((k) => `${k}=${env(k as keyof typeof SETTINGS)}`).join(' ')} (load average ${loadavg()[0].toFixed(1)})\n`);
  const tmp = mkdtempSync('/tmp/nsmbovs-');
  await exec(['ip', 'netns', 'add', nsName]);
  let daemon: OvsDaemon | undefined;
  let direct: DirectOvs | undefined;
  const closers: (() => void)[] = [];
  try {
    daemon = await OvsDaemon.start({ runDir: join(tmp, 'ovs'), netns: netnsByName(nsName), logLevel: 'warn' });
    const endpoint = { dbSocket: daemon.dbSocket, runDir: daemon.runDir };
    const spawn = new BatchingOvs(endpoint);
    direct = new DirectOvs(endpoint);
    const noWait = new DirectOvs(endpoint, { waitOnDelete: false });
    closers.push(() => noWait.close());
    await direct.ensureBridge(BR);
    // How much of the direct path's "add" is spent waiting for ovs-vswitchd to assign OpenFlow numbers.
    let waiting = 0;
    for (const o of [direct, noWait]) {
      const orig = o.db.waitOfports.bind(o.db);
      o.db.waitOfports = async (...a) => {
        const t = now();
        try {
          return await orig(...a);
        } finally {
          waiting += now() - t;
        }
      };
    }
    const paths: [string, Ovs][] = [
      ['spawn (ovs-vsctl/ovs-ofctl)', spawn],
      ['direct (OVSDB/OpenFlow)', direct],
      ['direct, delete not waiting for ovs-vswitchd', noWait],
    ];
    const pairs = await vethPairs('m', ITER * paths.length);
    const rows: [string, string][] = [];
    const summary: Record<string, Record<string, Sample>> = {};

    for (const level of LEVELS) {
      const bg = level > 0 ? await vethPairs('g', Math.ceil(level / 2)) : [];
      const bgNames = bg.flat().slice(0, level);
      if (bgNames.length) await direct.addPorts(BR, bgNames);
      const samples: Record<string, Sample> = Object.fromEntries(paths.map(([name]) => [name, { add: [], del: [] }]));
      // Warm-up (first process spawns, first connections), not counted.
      for (const [, ovs] of paths) {
        await connect(ovs, pairs[0], 'warm');
        await disconnect(ovs, pairs[0], 'warm');
      }
      let k = 0;
      waiting = 0;
      for (let i = 0; i < ITER; i++) {
        // Alternate the order so that neither path always runs right after the other.
        const order = i % 2 === 0 ? paths : [...paths].reverse();
        for (const [name, ovs] of order) {
          const pair = pairs[k++];
          const id = `bench-${level}-${i}-${name}`;
          const t0 = now();
          await connect(ovs, pair, id);
          const t1 = now();
          await disconnect(ovs, pair, id);
          const t2 = now();
          samples[name].add.push(t1 - t0);
          samples[name].del.push(t2 - t1);
        }
      }
      summary[level] = samples;
      for (const [name] of paths) {
        const s = samples[name];
        rows.push([`${level} other ports, ${name}: add 2 ports + 2 rules`, `median ${ms(median(s.add))}, p99 ${ms(percentile(s.add, 99))}`]);
        rows.push([`${level} other ports, ${name}: delete`, `median ${ms(median(s.del))}, p99 ${ms(percentile(s.del, 99))}`]);
      }
      const [sp, di] = paths.map(([name]) => samples[name]);
      rows.push([`${level} other ports: spawn / direct (median add, delete)`, `${(median(sp.add) / median(di.add)).toFixed(1)}x, ${(median(sp.del) / median(di.del)).toFixed(1)}x`]);
      rows.push([`${level} other ports: direct add, mean time waiting for ovs-vswitchd's ofports`, ms(waiting / (2 * ITER))]);
      if (bgNames.length) await direct.delPorts(BR, bgNames);
      await delLinks(bg.map(([a]) => a));
    }

    // Many connections at once: group commit merges their transactions and rule batches.
    const many = await vethPairs('c', CONCURRENT);
    for (const [name, ovs] of paths) {
      const t0 = now();
      await Promise.all(many.map((p, i) => connect(ovs, p, `many-${i}`)));
      const t1 = now();
      await Promise.all(many.map((p, i) => disconnect(ovs, p, `many-${i}`)));
      const t2 = now();
      rows.push([`${CONCURRENT} at once, ${name}: all added / all deleted`, `${ms(t1 - t0)} / ${ms(t2 - t1)}`]);
    }
    await delLinks(many.map(([a]) => a));
    await delLinks(pairs.map(([a]) => a));
    table(`OVS per connection, ${ITER} connections per path and level (${new Date().toISOString().slice(0, 10)})`, rows);
  } finally {
    direct?.close();
    closers.forEach((c) => c());
    await daemon?.stop().catch(() => undefined);
    await exec(['ip', 'netns', 'del', nsName]).catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
