// What a user of one node waits for (issue 15): from the Request until the first ping through the
// new interface is answered, one client at a time and 50 at once, each client in a namespace of its
// own as pods are; Close until the forwarder's host objects are gone; nsmgr and forwarder memory per
// 100 live connections and at 500; iperf3 through a vWire against a plain veth pair in the same run.
// node1's forwarder runs the default datapath (tc: two veths joined in the kernel), node2's runs
// NSM_DATAPATH=ovs (the same through Open vSwitch's userspace datapath), side by side.
//
// The client is the SDK's client chain in this process, talking to the real nsmgr over its socket;
// the pings come from bench/probe.ts (raw sockets opened in each namespace beforehand, no process per
// ping). "Early ping" rows start pinging before the Request, like a pod whose traffic is waiting for
// its path (a heal): a neighbour lookup that failed while the path was being made must not cost the
// kernel's one-second retry. The last rows reproduce that second on bare devices, with and without
// the neighbour flush the forwarder does once a path is in place.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import { Context } from '@nsm/sdk/core/context';
import { handler, NetworkServiceHandler } from '@nsm/sdk/core/networkservice';
import type { X509Source } from '@nsm/sdk/spiffe/source';
import type { TokenGenerator } from '@nsm/sdk/token';
import { netnsByName } from '@nsm/sdk-kernel';
import { addRedirects, applyIpContext, createVethPair, flushNeighbors, listLinks } from '@nsm/sdk-kernel/netlink';
import { LocalMesh } from '../local/mesh';
import { meshPaths } from '../local/paths';
import { Figure, record } from './figures';
import { clientNamespaces, Prober } from './probe';
import { median, percentile, runMain, table } from './stats';

const SEQ = Number(process.env.BENCH_SEQUENTIAL ?? 50);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 50);
const CONNS = Number(process.env.BENCH_CONNS ?? 500);
const EARLY = Number(process.env.BENCH_EARLY ?? 10);
const IPERF_SEC = Number(process.env.BENCH_IPERF_SEC ?? 4);

const paths = meshPaths('bench');
const sh = (ns: string, argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });
const msSince = (t0: bigint, t1 = process.hrtime.bigint()) => Number(t1 - t0) / 1e6;
const rssMib = (pid?: number) => (pid ? Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024 : NaN);
const dstOf = (c: Connection) => c.context!.ipContext!.dstIpAddrs[0].split('/')[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms1 = (v: number) => `${v.toFixed(1)} ms`;

function iperf(serverNs: string, clientNs: string, ip: string): number {
  sh(serverNs, ['iperf3', '-s', '-1', '-D', '-B', ip]);
  execFileSync('sleep', ['0.3']);
  const out = JSON.parse(sh(clientNs, ['iperf3', '-c', ip, '-t', String(IPERF_SEC), '-J']));
  return out.end.sum_received.bits_per_second / 1e9;
}

class Node {
  readonly nsc: NetworkServiceHandler;
  readonly ns;
  private n = 0;

  constructor(
    readonly name: string,
    readonly clients: string[],
    readonly prober: Prober,
    me: { source: X509Source; tokens: TokenGenerator },
  ) {
    this.nsc = handler(client({ name: `bench-${name}`, url: `unix://${paths.nsmSocket(name)}`, tokens: me.tokens, source: me.source, refresh: false }));
    this.ns = netnsByName(paths.netns(name));
  }

  request(service: string, client: number): NetworkServiceRequest {
    return {
      connection: Connection.fromPartial({ id: `bench-${this.name}-${++this.n}`, networkService: service }),
      mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: `file:///var/run/netns/${this.clients[client]}`, name: 'nsm-1' } })],
    };
  }

  /** Request, then ping until the first reply: the Request call's time and the first reply's, from the same start. */
  async connect(service: string, client: number): Promise<{ conn: Connection; call: number; reply: number }> {
    const t0 = process.hrtime.bigint();
    const conn = await this.nsc.request(Context.background(), this.request(service, client));
    const call = msSince(t0);
    const r = await this.prober.firstReply(client, dstOf(conn), 1000, 10_000);
    return { conn, call, reply: msSince(t0, r.at) };
  }

  /** Pinging from before the Request (the address is known: the endpoint's prefix is a /31). */
  async connectEarly(service: string, client: number, target: string): Promise<{ conn: Connection; reply: number }> {
    const t0 = process.hrtime.bigint();
    const reply = this.prober.firstReply(client, target, 1000, 10_000);
    const conn = await this.nsc.request(Context.background(), this.request(service, client));
    return { conn, reply: msSince(t0, (await reply).at) };
  }

  /** Host-side veth ends the forwarder has on the node now. */
  async hostEnds(): Promise<number> {
    return (await listLinks(this.ns)).filter((l) => /^tap(src|dst)-/.test(l.name)).length;
  }

  /** Close, then until the forwarder's host objects for it are gone (`left` ends remain of other connections). */
  async close(conn: Connection, left = 0): Promise<number> {
    const t0 = process.hrtime.bigint();
    await this.nsc.close(Context.background(), conn);
    while ((await this.hostEnds()) > left) await sleep(1);
    return msSince(t0);
  }

  async warmUp(service: string): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.nsc.close(Context.background(), await this.nsc.request(Context.background().withTimeout(5000).ctx, this.request(service, 0)));
        return;
      } catch (err) {
        if (i > 150) throw err;
        await sleep(200);
      }
    }
  }
}

