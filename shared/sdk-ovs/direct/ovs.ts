// The Ovs interface (ovs.ts) on protocol clients instead of processes: ports through OVSDB JSON-RPC
// on ovsdb-server's socket, rules through OpenFlow on each bridge's management socket. Elements
// written against Ovs/BatchingOvs work unchanged: rule text from flows.ts is read by
// parseFlowText (an unsupported field is an INVALID_ARGUMENT, never passed on as text), and dumps
// come back in ovs-ofctl's format. New code can hand FlowSpecs over directly (applyFlowSpecs).
//
// Group commit (../groupcommit.ts): concurrent callers' port additions share one OVSDB transaction
// and one wait for their OpenFlow numbers, removals one transaction, rule changes one FLOW_MOD batch
// and one BARRIER; each caller gets its own outcome.
//
// What stays on processes: `vsctl()`/`ofctl()` (inherited) for the few users that pass raw
// commands (the endpoint's VLAN switch, daemon start-up); nothing on the Request path uses them.
import { Code, StatusError } from '@nsm/sdk/core/errors';
import type { Flow } from '../flows';
import { FlowSelector, Ovs, OvsEndpoint, OvsPort, PortSpec } from '../ovs';
import { OvsdbClient } from '../ovsdb/client';
import { VswitchDb } from '../ovsdb/vswitch';
import { checkName } from '../ovsdb/validate';
import { OpenFlowClient, OpenFlowError } from '../openflow/client';
import { FlowFilter, formatActions, formatMatch, FlowSpec, parseFlowFilter, parseFlowText, toCookie } from '../openflow/flowspec';
import { flowModOf, FlowMod, FlowStats } from '../openflow/wire';
import { GroupCommit, mergedOrOneByOne, Outcome } from '@nsm/sdk/core/groupcommit';
import { Unixctl, vswitchdControlSocket } from '../unixctl';

export interface DirectOvsOptions {
  /** How long ovs-vswitchd may take to assign OpenFlow numbers or apply a removal (default 10 s). */
  applyTimeoutMs?: number;
  /** Resolve delPorts only once ovs-vswitchd has let go of the ports, as ovs-vsctl does (default true). */
  waitOnDelete?: boolean;
  /** Bound on one OVSDB call or OpenFlow request (default 15 s). */
  requestTimeoutMs?: number;
}

const ALL_ONES = (1n << 64n) - 1n;

export class DirectOvs extends Ovs {
  readonly ovsdb: OvsdbClient;
  readonly db: VswitchDb;
  private readonly opts: DirectOvsOptions;
  private readonly of = new Map<string, OpenFlowClient>();
  private readonly adds = new Map<string, GroupCommit<PortSpec[], Record<string, number>>>();
  private readonly dels = new Map<string, GroupCommit<string[], void>>();
  private readonly flows = new Map<string, GroupCommit<FlowMod[], void>>();
  /** ovs-vswitchd's control socket, for revalidator/wait (../unixctl.ts). */
  private readonly unixctl = new Unixctl(() => vswitchdControlSocket(this.runDir));

  constructor(endpoint: OvsEndpoint, opts: DirectOvsOptions = {}) {
    super(endpoint, Math.ceil((opts.requestTimeoutMs ?? 15_000) / 1000));
    this.opts = opts;
    this.ovsdb = new OvsdbClient({ socketPath: endpoint.dbSocket, callTimeoutMs: opts.requestTimeoutMs });
    this.db = new VswitchDb(this.ovsdb, { applyTimeoutMs: opts.applyTimeoutMs });
  }

  /** The OpenFlow connection to `bridge` (opened on first use, kept). */
  openflow(bridge: string): OpenFlowClient {
    assertBridge(bridge);
    let c = this.of.get(bridge);
    if (!c) this.of.set(bridge, (c = new OpenFlowClient({ socketPath: `${this.runDir}/${bridge}.mgmt`, requestTimeoutMs: this.opts.requestTimeoutMs })));
    return c;
  }

