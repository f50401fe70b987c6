// Client operations on one Open vSwitch instance, addressed explicitly: the OVSDB socket for
// ovs-vsctl and the run directory that holds each bridge's OpenFlow management socket
// (`<runDir>/<bridge>.mgmt`) for ovs-ofctl. Nothing relies on the default /var/run/openvswitch,
// so several instances (one per forwarder) can live on one host.
//
// Each method is one process: related changes go into one ovs-vsctl transaction (`--` separated
// commands) or one `ovs-ofctl add-flows -` reading from stdin.
import { failedPrecondition, invalidArgument, notFound } from '@nsm/sdk/core/errors';
import { exec } from '@nsm/sdk-kernel/exec';
import { assertIfName } from '@nsm/sdk-kernel/names';
import { Flow, parseDumpFlows } from './flows';
import { asStringMap, decodeTable, quoteAtom } from './vsctl-json';
import { vswitchdControlSocket } from './unixctl';

export interface OvsEndpoint {
  /** Path of ovsdb-server's unix socket. */
  dbSocket: string;
  /** Directory where ovs-vswitchd puts `<bridge>.mgmt` (its OVS_RUNDIR). */
  runDir: string;
}

export interface PortSpec {
  name: string;
  /** Interface type: "" (a kernel device, e.g. a veth end), "vxlan", "internal", ... */
  type?: string;
  options?: Record<string, string>;
  /** Stored on the Interface row; how a restarted forwarder recognises its ports. */
  externalIds?: Record<string, string>;
}

export interface OvsPort {
  name: string;
  /** OpenFlow port number; -1 when OVS could not open the device, 0 while not yet assigned. */
  ofport: number;
  type: string;
  options: Record<string, string>;
  externalIds: Record<string, string>;
  /** OVS's complaint about this interface, if any (e.g. "could not open network device"). */
  error?: string;
}

export interface VxlanPortSpec {
  name: string;
  remoteIp: string;
  localIp?: string;
  /** A fixed VNI, or 'flow' to choose it per rule with set_field:N->tun_id (upstream's way). */
  key: number | 'flow';
  /** UDP destination port; OVS uses 4789 when omitted. */
  dstPort?: number;
  externalIds?: Record<string, string>;
}

/** Which flows `delFlows`/`dumpFlows` address: all, a match string, or a connection's cookie. */
export type FlowSelector = undefined | string | { cookie: string };

const KEY_RE = /^[A-Za-z0-9_.-]+$/;
const OF_VERSION = ['-O', 'OpenFlow13'];

export class Ovs {
  readonly dbSocket: string;
  readonly runDir: string;
  /** Bounds every ovs-vsctl call (it otherwise waits forever for a dead ovs-vswitchd). */
  readonly timeoutSec: number;

  constructor(endpoint: OvsEndpoint, timeoutSec = 15) {
    this.dbSocket = endpoint.dbSocket;
    this.runDir = endpoint.runDir;
    this.timeoutSec = timeoutSec;
  }

  /** `ovs-vsctl ARGS` against this instance; resolves with stdout. */
  async vsctl(args: readonly string[], opts: { noWait?: boolean; timeoutSec?: number } = {}): Promise<{ stdout: string; stderr: string }> {
    const t = opts.timeoutSec ?? this.timeoutSec;
    const argv = ['ovs-vsctl', `--db=unix:${this.dbSocket}`, `--timeout=${t}`, ...(opts.noWait ? ['--no-wait'] : []), ...args];
    return exec(argv, { timeoutMs: (t + 5) * 1000 });
  }

  /**
   * `ovs-ofctl -O OpenFlow13 --no-names CMD unix:<runDir>/<bridge>.mgmt ARGS` (stdin optional).
   * `--no-names` matters for speed: otherwise ovs-ofctl fetches the features of all 254 tables on
   * every OpenFlow 1.3 connection to map names (~30 ms). Ports in rules are therefore numbers.
   */
  async ofctl(bridge: string, cmd: string, args: readonly string[] = [], input?: string): Promise<string> {
    const argv = ['ovs-ofctl', ...OF_VERSION, '--no-names', cmd, this.mgmtTarget(bridge), ...args];
    const { stdout } = await exec(argv, { input, timeoutMs: this.timeoutSec * 1000 });
    return stdout;
  }

  mgmtTarget(bridge: string): string {
    return `unix:${this.runDir}/${bridge}.mgmt`;
  }

  // ---- bridges ---------------------------------------------------------------------------------

