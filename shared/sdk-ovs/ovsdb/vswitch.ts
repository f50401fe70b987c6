// Bridges and ports in the Open_vSwitch database, spoken to ovsdb-server directly (RFC 7047), with
// the semantics the forwarder had from ovs-vsctl: `--may-exist add-port` (a port already on the
// bridge is updated, not an error), `--if-exists del-port`, ports returned with their OpenFlow
// numbers once ovs-vswitchd has assigned them.
//
// Adding ports costs three round trips however many ports: read what exists, one transaction that
// writes every Port and Interface row and puts them on the bridge, and one transaction made of
// "wait" operations that the server completes as soon as ovs-vswitchd has written each interface's
// ofport (or -1 and its `error`). The write transaction carries guards ("wait" with timeout 0) that
// fail it if another client changed the same rows since the read; it is then read and tried again.
//
// Removals and bridge changes wait until ovs-vswitchd has applied them, as ovs-vsctl does: the
// transaction increments Open_vSwitch.next_cfg, and a monitor on cur_cfg tells when ovs-vswitchd
// has caught up.
import { Code, StatusError } from '@nsm/sdk/core/errors';
import type { OvsPort, PortSpec } from '../ovs';
import { OvsdbClient, TransactError } from './client';
import { Condition, EMPTY_SET, map, Mutation, namedUuid, Operation, readMap, readOptionalInt, readOptionalString, Row, set, setItems, uuid, uuidOf } from './types';
import { checkMap, checkName, checkType } from './validate';

export interface BridgeOptions {
  /** "netdev" (userspace, the default here) or "system" (kernel module). */
  datapathType?: string;
  /** "secure" (default): no NORMAL rule, only NSM rules forward. */
  failMode?: 'secure' | 'standalone';
  otherConfig?: Record<string, string>;
}

export interface VswitchDbOptions {
  /** How long ovs-vswitchd may take to assign OpenFlow numbers or apply a change (default 10 s). */
  applyTimeoutMs?: number;
}

/** The outcome of one caller's ports within a batch. */
export type PortGroupResult = { ok: true; ofports: Record<string, number> } | { ok: false; error: StatusError };

interface Existing {
  bridge: { uuid: string; ports: Set<string> };
  ports: Map<string, { uuid: string; interfaces: string[] }>;
  ifaces: Map<string, string>;
}

const GUARD = 'guard';
const ROOT = 'Open_vSwitch';

export class VswitchDb {
  readonly applyTimeoutMs: number;
  private curCfg = -1;
  private cfgWaiters: { cfg: number; resolve(): void }[] = [];
  private cfgMonitor?: Promise<unknown>;

  constructor(
    readonly client: OvsdbClient,
    opts: VswitchDbOptions = {},
  ) {
    this.applyTimeoutMs = opts.applyTimeoutMs ?? 10_000;
  }

  // ---- bridges ---------------------------------------------------------------------------------

