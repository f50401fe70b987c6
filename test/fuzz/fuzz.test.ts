// Issue 12, hostile input: thousands of generated hostile calls (Requests, Closes, monitor selectors,
// registrations, Finds, Unregisters, raw bytes) against a live registry, nsmgr, forwarder (OVS) and
// endpoint running as real processes, and a hostile endpoint answering a good client's Requests with
// malformed replies. Afterwards: no process crashed or restarted, none of them started a program
// carrying fuzz input (strace on all of them), nothing was left (namespaces, links, OVS ports and
// rules, registry entries, connections, child processes), every answer was a clear refusal, and a
// good client is still served. The seed is printed; NSM_FUZZ_SEED replays a run, NSM_FUZZ_CASES and
// NSM_FUZZ_REPLIES change its size, NSM_FUZZ_TRACE=0 leaves strace out (it halves the call rate).
import { execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Connection, ConnectionEvent, MonitorScopeSelector, NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import { registrationClient, RegistrationClient } from '@nsm/sdk/chains/registry';
import { Context } from '@nsm/sdk/core/context';
import { handler } from '@nsm/sdk/core/networkservice';
import { findAll } from '@nsm/sdk/core/registry';
import { kernelMechanismClient } from '@nsm/sdk/elements/kernel';
import { NsmConnection, monitorStream } from '@nsm/sdk/grpc/clients';
import { nseRegistryClient, nsRegistryClient } from '@nsm/sdk/grpc/registry';
import { e2eUnavailable, eventually, inNs, nsc, nse, TestMesh } from '../e2e/harness';
import { cases, FuzzCase, GenContext, MARKER, Rng, Target } from './generate';
import { HostileEndpoint } from './hostile';
import { Outcome, pool, RawClient } from './rawclient';
import { ExecTrace, straceAvailable } from './trace';

const skip = e2eUnavailable() ?? (straceAvailable() ? undefined : 'strace missing (run make host-deps)');
const d = skip ? describe.skip : describe;
if (skip) test.skip(`fuzz skipped: ${skip}`, () => undefined);

jest.setTimeout(300_000);

const SEED = Number(process.env.NSM_FUZZ_SEED ?? randomInt(2 ** 31));
const CASES = Number(process.env.NSM_FUZZ_CASES ?? 10_000);
const HOSTILE_REPLIES = Number(process.env.NSM_FUZZ_REPLIES ?? 100);
const CONCURRENCY = 8;

const { status: S } = grpc;
const CLEAR = new Set([S.INVALID_ARGUMENT, S.RESOURCE_EXHAUSTED, S.PERMISSION_DENIED]);
/** What garbage bytes may also get: they can decode to a Close of no connection, a Find or Unregister of nothing, or a Request for an unknown service. */
const CLEAR_FOR_GARBAGE = new Set([...CLEAR, S.NOT_FOUND]);
const OK_FOR_GARBAGE = new Set(['Close', 'Find', 'Unregister']);

d('hostile input against a live mesh', () => {
  const t = new TestMesh(`fz${process.pid % 10000}`);
  // The fuzzer is a workload of the mesh with a valid SVID (a pod gone bad), and so is the hostile endpoint.
  let me: Awaited<ReturnType<TestMesh['mesh']['workload']>>;
  const url: Record<Target, string> = {} as Record<Target, string>;
  let gen: GenContext;
  let hostile: HostileEndpoint;
  let reg: RegistrationClient;

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED}: NSM_FUZZ_SEED=${SEED} replays this run (${CASES} cases)`);
    await t.down().catch(() => undefined);
    await t.up();
    await t.pods(
      nse('nse-good', { NSM_SERVICE_NAMES: 'fz-good', NSM_CIDR_PREFIX: '172.16.7.100/30' }),
      nsc('nsc-good', { NSM_NETWORK_SERVICES: 'kernel://fz-good/nsm-1' }),
    );
    Object.assign(url, {
      nsmgr: `unix://${t.paths.nsmSocket('node1')}`,
      forwarder: `unix://${join(t.paths.nodeDir('node1'), 'forwarder.sock')}`,
      nse: `unix://${join(t.paths.podDir('nse-good'), 'nse.sock')}`,
      registry: `unix://${join(t.paths.root, 'registry.sock')}`,
    });
    me = await t.mesh.workload('fz-fuzzer', 120_000);
    gen = { netnsUrl: `file:///var/run/netns/${t.ns('nsc-good')}` };
    await eventually('nsm-1 in the good client', () => inNs(t.ns('nsc-good'), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1']).includes('172.16.7.101'));
    await eventually('the good client to ping its endpoint', () => !!inNs(t.ns('nsc-good'), ['ping', '-c', '1', '-W', '1', '172.16.7.100']));
    // The hostile endpoint registers through the nsmgr like any endpoint.
    hostile = new HostileEndpoint(new Rng(SEED ^ 0x5eed), gen);
    const hostileUrl = `unix://${join(t.paths.root, 'fz-hostile.sock')}`;
    const hostileId = await t.mesh.workload('fz-hostile-nse');
    await hostile.start(hostileUrl, hostileId.source);
    reg = registrationClient({ url: url.nsmgr, source: hostileId.source });
    const ctx = Context.background().withTimeout(10_000).ctx;
    await reg.ns.register(ctx, NetworkService.fromPartial({ name: 'fz-hostile', payload: 'ETHERNET' }));
    await reg.nse.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'fz-hostile-nse', networkServiceNames: ['fz-hostile'], url: hostileUrl }));
  });

  afterAll(async () => {
    await reg?.close().catch(() => undefined);
    await hostile?.stop();
    await t.down();
  });

  /** Everything the mesh holds that a request or registration could have made. */
  async function snapshot() {
    const mine = t.paths.mesh;
    const all = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter(Boolean);
    // This mesh's namespaces, and anywhere on the host what an injected command would have made.
    const netns = all.filter((n) => n.startsWith(`${mine}-`)).sort();
    const injected = [...all.filter((n) => n.includes(MARKER)), ...[`/tmp/${MARKER}`, `/${MARKER}`].filter((f) => existsSync(f))];
    const links = Object.fromEntries(['node1', 'nsc-good', 'nse-good'].map((p) => [p, t.links(p).sort()]));
    const ctx = () => Context.background().withTimeout(5000).ctx;
    const names = async (u: string) => {
      const nse = nseRegistryClient(u, me.source);
      const ns = nsRegistryClient(u, me.source);
      try {
        return {
          nse: (await findAll(nse, ctx(), NetworkServiceEndpoint.fromPartial({}))).map((r) => r.item.name).sort(),
          ns: (await findAll(ns, ctx(), NetworkService.fromPartial({}))).map((r) => r.item.name).sort(),
        };
      } finally {
        nse.close();
        ns.close();
      }
    };
    return {
      netns,
      injected,
      links,
      ports: t.ovsPorts().sort(),
      flows: t.ovsFlows().map((f) => f.replace(/duration=[^,]*,|n_packets=\d+,|n_bytes=\d+,|idle_age=\d+,?|hard_age=\d+,?/g, '').trim()).sort(),
      registry: await names(url.registry),
      nsmgrRegistry: await names(url.nsmgr),
      connections: { nsmgr: await connections(url.nsmgr, 'nsmgr-node1'), forwarder: await connections(url.forwarder, 'forwarder-node1'), nse: await connections(url.nse, 'nse-good') },
      children: childProcesses(),
    };
  }

  /**
   * Connection ids a component's MonitorConnections reports in its first event, asked as the
   * component itself: Monitor shows a caller only connections whose path holds its identity, and
   * every connection through a component holds that component's.
   */
  async function connections(u: string, as: string): Promise<string[]> {
    const cc = new NsmConnection(u, t.mesh.sourceOf(as));
    const { ctx, cancel } = Context.background().withTimeout(5000);
    let first: ConnectionEvent | undefined;
    try {
      await monitorStream(ctx, cc, MonitorScopeSelector.fromPartial({}), (ev) => {
        first ??= ev;
        cancel();
      }).catch(() => undefined);
    } finally {
      cc.close();
    }
    return Object.keys(first?.connections ?? {}).sort();
  }

  /** Each component's descendant processes (a forwarder's wireguard-go children would show here). */
  function childProcesses(): Record<string, string[]> {
    const parent = new Map<number, number[]>();
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try {
        // The parent pid is the 4th field, after the command in parentheses (which may hold spaces).
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        parent.set(ppid, [...(parent.get(ppid) ?? []), Number(e)]);
      } catch {
        // gone meanwhile
      }
    }
    const comm = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        return '(gone)';
      }
    };
    const below = (pid: number): string[] => (parent.get(pid) ?? []).flatMap((c) => [`${c} ${comm(c)}`, ...below(c)]);
    return Object.fromEntries(t.mesh.supervisor.status().map((p) => [p.name, p.pid ? below(p.pid).sort() : []]));
  }

  test('every hostile call is refused clearly, nothing crashes, runs input or is left behind', async () => {
    const before = await snapshot();
    const procs = t.mesh.supervisor.status();

    // The trace proves itself: a control process, traced with the rest, runs one program at the end.
    const control = spawn('sh', ['-c', `read x; exec /bin/true control-${MARKER}`], { stdio: ['pipe', 'ignore', 'ignore'] });
    const controlDone = new Promise((r) => control.once('exit', r));
    const trace = new ExecTrace(join(t.paths.root, 'fuzz-execs.txt'));
    if (process.env.NSM_FUZZ_TRACE !== '0') await trace.start([control.pid!, ...procs.filter((p) => p.pid && !p.name.startsWith('ovs-')).map((p) => p.pid!)]);

    // Cases are made as they are sent (in order, so the seed alone decides each one) and only their
    // description is kept.
    const clients = Object.fromEntries(Object.entries(url).map(([k, u]) => [k, new RawClient(u, me.source)])) as Record<Target, RawClient>;
    const stream = cases(SEED, gen);
    let issued = 0;
    const done: { c: Sent; o: Outcome }[] = [];
    let bytes = 0;
    const t0 = Date.now();
    try {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (issued < CASES) {
            issued++;
            const c = stream.next().value as FuzzCase;
            bytes += c.body.length;
            const o = await clients[c.target].call(c, 15_000);
            done.push({ c: { n: c.n, family: c.family, target: c.target, method: c.method, raw: c.raw }, o });
          }
        }),
      );
    } finally {
      for (const c of Object.values(clients)) c.close();
    }
    const callsMs = Date.now() - t0;

    // A good client whose endpoint answers with malformed replies.
    const t1 = Date.now();
    const hostileOutcomes = await hostileRequests(HOSTILE_REPLIES);
    const hostileMs = Date.now() - t1;

    control.stdin!.end('go\n');
    await controlDone;
    const traced = await trace.stop();
    const controlExecs = traced.filter((e) => e.pid === control.pid);
    const execs = traced.filter((e) => e.pid !== control.pid);
    const after = await snapshot();
    const procsAfter = t.mesh.supervisor.status();

    // The report: numbers, outcomes by code, by target and family, where the time went.
    const family = (c: Sent) => c.family.replace(/:.*/, '') + (c.raw ? ' (raw)' : '');
    const ms: Record<string, number> = {};
    for (const { c, o } of done) ms[family(c)] = (ms[family(c)] ?? 0) + o.ms;
    console.log(
      [
        `fuzz seed ${SEED}: ${done.length} hostile calls (${(bytes / 1e6).toFixed(1)} MB, made as sent) in ${callsMs} ms, ${CONCURRENCY} in flight`,
        `  answers: ${JSON.stringify(count(done.map(({ o }) => S[o.code])))}`,
        `  by target: ${JSON.stringify(count(done.map(({ c }) => c.target)))}`,
        `  families: ${JSON.stringify(count(done.map(({ c }) => family(c))))}`,
        `  call time by family (ms): ${JSON.stringify(Object.fromEntries(Object.entries(ms).sort((a, b) => b[1] - a[1])))}; slowest answer ${Math.max(...done.map(({ o }) => o.ms))} ms`,
        `  hostile endpoint: ${hostileOutcomes.length} Requests in ${hostileMs} ms, answers ${JSON.stringify(count(hostileOutcomes.map((o) => S[o.code])))}, replies it sent ${JSON.stringify(count(hostile.replies))}, Closes it got ${hostile.closes}`,
        `  mesh state before and after: ${JSON.stringify(summary(before))}`,
        `  programs started by the mesh during the fuzz: ${execs.length}${execs.length ? `\n    ${execs.map((e) => e.line).join('\n    ')}` : ''}`,
      ].join('\n'),
    );

    // Every answer a clear refusal.
    expect(done).toHaveLength(CASES);
    const unclear = done
      .filter(({ c, o }) => !clearFor(c, o.code))
      .map(({ c, o }) => `#${c.n} ${c.family} → ${c.target}: ${S[o.code]} ${o.details.slice(0, 200)}`);
    expect(unclear).toEqual([]);
    expect(hostileOutcomes.filter((o) => !CLEAR.has(o.code)).map((o) => `${S[o.code]} ${o.details.slice(0, 200)}`)).toEqual([]);
    expect(hostile.requests).toBe(hostileOutcomes.length);
    // Each refused reply was closed again at the endpoint that gave it.
    expect(hostile.closes).toBe(hostile.requests);

    // No crash, no restart.
    expect(procsAfter.map((p) => [p.name, p.pid, p.restarts])).toEqual(procs.map((p) => [p.name, p.pid, p.restarts]));
    // No program carrying fuzz input; in fact no program at all while only refusals were made. (The
    // control's program shows that the trace sees programs and the marker.)
    expect(controlExecs.map((e) => e.line.includes(`control-${MARKER}`))).toEqual([true]);
    expect(execs.filter((e) => e.line.includes(MARKER))).toEqual([]);
    expect(execs.map((e) => e.line)).toEqual([]);
    // Nothing half-made.
    expect(after).toEqual(before);
  });

  test('a good client is still served: the old one pings, a new one gets its interface and pings', async () => {
    inNs(t.ns('nsc-good'), ['ping', '-c', '2', '-W', '2', '172.16.7.100']);
    await t.pods(nsc('nsc-after', { NSM_NETWORK_SERVICES: 'kernel://fz-good/nsm-1' }));
    await eventually('nsm-1 in the new client', () => inNs(t.ns('nsc-after'), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1']).includes('inet 172.16.7.'));
    const addr = /inet (172\.16\.7\.\d+)/.exec(inNs(t.ns('nsc-after'), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1']))![1];
    // The endpoint's side of the new pair: the host route the client got through nsm-1.
    const peer = inNs(t.ns('nsc-after'), ['ip', '-4', 'route', 'show', 'dev', 'nsm-1']).split('\n').map((l) => l.split(' ')[0]).find((p) => p.startsWith('172.16.7.') && p !== addr);
    expect(peer).toMatch(/^172\.16\.7\.\d+$/);
    await eventually('the new client to ping', () => !!inNs(t.ns('nsc-after'), ['ping', '-c', '1', '-W', '1', peer!]));
    await t.mesh.deletePod('nsc-after');
  });

  /** Good Requests through nsmgr and forwarder to the hostile endpoint; the answers they get. */
  async function hostileRequests(n: number): Promise<Outcome[]> {
    const out: Outcome[] = [];
    const h = handler(
      client({
        name: 'fz-client',
        tokens: me.tokens,
        source: me.source,
        url: url.nsmgr,
        refresh: false,
        additional: [kernelMechanismClient({ interfaceName: 'fzh0', netnsUrl: gen.netnsUrl })],
      }),
    );
    await pool(
      Array.from({ length: n }, (_, i) => i),
      4,
      async (i) => {
        const t0 = Date.now();
        // A dial that times out under load (the forwarder's dial timeout is short) never reached the
        // endpoint; such a Request is sent again, so that every one of them gets a reply to refuse.
        for (let attempt = 1; ; attempt++) {
          const ctx = Context.background().withTimeout(15_000).ctx;
          const conn = Connection.fromPartial({ id: `fz-hostile-${i}-${attempt}`, networkService: 'fz-hostile' });
          try {
            await h.request(ctx, { connection: conn, mechanismPreferences: [] });
            out.push({ code: S.OK, details: 'accepted', ms: Date.now() - t0 });
          } catch (err) {
            const e = err as { code?: number; message?: string };
            if (e.code === S.UNAVAILABLE && /failed to dial/.test(e.message ?? '') && attempt < 5) continue;
            out.push({ code: e.code ?? S.UNKNOWN, details: e.message ?? String(err), ms: Date.now() - t0 });
          }
          return;
        }
      },
    );
    return out;
  }
});

/** Sizes of a snapshot, for the report. */
function summary(s: Record<string, unknown>): Record<string, unknown> {
  const size = (v: unknown): unknown =>
    Array.isArray(v) ? v.length : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, size(x)])) : v;
  return size(s) as Record<string, unknown>;
}

/** What is kept of a case once sent. */
type Sent = Pick<FuzzCase, 'n' | 'family' | 'target' | 'method' | 'raw'>;

function clearFor(c: Sent, code: grpc.status): boolean {
  if (!c.raw) return CLEAR.has(code);
  if (code === S.OK) return OK_FOR_GARBAGE.has(c.method.split('/')[2]);
  return CLEAR_FOR_GARBAGE.has(code);
}

function count(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}