  /** Closes every connection; calls in flight fail with UNAVAILABLE. */
  close(): void {
    this.unixctl.close();
    this.ovsdb.close();
    for (const c of this.of.values()) c.close();
    this.of.clear();
  }

  // ---- bridges ---------------------------------------------------------------------------------

  override async ensureBridge(name: string, opts: { datapathType?: string; otherConfig?: Record<string, string> } = {}): Promise<void> {
    await this.db.ensureBridge(name, { datapathType: opts.datapathType ?? 'netdev', failMode: 'secure', otherConfig: opts.otherConfig });
  }

  override async delBridge(name: string): Promise<void> {
    await this.db.delBridge(name);
    this.of.get(name)?.close();
    this.of.delete(name);
  }

  override listBridges(): Promise<string[]> {
    return this.db.listBridges();
  }

  setBridgeOtherConfig(name: string, values: Record<string, string>, remove: readonly string[] = []): Promise<void> {
    return this.db.setBridgeOtherConfig(name, values, remove);
  }

  // ---- ports -----------------------------------------------------------------------------------

  override async addPorts(bridge: string, ports: readonly (string | PortSpec)[], externalIds: Record<string, string> = {}): Promise<Record<string, number>> {
    assertBridge(bridge);
    const specs = ports.map((p) => (typeof p === 'string' ? { name: p } : p)).map((p) => ({ ...p, externalIds: { ...externalIds, ...(p.externalIds ?? {}) } }));
    if (specs.length === 0) return {};
    return commit(this.adds, bridge, () => async (groups) => (await this.db.addPortGroups(bridge, groups)).map((r) => (r.ok ? { ok: true, value: r.ofports } : { ok: false, error: r.error }))).submit(specs);
  }

  override ofports(names: readonly string[]): Promise<Record<string, number>> {
    return this.db.ofports(names);
  }

  override async delPorts(bridge: string, names: readonly string[]): Promise<void> {
    assertBridge(bridge);
    if (names.length === 0) return;
    const wait = this.opts.waitOnDelete ?? true;
    // One caller's bad name (e.g. a port of another bridge) fails only that caller.
    return commit(this.dels, bridge, () =>
      mergedOrOneByOne(
        async (batch: string[][]) => {
          await this.db.delPorts(bridge, [...new Set(batch.flat())], { wait });
          return batch.map(() => undefined);
        },
        (n) => this.db.delPorts(bridge, n, { wait }),
      ),
    ).submit([...names]);
  }

  override listPorts(bridge: string): Promise<OvsPort[]> {
    return this.db.listPorts(bridge);
  }

  // ---- flows -----------------------------------------------------------------------------------

  /** Ovs.waitDatapathRevalidated over the control socket, no ovs-appctl process. */
  override async waitDatapathRevalidated(): Promise<void> {
    await this.unixctl.call('revalidator/wait');
  }

  /** Rule text as flows.ts writes it ("delete <match>" lines remove rules), applied in order. */
  override async addFlows(bridge: string, flows: readonly string[]): Promise<void> {
    assertBridge(bridge);
    const mods = flows.map((line) => {
      const l = parseFlowText(line);
      return l.kind === 'add' ? flowModOf(l.spec) : deleteMod(l.filter);
    });
    return this.applyFlowMods(bridge, mods);
  }

  /** Rules as data (openflow/flowspec.ts builders), in one batch. */
  applyFlowSpecs(bridge: string, specs: readonly FlowSpec[], opts: { deleteCookies?: readonly (string | bigint)[] } = {}): Promise<void> {
    assertBridge(bridge);
    const dels = (opts.deleteCookies ?? []).map((c): FlowMod => ({ command: 'delete', cookie: toCookie(c), cookieMask: ALL_ONES }));
    return this.applyFlowMods(bridge, [...dels, ...specs.map(flowModOf)]);
  }

  /** Removes every rule whose cookie matches under `mask` (default: exactly this cookie). */
  delFlowsByCookie(bridge: string, cookie: string | bigint, mask: bigint = ALL_ONES): Promise<void> {
    assertBridge(bridge);
    return this.applyFlowMods(bridge, [{ command: 'delete', cookie: toCookie(cookie), cookieMask: mask }]);
  }