  /**
   * Creates the bridge if needed, with the userspace datapath (no kernel module on our hosts) and
   * fail_mode=secure, so OVS installs no default NORMAL rule: the bridge forwards only what NSM rules
   * allow. (Upstream gets the same by deleting all flows after creating the bridge.)
   */
  async ensureBridge(name: string, opts: { datapathType?: string } = {}): Promise<void> {
    assertBridgeName(name);
    await this.vsctl(['--may-exist', 'add-br', name, '--', 'set', 'Bridge', name, `datapath_type=${opts.datapathType ?? 'netdev'}`, 'fail_mode=secure']);
  }

  async delBridge(name: string): Promise<void> {
    assertBridgeName(name);
    await this.vsctl(['--if-exists', 'del-br', name]);
  }

  async listBridges(): Promise<string[]> {
    const { stdout } = await this.vsctl(['list-br']);
    return lines(stdout);
  }

  // ---- ports -----------------------------------------------------------------------------------

  /**
   * Adds ports in one transaction and returns their OpenFlow numbers. Ports that already exist are
   * updated (`--may-exist`), so a retry or a restarted forwarder can call it again. `externalIds` are
   * merged into every port's own. If OVS cannot open one of the devices, every port of this call is
   * removed again and the call fails.
   */
  async addPorts(bridge: string, ports: readonly (string | PortSpec)[], externalIds: Record<string, string> = {}): Promise<Record<string, number>> {
    assertBridgeName(bridge);
    const specs = ports.map((p) => (typeof p === 'string' ? { name: p } : p));
    if (specs.length === 0) return {};
    const names = specs.map((p) => assertIfName(p.name));
    const args: string[] = [];
    for (const p of specs) {
      args.push('--', '--may-exist', 'add-port', bridge, p.name);
      const sets = [
        ...(p.type !== undefined ? [`type=${p.type === '' ? '""' : p.type}`] : []),
        ...mapArgs('options', p.options ?? {}),
        ...mapArgs('external_ids', { ...externalIds, ...(p.externalIds ?? {}) }),
      ];
      if (sets.length) args.push('--', 'set', 'Interface', p.name, ...sets);
    }
    // ovs-vsctl returns once ovs-vswitchd has applied the change, so the numbers are assigned by now.
    await this.vsctl(args);
    try {
      return await this.ofports(names);
    } catch (e) {
      await this.delPorts(bridge, names).catch(() => undefined);
      throw e;
    }
  }