  /** Creates the bridge (with its internal port) if missing, sets its datapath, fail mode and other_config, and waits until ovs-vswitchd has it. */
  async ensureBridge(name: string, opts: BridgeOptions = {}): Promise<void> {
    checkName('bridge', name);
    const datapathType = opts.datapathType ?? 'netdev';
    if (!/^[a-z0-9_]{1,32}$/.test(datapathType)) throw new StatusError(Code.INVALID_ARGUMENT, `invalid datapath type "${datapathType.slice(0, 40)}"`);
    const failMode = opts.failMode ?? 'secure';
    if (failMode !== 'secure' && failMode !== 'standalone') throw new StatusError(Code.INVALID_ARGUMENT, `invalid fail mode "${String(failMode)}"`);
    const otherConfig = checkMap('other_config', `bridge ${name}`, opts.otherConfig);
    await this.withRetry(async () => {
      const [root, br] = await this.client.transact([
        { op: 'select', table: ROOT, where: [], columns: ['_uuid'] },
        { op: 'select', table: 'Bridge', where: [['name', '==', name]], columns: ['_uuid'] },
      ]);
      const rootUuid = uuidOf((root.rows as Row[])[0]?._uuid);
      const brUuid = uuidOf((br.rows as Row[])[0]?._uuid);
      const ops: Operation[] = [];
      if (!rootUuid) ops.push({ op: 'insert', table: ROOT, row: {}, 'uuid-name': 'root' });
      if (brUuid) {
        ops.push(exists('Bridge', [['_uuid', '==', uuid(brUuid)]]));
        ops.push({ op: 'update', table: 'Bridge', where: [['_uuid', '==', uuid(brUuid)]], row: { datapath_type: datapathType, fail_mode: failMode } });
        if (Object.keys(otherConfig).length) ops.push({ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(brUuid)]], mutations: mapMerge('other_config', otherConfig) });
      } else {
        ops.push(absent('Bridge', name));
        ops.push({ op: 'insert', table: 'Interface', row: { name, type: 'internal' }, 'uuid-name': 'i' });
        ops.push({ op: 'insert', table: 'Port', row: { name, interfaces: namedUuid('i') }, 'uuid-name': 'p' });
        ops.push({ op: 'insert', table: 'Bridge', row: { name, ports: namedUuid('p'), datapath_type: datapathType, fail_mode: failMode, other_config: map(otherConfig) }, 'uuid-name': 'b' });
        ops.push({ op: 'mutate', table: ROOT, where: rootUuid ? [['_uuid', '==', uuid(rootUuid)]] : [], mutations: [['bridges', 'insert', set([namedUuid('b')])]] });
      }
      await this.commitAndApply(ops, `bridge ${name}`);
    });
  }

  /** Removes the bridge and its ports (missing is fine), and waits until ovs-vswitchd has. */
  async delBridge(name: string): Promise<void> {
    checkName('bridge', name);
    const [br] = await this.client.transact([{ op: 'select', table: 'Bridge', where: [['name', '==', name]], columns: ['_uuid'] }]);
    const brUuid = uuidOf((br.rows as Row[])[0]?._uuid);
    if (!brUuid) return;
    await this.commitAndApply([{ op: 'mutate', table: ROOT, where: [], mutations: [['bridges', 'delete', set([uuid(brUuid)])]] }], `bridge ${name}`);
  }

  async listBridges(): Promise<string[]> {
    const [r] = await this.client.transact([{ op: 'select', table: 'Bridge', where: [], columns: ['name'] }]);
    return (r.rows as Row[]).map((row) => String(row.name)).sort();
  }

  /** Sets (and, for `remove`, deletes) keys of the bridge's other_config. */
  async setBridgeOtherConfig(name: string, values: Record<string, string>, remove: readonly string[] = []): Promise<void> {
    checkName('bridge', name);
    checkMap('other_config', `bridge ${name}`, values);
    checkMap('other_config', `bridge ${name}`, Object.fromEntries(remove.map((k) => [k, ''])));
    const where: Condition[] = [['name', '==', name]];
    const mutations: Mutation[] = [...mapMerge('other_config', values), ...(remove.length ? [['other_config', 'delete', set([...remove])] as Mutation] : [])];
    await this.commitAndApply([exists('Bridge', where, new StatusError(Code.NOT_FOUND, `bridge ${name} does not exist`)), { op: 'mutate', table: 'Bridge', where, mutations }], `bridge ${name}`);
  }

  // ---- ports -----------------------------------------------------------------------------------

  /** One caller's ports: all of them get OpenFlow numbers, or none is left and the call fails. */
  async addPorts(bridge: string, specs: readonly PortSpec[]): Promise<Record<string, number>> {
    const [r] = await this.addPortGroups(bridge, [specs]);
    if (!r.ok) throw r.error;
    return r.ofports;
  }

  /**
   * Several callers' ports in one write transaction and one wait. Each group succeeds or fails on
   * its own: a group naming a port of another bridge, or one that ovs-vswitchd cannot open, fails
   * (its ports are removed again) and the others keep theirs. A name in several groups is one port,
   * with the groups' external_ids and options merged (later groups win).
   */
  async addPortGroups(bridge: string, groups: readonly (readonly PortSpec[])[]): Promise<PortGroupResult[]> {
    checkName('bridge', bridge);
    const results: (PortGroupResult | undefined)[] = groups.map(() => undefined);
    const merged = new Map<string, PortSpec>();
    const live: number[] = [];
    groups.forEach((g, i) => {
      try {
        const names = new Set<string>();
        for (const p of g) {
          const name = checkName('port', p.name);
          if (name === bridge) throw new StatusError(Code.INVALID_ARGUMENT, `port ${name} has the bridge's own name`);
          if (names.has(name)) throw new StatusError(Code.INVALID_ARGUMENT, `port ${name} is listed twice`);
          names.add(name);
          if (p.type !== undefined) checkType(`port ${name}`, p.type);
          checkMap('options', `port ${name}`, p.options);
          checkMap('external_ids', `port ${name}`, p.externalIds);
        }
        live.push(i);
      } catch (e) {
        results[i] = { ok: false, error: StatusError.from(e) };
      }
    });
    for (const i of live) {
      for (const p of groups[i]) {
        const prev = merged.get(p.name);
        merged.set(p.name, {
          name: p.name,
          type: p.type ?? prev?.type,
          options: { ...(prev?.options ?? {}), ...(p.options ?? {}) },
          externalIds: { ...(prev?.externalIds ?? {}), ...(p.externalIds ?? {}) },
        });
      }
    }
    if (merged.size === 0) return results.map((r) => r ?? { ok: true, ofports: {} });

    // Write, then wait for ovs-vswitchd.
    let inserted = new Set<string>();
    const failedNames = new Map<string, StatusError>();
    try {
      inserted = await this.withRetry(() => this.writePorts(bridge, merged, failedNames));
    } catch (e) {
      const err = StatusError.from(e);
      // The server refused the whole transaction: with several groups, find the culprit one by one.
      if (e instanceof TransactError && live.length > 1) {
        for (const i of live) results[i] = (await this.addPortGroups(bridge, [groups[i]]))[0];
        return results as PortGroupResult[];
      }
      for (const i of live) results[i] = { ok: false, error: err };
      return results as PortGroupResult[];
    }
    const written = [...merged.keys()].filter((n) => !failedNames.has(n));
    const numbers = written.length ? await this.waitOfports(written) : new Map<string, number | StatusError>();

    const undo = new Set<string>();
    for (const i of live) {
      const out: Record<string, number> = {};
      let error: StatusError | undefined;
      for (const p of groups[i]) {
        const n = failedNames.get(p.name) ?? numbers.get(p.name);
        if (n instanceof StatusError) error ??= n;
        else if (n !== undefined) out[p.name] = n;
      }
      if (error) {
        results[i] = { ok: false, error };
        // As ovs-vsctl callers did: a call that fails leaves none of its ports (except another group's).
        for (const p of groups[i]) if (inserted.has(p.name) || numbers.get(p.name) instanceof StatusError) undo.add(p.name);
      } else results[i] = { ok: true, ofports: out };
    }
    for (const i of live) if (results[i]!.ok) for (const p of groups[i]) undo.delete(p.name);
    if (undo.size > 0) await this.delPorts(bridge, [...undo], { wait: false }).catch(() => undefined);
    return results as PortGroupResult[];
  }

  /** Reads what exists, then writes every row in one guarded transaction; returns the names inserted. */
  private async writePorts(bridge: string, specs: Map<string, PortSpec>, failed: Map<string, StatusError>): Promise<Set<string>> {
    failed.clear();
    const names = [...specs.keys()];
    const have = await this.readExisting(bridge, names);
    const ops: Operation[] = [exists('Bridge', [['_uuid', '==', uuid(have.bridge.uuid)]])];
    const newPorts: ['named-uuid', string][] = [];
    const inserted = new Set<string>();
    names.forEach((name, k) => {
      const p = specs.get(name)!;
      const port = have.ports.get(name);
      if (port) {
        if (!have.bridge.ports.has(port.uuid)) {
          failed.set(name, new StatusError(Code.ALREADY_EXISTS, `port ${name} already exists on another bridge than ${bridge}`));
          return;
        }
        // --may-exist: the port stays; its interface gets this call's settings.
        const iface = have.ifaces.get(name);
        if (!iface || !port.interfaces.includes(iface)) {
          failed.set(name, new StatusError(Code.ALREADY_EXISTS, `port ${name} on ${bridge} has no interface of that name`));
          return;
        }
        const where: Condition[] = [['_uuid', '==', uuid(iface)]];
        ops.push(exists('Interface', where));
        if (p.type !== undefined) ops.push({ op: 'update', table: 'Interface', where, row: { type: p.type } });
        const mutations = [...mapMerge('options', p.options ?? {}), ...mapMerge('external_ids', p.externalIds ?? {})];
        if (mutations.length) ops.push({ op: 'mutate', table: 'Interface', where, mutations });
        return;
      }
      if (have.ifaces.has(name)) {
        failed.set(name, new StatusError(Code.ALREADY_EXISTS, `interface ${name} already exists in another port`));
        return;
      }
      const row: Row = { name, options: map(p.options ?? {}), external_ids: map(p.externalIds ?? {}) };
      if (p.type !== undefined) row.type = p.type;
      ops.push(absent('Port', name), absent('Interface', name));
      ops.push({ op: 'insert', table: 'Interface', row, 'uuid-name': `i${k}` });
      ops.push({ op: 'insert', table: 'Port', row: { name, interfaces: namedUuid(`i${k}`) }, 'uuid-name': `p${k}` });
      newPorts.push(namedUuid(`p${k}`));
      inserted.add(name);
    });
    if (newPorts.length) ops.push({ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(have.bridge.uuid)]], mutations: [['ports', 'insert', set(newPorts)]] });
    if (ops.length > 1) await this.client.transact(ops, { describe: guardDescribe(ops) });
    return inserted;
  }

  private async readExisting(bridge: string, names: readonly string[]): Promise<Existing> {
    const res = await this.client.transact([
      { op: 'select', table: 'Bridge', where: [['name', '==', bridge]], columns: ['_uuid', 'ports'] },
      ...names.map((n): Operation => ({ op: 'select', table: 'Port', where: [['name', '==', n]], columns: ['_uuid', 'name', 'interfaces'] })),
      ...names.map((n): Operation => ({ op: 'select', table: 'Interface', where: [['name', '==', n]], columns: ['_uuid', 'name'] })),
    ]);
    const br = (res[0].rows as Row[])[0];
    if (!br) throw new StatusError(Code.NOT_FOUND, `bridge ${bridge} does not exist`);
    const ports = new Map<string, { uuid: string; interfaces: string[] }>();
    const ifaces = new Map<string, string>();
    for (const r of res.slice(1, 1 + names.length)) {
      for (const row of r.rows as Row[]) ports.set(String(row.name), { uuid: uuidOf(row._uuid)!, interfaces: setItems(row.interfaces).map(uuidOf).filter((u): u is string => !!u) });
    }
    for (const r of res.slice(1 + names.length)) for (const row of r.rows as Row[]) ifaces.set(String(row.name), uuidOf(row._uuid)!);
    return { bridge: { uuid: uuidOf(br._uuid)!, ports: new Set(setItems(br.ports).map(uuidOf).filter((u): u is string => !!u)) }, ports, ifaces };
  }

  /**
   * Waits, in one transaction, until ovs-vswitchd has written an ofport for each interface, and reads
   * them. An interface OVS cannot open gets ofport -1 and an `error`: that name maps to a
   * FAILED_PRECONDITION carrying OVS's words.
   */
  async waitOfports(names: readonly string[], timeoutMs = this.applyTimeoutMs): Promise<Map<string, number | StatusError>> {
    names.forEach((n) => checkName('port', n));
    const out = new Map<string, number | StatusError>();
    let todo = [...names];
    // Normally one pass; a value of 0 (seen with some OVS versions while a port is being set up) is waited past.
    const pending = new Map<string, Row>(todo.map((n) => [n, { ofport: EMPTY_SET }]));
    const deadline = Date.now() + timeoutMs;
    while (todo.length > 0) {
      const left = Math.max(0, deadline - Date.now());
      const ops: Operation[] = [
        ...todo.map((n): Operation => ({ op: 'wait', table: 'Interface', where: [['name', '==', n]], columns: ['ofport'], until: '!=', rows: [pending.get(n)!], timeout: left })),
        ...todo.map((n): Operation => ({ op: 'select', table: 'Interface', where: [['name', '==', n]], columns: ['name', 'ofport', 'error'] })),
      ];
      let res: Record<string, unknown>[];
      try {
        res = await this.client.transact(ops, { timeoutMs: left + 5000 });
      } catch (e) {
        if (!(e instanceof TransactError) || e.error !== 'timed out') throw e;
        // Which ones are still without a number: read them, and fail only those.
        const rows = await this.selectIfaces(todo);
        for (const n of todo) {
          const row = rows.get(n);
          const ofport = row ? readOptionalInt(row.ofport) : undefined;
          if (row && ofport !== undefined && ofport !== 0) out.set(n, classify(n, ofport, readOptionalString(row.error)));
          else out.set(n, new StatusError(Code.DEADLINE_EXCEEDED, `ovs-vswitchd assigned no OpenFlow port to ${n} within ${timeoutMs} ms (is ovs-vswitchd running?)`));
        }
        return out;
      }
      const next: string[] = [];
      todo.forEach((n, k) => {
        const row = (res[todo.length + k].rows as Row[])[0];
        if (!row) {
          out.set(n, new StatusError(Code.NOT_FOUND, `OVS interface ${n} does not exist`));
          return;
        }
        const ofport = readOptionalInt(row.ofport);
        if (ofport === undefined || ofport === 0) {
          pending.set(n, { ofport: ofport === undefined ? EMPTY_SET : 0 });
          next.push(n);
          return;
        }
        out.set(n, classify(n, ofport, readOptionalString(row.error)));
      });
      todo = next;
    }
    return out;
  }

  private async selectIfaces(names: readonly string[]): Promise<Map<string, Row>> {
    const res = await this.client.transact(names.map((n): Operation => ({ op: 'select', table: 'Interface', where: [['name', '==', n]], columns: ['name', 'ofport', 'error'] })));
    const m = new Map<string, Row>();
    for (const r of res) for (const row of r.rows as Row[]) m.set(String(row.name), row);
    return m;
  }

  /** OpenFlow numbers of existing interfaces, waiting for ones not assigned yet; fails like Ovs.ofports. */
  async ofports(names: readonly string[]): Promise<Record<string, number>> {
    const res = await this.waitOfports(names);
    const out: Record<string, number> = {};
    for (const n of names) {
      const v = res.get(n)!;
      if (v instanceof StatusError) throw v;
      out[n] = v;
    }
    return out;
  }

  /**
   * Removes ports from the bridge in one transaction; missing ones are fine, a port on another
   * bridge is an error. With `wait` (default) resolves once ovs-vswitchd has let go of them.
   */
  async delPorts(bridge: string, names: readonly string[], opts: { wait?: boolean } = {}): Promise<void> {
    checkName('bridge', bridge);
    names.forEach((n) => checkName('port', n));
    if (names.length === 0) return;
    await this.withRetry(async () => {
      const res = await this.client.transact([
        { op: 'select', table: 'Bridge', where: [['name', '==', bridge]], columns: ['_uuid', 'ports'] },
        ...names.map((n): Operation => ({ op: 'select', table: 'Port', where: [['name', '==', n]], columns: ['_uuid', 'name'] })),
      ]);
      const br = (res[0].rows as Row[])[0];
      if (!br) return;
      const onBridge = new Set(setItems(br.ports).map(uuidOf));
      const gone: ['uuid', string][] = [];
      names.forEach((n, k) => {
        const row = (res[k + 1].rows as Row[])[0];
        if (!row) return;
        const u = uuidOf(row._uuid)!;
        if (!onBridge.has(u)) throw new StatusError(Code.FAILED_PRECONDITION, `port ${n} is not on bridge ${bridge}`);
        gone.push(uuid(u));
      });
      if (gone.length === 0) return;
      const brWhere: Condition[] = [['_uuid', '==', uuid(uuidOf(br._uuid)!)]];
      const ops: Operation[] = [exists('Bridge', brWhere), { op: 'mutate', table: 'Bridge', where: brWhere, mutations: [['ports', 'delete', set(gone)]] }];
      if (opts.wait ?? true) await this.commitAndApply(ops, `ports of ${bridge}`);
      else await this.client.transact(ops, { describe: guardDescribe(ops) });
    });
  }

  /** The bridge's ports (not its own internal port) with OpenFlow numbers, types, options and external ids. */
  async listPorts(bridge: string): Promise<OvsPort[]> {
    checkName('bridge', bridge);
    const [br, ports, ifaces] = await this.client.transact([
      { op: 'select', table: 'Bridge', where: [['name', '==', bridge]], columns: ['ports'] },
      { op: 'select', table: 'Port', where: [], columns: ['_uuid', 'name', 'interfaces'] },
      { op: 'select', table: 'Interface', where: [], columns: ['_uuid', 'name', 'ofport', 'type', 'options', 'external_ids', 'error'] },
    ]);
    const b = (br.rows as Row[])[0];
    if (!b) throw new StatusError(Code.NOT_FOUND, `bridge ${bridge} does not exist`);
    const portUuids = new Set(setItems(b.ports).map(uuidOf));
    const ifaceUuids = new Set<string>();
    for (const p of ports.rows as Row[]) {
      if (portUuids.has(uuidOf(p._uuid)) && p.name !== bridge) for (const i of setItems(p.interfaces)) ifaceUuids.add(uuidOf(i)!);
    }
    return (ifaces.rows as Row[])
      .filter((i) => ifaceUuids.has(uuidOf(i._uuid)!))
      .map((i) => {
        const port: OvsPort = {
          name: String(i.name),
          ofport: readOptionalInt(i.ofport) ?? 0,
          type: typeof i.type === 'string' ? i.type : '',
          options: readMap(i.options),
          externalIds: readMap(i.external_ids),
        };
        const error = readOptionalString(i.error);
        if (error !== undefined) port.error = error;
        return port;
      })
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }

  // ---- waiting for ovs-vswitchd ----------------------------------------------------------------

  /** Commits `ops` with next_cfg incremented, then waits until ovs-vswitchd reports that configuration applied. */
  private async commitAndApply(ops: Operation[], what: string): Promise<void> {
    await this.watchCfg();
    const all: Operation[] = [...ops, { op: 'mutate', table: ROOT, where: [], mutations: [['next_cfg', '+=', 1]] }, { op: 'select', table: ROOT, where: [], columns: ['next_cfg'] }];
    const res = await this.client.transact(all, { describe: guardDescribe(all) });
    const cfg = Number((res[res.length - 1].rows as Row[])[0]?.next_cfg);
    if (!Number.isInteger(cfg)) return;
    await this.cfgApplied(cfg, what);
  }

  private watchCfg(): Promise<unknown> {
    this.cfgMonitor ??= this.client
      .monitor({ [ROOT]: { columns: ['cur_cfg'] } }, (updates, initial) => {
        for (const u of Object.values(updates[ROOT] ?? {})) {
          const cur = u.new?.cur_cfg;
          if (typeof cur === 'number') this.curCfg = initial ? cur : Math.max(this.curCfg, cur);
        }
        this.cfgWaiters = this.cfgWaiters.filter((w) => (this.curCfg >= w.cfg ? (w.resolve(), false) : true));
      })
      .catch((e) => {
        this.cfgMonitor = undefined;
        throw e;
      });
    return this.cfgMonitor;
  }

  private cfgApplied(cfg: number, what: string): Promise<void> {
    if (this.curCfg >= cfg) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { cfg, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        this.cfgWaiters = this.cfgWaiters.filter((x) => x !== w);
        reject(new StatusError(Code.DEADLINE_EXCEEDED, `ovs-vswitchd did not apply the change to ${what} within ${this.applyTimeoutMs} ms (is ovs-vswitchd running?)`));
      }, this.applyTimeoutMs);
      this.cfgWaiters.push(w);
    });
  }

  /** Runs `f` again (up to 3 times) when one of its guards found the rows changed by another client. */
  private async withRetry<T>(f: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await f();
      } catch (e) {
        if (!(e instanceof TransactError && e.message === GUARD) || attempt >= 3) {
          if (e instanceof TransactError && e.message === GUARD) throw new StatusError(Code.ABORTED, 'OVSDB rows kept changing under a transaction; gave up after 3 attempts');
          throw e;
        }
      }
    }
  }
}