  override async delFlows(bridge: string, sel: FlowSelector = undefined): Promise<void> {
    assertBridge(bridge);
    return this.applyFlowMods(bridge, [deleteMod(selectorFilter(sel))]);
  }

  override async dumpFlows(bridge: string, sel: FlowSelector = undefined): Promise<Flow[]> {
    assertBridge(bridge);
    const f = selectorFilter(sel);
    const stats = await this.openflow(bridge).dumpFlows({ table: f.table, cookie: f.cookie, cookieMask: f.cookieMask, match: f.match });
    return stats.map(toFlow);
  }

  /** Rules as the switch reports them, undecorated (bigint cookies and counters, FlowSpec-style match and actions). */
  dumpFlowStats(bridge: string, filter: FlowFilter = {}): Promise<FlowStats[]> {
    assertBridge(bridge);
    return this.openflow(bridge).dumpFlows({ table: filter.table, cookie: filter.cookie, cookieMask: filter.cookieMask, match: filter.match });
  }

  private applyFlowMods(bridge: string, mods: FlowMod[]): Promise<void> {
    if (mods.length === 0) return Promise.resolve();
    return commit(this.flows, bridge, () => async (batch) => {
      const all = batch.flat();
      let errs: (OpenFlowError | undefined)[];
      try {
        errs = await this.openflow(bridge).flowMods(all);
      } catch (e) {
        // The connection broke mid-batch: adds replace and deletes are idempotent, so the batch is sent again once.
        if (!(e instanceof StatusError && e.code === Code.UNAVAILABLE)) throw e;
        errs = await this.openflow(bridge).flowMods(all);
      }
      let at = 0;
      return batch.map((mods): Outcome<void> => {
        const mine = errs.slice(at, (at += mods.length));
        const err = mine.find((e) => e);
        return err ? { ok: false, error: renumber(err, mine.indexOf(err), mods.length) } : { ok: true, value: undefined };
      });
    }).submit(mods);
  }
}

function commit<T, R>(m: Map<string, GroupCommit<T, R>>, bridge: string, make: () => (batch: T[]) => Promise<Outcome<R>[]>): GroupCommit<T, R> {
  let g = m.get(bridge);
  if (!g) m.set(bridge, (g = new GroupCommit(make())));
  return g;
}

/** A refusal numbered within its caller's rules rather than within the merged batch. */
function renumber(e: OpenFlowError, index: number, of: number): OpenFlowError {
  const msg = e.message.replace(/rule \d+ of \d+/, `rule ${index + 1} of ${of}`);
  return new OpenFlowError(e.code, msg, e.ofError, index);
}

function deleteMod(f: FlowFilter): FlowMod {
  return { command: 'delete', cookie: f.cookie ?? 0n, cookieMask: f.cookieMask ?? 0n, table: f.table, match: f.match };
}

function selectorFilter(sel: FlowSelector): FlowFilter {
  if (sel === undefined) return {};
  if (typeof sel === 'string') return parseFlowFilter(sel);
  return { cookie: toCookie(sel.cookie), cookieMask: ALL_ONES };
}

/** A dumped rule in the shape parseDumpFlows gives for ovs-ofctl's output. */
function toFlow(s: FlowStats): Flow {
  const cookie = `0x${s.cookie.toString(16)}`;
  const match = formatMatch(s.match, s.otherMatch);
  const actions = formatActions(s.actions);
  const head = [`priority=${s.priority}`, match].filter(Boolean).join(',');
  return {
    cookie,
    table: s.table,
    priority: s.priority,
    nPackets: Number(s.packets),
    nBytes: Number(s.bytes),
    match,
    actions,
    raw: `cookie=${cookie}, duration=${s.durationSec}s, table=${s.table}, n_packets=${s.packets}, n_bytes=${s.bytes}, ${head} actions=${actions}`,
  };
}

function assertBridge(name: string): void {
  checkName('bridge', name);
}