const FIGS: Figure[] = [];
const fig = (f: Figure) => FIGS.push(f);

/** Sequential: connect, ping, close, one client after the other. */
async function sequential(node: Node, service: string, path: string) {
  const call: number[] = [];
  const reply: number[] = [];
  const close: number[] = [];
  for (let i = 0; i < SEQ; i++) {
    const r = await node.connect(service, i % node.clients.length);
    call.push(r.call);
    reply.push(r.reply);
    close.push(await node.close(r.conn));
  }
  const base = `Request call median ${ms1(median(call))}`;
  fig({ key: `local.${path}.reply.seq.median`, what: `${path}: Request → first reply, sequential median (n=${SEQ})`, value: median(reply), unit: 'ms', better: 'lower', target: path === 'tc' ? 20 : undefined, baseline: base });
  fig({ key: `local.${path}.reply.seq.p99`, what: `${path}: Request → first reply, sequential p99`, value: percentile(reply, 99), unit: 'ms', better: 'lower', target: path === 'tc' ? 50 : undefined, baseline: `Request call p99 ${ms1(percentile(call, 99))}` });
  fig({ key: `local.${path}.close.median`, what: `${path}: Close → host objects gone, median`, value: median(close), unit: 'ms', better: 'lower', target: path === 'tc' ? 20 : undefined, baseline: `p99 ${ms1(percentile(close, 99))}` });
}

/** CONCURRENT clients at once, each in its own namespace: until all ping; then all close at once. */
async function concurrent(node: Node, service: string, path: string) {
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => node.connect(service, i)));
  const all = msSince(t0);
  const reply = results.map((r) => r.reply);
  fig({
    key: `local.${path}.reply.concurrent.all`,
    what: `${path}: ${CONCURRENT} clients at once, until all ping`,
    value: Math.max(...reply),
    unit: 'ms',
    better: 'lower',
    target: path === 'tc' ? 1500 : undefined,
    baseline: `per client median ${ms1(median(reply))}; ${((CONCURRENT / all) * 1000).toFixed(0)} connections/s`,
  });
  const c0 = process.hrtime.bigint();
  await Promise.all(results.map((r) => node.nsc.close(Context.background(), r.conn)));
  while ((await node.hostEnds()) > 0) await sleep(1);
  fig({ key: `local.${path}.close.concurrent.all`, what: `${path}: ${CONCURRENT} Closes at once, until all gone`, value: msSince(c0), unit: 'ms', better: 'lower' });
}