function classify(name: string, ofport: number, error: string | undefined): number | StatusError {
  if (ofport > 0) return ofport;
  return new StatusError(Code.FAILED_PRECONDITION, `OVS cannot use interface ${name}: ${error ?? `ofport ${ofport}`}`);
}

/** What a failed guard means: the rows changed since we read them (try again), or a caller error. */
const GUARD_FAILS = Symbol('guardFails');
type Guard = Operation & { [GUARD_FAILS]?: StatusError };

/** A guard: fails the transaction at once ("timed out") unless a row matching `where` exists. */
function exists(table: string, where: Condition[], fails?: StatusError): Operation {
  const op: Guard = { op: 'wait', table, where, columns: ['_uuid'], until: '!=', rows: [], timeout: 0 };
  // A symbol key: not sent (JSON.stringify skips it).
  if (fails) op[GUARD_FAILS] = fails;
  return op;
}

/** A guard: fails the transaction at once unless no row of `table` has this name. */
function absent(table: string, name: string): Operation {
  return { op: 'wait', table, where: [['name', '==', name]], columns: ['_uuid'], until: '==', rows: [], timeout: 0 };
}

/** For transact(): a guard that timed out becomes its own error, or the retry marker. */
function guardDescribe(ops: readonly Operation[]) {
  return (i: number, error: string) => {
    const op = ops[i] as Guard | undefined;
    if (error !== 'timed out' || !op || op.op !== 'wait' || op.timeout !== 0) return undefined;
    const fails = op[GUARD_FAILS];
    return fails ? { code: fails.code, message: fails.message } : { code: Code.ABORTED, message: GUARD };
  };
}

/** Mutations that set these keys of a map column (delete then insert: "insert" alone keeps old values). */
function mapMerge(column: string, m: Record<string, string>): Mutation[] {
  const keys = Object.keys(m);
  if (keys.length === 0) return [];
  return [
    [column, 'delete', set(keys)],
    [column, 'insert', map(m)],
  ];
}