  /**
   * OpenFlow numbers of interfaces, in one call. Rules use numbers rather than names: with names,
   * ovs-ofctl first downloads the switch's port and table descriptions, which costs ~30 ms per call.
   * A number not assigned yet (reconfiguration still in flight) is retried briefly, as upstream does.
   */
  async ofports(names: readonly string[], retries = 5, delayMs = 100): Promise<Record<string, number>> {
    names.forEach(assertIfName);
    if (names.length === 0) return {};
    for (let attempt = 0; ; attempt++) {
      let rows;
      try {
        const { stdout } = await this.vsctl(['--format=json', '--columns=name,ofport,error', 'list', 'Interface', ...names], { noWait: true });
        rows = decodeTable(stdout);
      } catch (e) {
        const m = /no row "([^"]+)" in table Interface/.exec(String((e as Error).message));
        if (m) throw notFound(`OVS interface ${m[1]} does not exist`, e);
        throw e;
      }
      const out: Record<string, number> = {};
      let pending = false;
      for (const r of rows) {
        const name = String(r.name);
        const n = typeof r.ofport === 'number' ? r.ofport : 0;
        if (n === -1 || (n <= 0 && typeof r.error === 'string')) {
          throw failedPrecondition(`OVS cannot use interface ${name}: ${typeof r.error === 'string' ? r.error : 'ofport -1'}`);
        }
        if (n <= 0) pending = true;
        out[name] = n;
      }
      if (!pending) return out;
      if (attempt >= retries) throw failedPrecondition(`OVS assigned no OpenFlow port to ${names.join(', ')} in time`);
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }

  async ofport(name: string): Promise<number> {
    return (await this.ofports([name]))[name];
  }

  /** Removes ports; missing ones are fine. */
  async delPorts(bridge: string, names: readonly string[]): Promise<void> {
    assertBridgeName(bridge);
    if (names.length === 0) return;
    const args = names.flatMap((n) => ['--', '--if-exists', 'del-port', bridge, assertIfName(n)]);
    await this.vsctl(args);
  }

  /** A VXLAN tunnel port (type=vxlan, options:remote_ip/local_ip/key/dst_port); resolves with its OpenFlow number. */
  async addVxlanPort(bridge: string, spec: VxlanPortSpec): Promise<number> {
    if (spec.key !== 'flow' && (!Number.isInteger(spec.key) || spec.key < 0 || spec.key > 0xffffff)) {
      throw invalidArgument(`invalid VXLAN key ${spec.key}`);
    }
    const options: Record<string, string> = { remote_ip: spec.remoteIp, key: String(spec.key) };
    if (spec.localIp) options.local_ip = spec.localIp;
    if (spec.dstPort !== undefined) options.dst_port = String(spec.dstPort);
    return (await this.addPorts(bridge, [{ name: spec.name, type: 'vxlan', options, externalIds: spec.externalIds }]))[spec.name];
  }

  /** The bridge's ports (not the bridge's own internal port) with their OpenFlow numbers and external ids. */
  async listPorts(bridge: string): Promise<OvsPort[]> {
    assertBridgeName(bridge);
    // Two commands, one process: every Interface row as JSON, then the names attached to this bridge.
    const { stdout } = await this.vsctl(
      ['--format=json', '--columns=name,ofport,type,options,external_ids,error', 'list', 'Interface', '--', 'list-ifaces', bridge],
      { noWait: true },
    );
    const [json, ...rest] = stdout.split('\n');
    const onBridge = new Set(rest.map((l) => l.trim()).filter(Boolean));
    return decodeTable(json)
      .filter((r) => onBridge.has(String(r.name)))
      .map((r) => {
        const port: OvsPort = {
          name: String(r.name),
          ofport: typeof r.ofport === 'number' ? r.ofport : 0,
          type: typeof r.type === 'string' ? r.type : '',
          options: asStringMap(r.options),
          externalIds: asStringMap(r.external_ids),
        };
        if (typeof r.error === 'string') port.error = r.error;
        return port;
      });
  }

  /** Name of the port with OpenFlow number `ofport` on `bridge`, if any. */
  async portOfNumber(bridge: string, ofport: number): Promise<string | undefined> {
    return (await this.listPorts(bridge)).find((p) => p.ofport === ofport)?.name;
  }

  // ---- flows -----------------------------------------------------------------------------------

  /** Adds rules with one ovs-ofctl reading them from stdin. Ports must be OpenFlow numbers (see ofctl()). */
  async addFlows(bridge: string, flows: readonly string[]): Promise<void> {
    assertBridgeName(bridge);
    if (flows.length === 0) return;
    if (flows.some((f) => f.includes('\n'))) throw invalidArgument('a flow must not contain a newline');
    await this.ofctl(bridge, 'add-flows', ['-'], flows.join('\n') + '\n');
  }

  /** Deletes the selected rules (all of them when `sel` is undefined); deleting nothing is success. */
  /**
   * Resolves once ovs-vswitchd's datapath follows the rules as they are now: its revalidators have
   * run since the last change (`ovs-appctl revalidator/wait`). The OpenFlow barrier does not include
   * that; it matters where a rule's match stays and its actions change (a shared VLAN rule gaining a
   * member), as cached datapath flows keep the old actions until then.
   */
  async waitDatapathRevalidated(): Promise<void> {
    await exec(['ovs-appctl', '-t', vswitchdControlSocket(this.runDir), 'revalidator/wait'], { timeoutMs: this.timeoutSec * 1000 });
  }

  async delFlows(bridge: string, sel: FlowSelector = undefined): Promise<void> {
    assertBridgeName(bridge);
    await this.ofctl(bridge, 'del-flows', selectorArgs(sel));
  }

  /** Rules with their packet counters; ports appear as numbers in matches and actions. */
  async dumpFlows(bridge: string, sel: FlowSelector = undefined): Promise<Flow[]> {
    assertBridgeName(bridge);
    return parseDumpFlows(await this.ofctl(bridge, 'dump-flows', selectorArgs(sel)));
  }
}

function selectorArgs(sel: FlowSelector): string[] {
  if (sel === undefined) return [];
  if (typeof sel === 'string') return [sel];
  if (!/^0x[0-9a-fA-F]{1,16}$/.test(sel.cookie)) throw invalidArgument(`invalid cookie ${sel.cookie}`);
  return [`cookie=${sel.cookie}/-1`];
}

function mapArgs(column: string, m: Record<string, string>): string[] {
  return Object.entries(m).map(([k, v]) => {
    if (!KEY_RE.test(k)) throw invalidArgument(`invalid ${column} key "${k}"`);
    return `${column}:${k}=${quoteAtom(v)}`;
  });
}

function assertBridgeName(name: string): void {
  // Bridges are kernel/tap devices too on the netdev datapath, so interface naming rules apply.
  assertIfName(name);
}

function lines(s: string): string[] {
  return s.split('\n').map((l) => l.trim()).filter(Boolean);
}