async function early(node: Node, service: string, target: string, path: string) {
  const reply: number[] = [];
  for (let i = 0; i < EARLY; i++) {
    const r = await node.connectEarly(service, i, target);
    reply.push(r.reply);
    await node.close(r.conn);
  }
  fig({ key: `local.${path}.reply.early.max`, what: `${path}: Request → first reply, pinging from before the Request (worst of ${EARLY})`, value: Math.max(...reply), unit: 'ms', better: 'lower', target: 1000, baseline: `median ${ms1(median(reply))}` });
}

/** Memory with CONNS live connections on node1, every 100; then they all close. */
async function memory(node: Node) {
  const pid = (name: string) => mesh.status().processes.find((p) => p.name === name)?.pid;
  const sample = () => ({ nsmgr: rssMib(pid(`nsmgr-${node.name}`)), forwarder: rssMib(pid(`forwarder-${node.name}`)) });
  const samples = [{ live: 0, ...sample() }];
  const live: Connection[] = [];
  while (live.length < CONNS) {
    const batch = Array.from({ length: Math.min(10, CONNS - live.length) }, (_, k) => live.length + k);
    live.push(...(await Promise.all(batch.map((i) => node.nsc.request(Context.background(), node.request('bench-tc', i))))));
    if (live.length % 100 === 0 || live.length === CONNS) {
      await sleep(500);
      samples.push({ live: live.length, ...sample() });
    }
  }
  // Still usable at the end.
  for (let i = CONNS - 5; i < CONNS; i++) await node.prober.firstReply(i, dstOf(live[i]), 1000, 5000);
  const at = samples[samples.length - 1];
  const per100 = (k: 'nsmgr' | 'forwarder') => (at[k] - samples[0][k]) / (at.live / 100);
  process.stdout.write(`memory samples (live connections: nsmgr / forwarder MiB): ${samples.map((s) => `${s.live}: ${s.nsmgr.toFixed(0)}/${s.forwarder.toFixed(0)}`).join(', ')}\n`);
  fig({ key: `local.mem.nsmgr.${CONNS}`, what: `nsmgr RSS with ${CONNS} live connections`, value: at.nsmgr, unit: 'MiB', better: 'lower', target: 100, baseline: `${samples[0].nsmgr.toFixed(1)} MiB idle; +${per100('nsmgr').toFixed(1)} MiB per 100` });
  fig({ key: `local.mem.forwarder.${CONNS}`, what: `forwarder RSS with ${CONNS} live connections`, value: at.forwarder, unit: 'MiB', better: 'lower', target: 150, baseline: `${samples[0].forwarder.toFixed(1)} MiB idle; +${per100('forwarder').toFixed(1)} MiB per 100` });
  fig({ key: 'local.mem.nsmgr.per100', what: 'nsmgr RSS per 100 live connections', value: per100('nsmgr'), unit: 'MiB', better: 'lower', baseline: `samples every 100: ${samples.map((x) => x.nsmgr.toFixed(0)).join(', ')} MiB` });
  fig({ key: 'local.mem.forwarder.per100', what: 'forwarder RSS per 100 live connections', value: per100('forwarder'), unit: 'MiB', better: 'lower', baseline: `samples every 100: ${samples.map((x) => x.forwarder.toFixed(0)).join(', ')} MiB` });
  const c0 = process.hrtime.bigint();
  while (live.length) await Promise.all(live.splice(0, 10).map((c) => node.nsc.close(Context.background(), c)));
  while ((await node.hostEnds()) > 0) await sleep(5);
  fig({ key: `local.close.${CONNS}.rate`, what: `Closes of ${CONNS} connections, 10 at a time`, value: (CONNS / msSince(c0)) * 1000, unit: '/s', better: 'higher' });
}

/** iperf3 through a vWire of each datapath, against a plain veth pair, alternating, best of two. */
async function throughput(tc: Node, ovs: Node) {
  const a = paths.netns('plain-a');
  const b = paths.netns('plain-b');
  execFileSync('ip', ['-batch', '-'], { input: `netns add ${a}\nnetns add ${b}\n` });
  execFileSync('ip', ['-n', a, 'link', 'add', 'va', 'up', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b]);
  sh(a, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'va']);
  sh(b, ['ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'vb']);
  sh(b, ['ip', 'link', 'set', 'vb', 'up']);
  const ct = (await tc.connect('bench-tc', 0)).conn;
  const co = (await ovs.connect('bench-ovs', 1)).conn;
  const plain: number[] = [];
  const viaTc: number[] = [];
  const viaOvs: number[] = [];
  // Alternating, best of three each: one stream's rate on this VM moves by ±15% from run to run.
  for (let round = 0; round < 3; round++) {
    plain.push(iperf(b, a, '192.0.2.2'));
    viaTc.push(iperf(paths.netns('nse-tc'), tc.clients[0], dstOf(ct)));
  }
  viaOvs.push(iperf(paths.netns('nse-ovs'), ovs.clients[1], dstOf(co)));
  await tc.close(ct);
  await ovs.close(co);
  const p = Math.max(...plain);
  fig({ key: 'local.iperf.tc.ratio', what: 'iperf3 1 TCP stream: vWire (tc) / plain veth pair', value: Math.max(...viaTc) / p, unit: 'x', better: 'higher', target: 0.9, baseline: `vWire ${Math.max(...viaTc).toFixed(2)} vs plain veth ${p.toFixed(2)} Gbit/s` });
  fig({ key: 'local.iperf.ovs.ratio', what: 'iperf3 1 TCP stream: vWire (OVS userspace) / plain veth pair', value: Math.max(...viaOvs) / p, unit: 'x', better: 'higher', baseline: `vWire ${Math.max(...viaOvs).toFixed(2)} vs plain veth ${p.toFixed(2)} Gbit/s` });
}

/**
 * The one-second wait, reproduced on bare devices: a pod pings its peer while the two veths are not
 * joined yet, its neighbour lookup fails, then the join (a tc redirect) goes in; the next ARP waits
 * for the kernel's retry timer. Configuring the pods only after the join does not avoid it (the first
 * pod up sends before the other is up: a second too); the forwarder clears the pods' neighbour
 * entries once the path is in place (PortRecord.settle). All three, timed from the join.
 */
async function neighbourRetry(prober: Prober) {
  const [fwd, pa, pb] = ['nb-fwd', 'nb-a', 'nb-b'].map((s) => paths.netns(s));
  execFileSync('ip', ['-batch', '-'], { input: [fwd, pa, pb].map((x) => `netns add ${x}`).join('\n') + '\n' });
  const [nf, na, nb] = [fwd, pa, pb].map(netnsByName);
  const results: Record<'before' | 'after' | 'flush', number[]> = { before: [], after: [], flush: [] };
  const probeId = 4000;
  await prober.open(probeId, na.path);
  const configure = async () => {
    await applyIpContext(na, 'pa', { addrs: ['198.51.100.1/32'], routes: [{ prefix: '198.51.100.2/32' }] });
    await applyIpContext(nb, 'pb', { addrs: ['198.51.100.2/32'], routes: [{ prefix: '198.51.100.1/32' }] });
  };
  for (let round = 0; round < 9; round++) {
    const kind = (['before', 'after', 'flush'] as const)[round % 3];
    await createVethPair({ hostName: 'ha', hostNetns: nf, peerName: 'pa', peerNetns: na });
    await createVethPair({ hostName: 'hb', hostNetns: nf, peerName: 'pb', peerNetns: nb });
    if (kind !== 'after') await configure();
    const reply = prober.firstReply(probeId, '198.51.100.2', 1000, 5000);
    await sleep(300); // pinging: unanswered ARP (configured before), or no route yet (after)
    const t0 = process.hrtime.bigint();
    await addRedirects(nf, [
      { from: 'ha', to: 'hb' },
      { from: 'hb', to: 'ha' },
    ]);
    if (kind === 'after') await configure();
    if (kind === 'flush') await Promise.all([flushNeighbors(na, 'pa'), flushNeighbors(nb, 'pb')]);
    results[kind].push(msSince(t0, (await reply).at));
    execFileSync('ip', ['-n', fwd, 'link', 'del', 'ha']);
    execFileSync('ip', ['-n', fwd, 'link', 'del', 'hb']);
  }
  prober.close(probeId);
  execFileSync('ip', ['-batch', '-'], { input: [fwd, pa, pb].map((x) => `netns del ${x}`).join('\n') + '\n' });
  fig({
    key: 'local.neigh.flush',
    what: 'first reply after a join the pod pinged through beforehand, neighbours flushed (as the forwarder does)',
    value: median(results.flush),
    unit: 'ms',
    better: 'lower',
    baseline: `no flush: ${ms1(median(results.before))}; pods configured after the join: ${ms1(median(results.after))} (the kernel's ARP retry)`,
  });
}

const mesh = new LocalMesh(paths, () => undefined);

async function main() {
  await mesh.down().catch(() => undefined);
  const prober = new Prober();
  try {
    await mesh.apply({
      nodes: [
        { name: 'node1', forwarder: 'ovs', env: {} },
        { name: 'node2', forwarder: 'ovs', env: {}, forwarderEnv: { NSM_DATAPATH: 'ovs' } },
      ],
      pods: [
        { name: 'nse-tc', node: 'node1', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'bench-tc', NSM_CIDR_PREFIX: '172.20.0.0/16' } },
        { name: 'nse-tc-early', node: 'node1', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'bench-tc-early', NSM_CIDR_PREFIX: '172.21.0.100/31' } },
        { name: 'nse-ovs', node: 'node2', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'bench-ovs', NSM_CIDR_PREFIX: '172.22.0.0/16' } },
        { name: 'nse-ovs-early', node: 'node2', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'bench-ovs-early', NSM_CIDR_PREFIX: '172.23.0.100/31' } },
      ],
    });
    const clients = await clientNamespaces(prober, paths.netns, Math.max(CONNS, SEQ, CONCURRENT, EARLY, 2));
    const me = await mesh.workload('bench-client', 3_600_000);
    const tc = new Node('node1', clients, prober, me);
    const ovs = new Node('node2', clients, prober, me);
    for (const [n, s] of [
      [tc, 'bench-tc'],
      [tc, 'bench-tc-early'],
      [ovs, 'bench-ovs'],
      [ovs, 'bench-ovs-early'],
    ] as const)
      await n.warmUp(s);
    process.stderr.write('sequential\n');
    await sequential(tc, 'bench-tc', 'tc');
    await sequential(ovs, 'bench-ovs', 'ovs');
    process.stderr.write('concurrent\n');
    await concurrent(tc, 'bench-tc', 'tc');
    await concurrent(ovs, 'bench-ovs', 'ovs');
    process.stderr.write('early ping\n');
    await early(tc, 'bench-tc-early', '172.21.0.100', 'tc');
    await early(ovs, 'bench-ovs-early', '172.23.0.100', 'ovs');
    process.stderr.write('memory\n');
    await memory(tc);
    process.stderr.write('throughput\n');
    await throughput(tc, ovs);
    process.stderr.write('neighbour retry\n');
    await neighbourRetry(prober);
    record(...FIGS);
    table(
      `Local mesh: node1 tc (default), node2 NSM_DATAPATH=ovs; ${new Date().toISOString()}`,
      FIGS.map((f) => [f.what, `${f.unit === 'ms' ? ms1(f.value) : f.value.toFixed(f.unit === 'x' ? 3 : 1)} ${f.unit === 'ms' ? '' : f.unit}${f.baseline ? `  (${f.baseline})` : ''}`]),
    );
  } finally {
    prober.stop();
    await mesh.down();
  }
}

runMain(main);
