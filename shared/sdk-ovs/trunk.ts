// The endpoint side of NSE-side VLAN trunking (dataplane.md §4.7, "Kernel2KernelVLAN"): the forwarder
// gives the endpoint one veth (the trunk) for all its connections and tags each connection's frames
// with its own VLAN id; the endpoint splits them again into one interface per VLAN, each holding that
// connection's addresses.
//
// Upstream's endpoint does the splitting in VPP. This kernel has no 8021q (vlan) devices, no bridge
// VLAN filtering and no tc vlan action, so the endpoint runs a small Open vSwitch of its own (netdev
// datapath) in its namespace: the trunk is a port carrying every VLAN, and each connection gets an
// internal port (a tap device) that is an access port of its VLAN, named `<trunk>.<vlan>` as a VLAN
// sub-interface would be. OVS's NORMAL switching does the tagging.
//
// The trunk port is added only once the device exists: the forwarder makes the veth after the endpoint
// has answered (see check()).
import { ChildProcess, spawn } from 'node:child_process';
import { internal, invalidArgument } from '@nsm/sdk/core/errors';
import { assertIfName, getLink, IF_NAME_MAX, ipArgv, NetnsRef } from '@nsm/sdk-kernel';
import { log } from '@nsm/sdk/log';
import { OvsDaemon } from './daemon';
import { assertVlan } from './flows';
import { decodeTable } from './vsctl-json';

export interface VlanTrunkOptions {
  /** The OVS run directory; a fixed path lets a restarted endpoint find and reuse its switch. */
  runDir: string;
  /** Name of the trunk interface (the KERNEL mechanism's `name`); at most 10 characters. */
  trunk: string;
  bridge?: string;
  /** The endpoint's namespace; default ours (the endpoint process runs in its pod). */
  netns?: NetnsRef;
}

const EXT_VLAN = 'nsm-vlan';

export class VlanTrunk {
  private monitor?: ChildProcess;
  private checking: Promise<void> = Promise.resolve();
  /** ifindex of the trunk device on the switch; 0 = none. */
  private attached = 0;
  private stopped = false;

  private constructor(
    private readonly daemon: OvsDaemon,
    readonly trunk: string,
    readonly bridge: string,
    readonly netns: NetnsRef,
  ) {}

  static async start(opts: VlanTrunkOptions): Promise<VlanTrunk> {
    assertIfName(opts.trunk);
    // Room for ".4094" in the per-VLAN names.
    if (opts.trunk.length > IF_NAME_MAX - 5) {
      throw invalidArgument(`trunk interface name "${opts.trunk}" is too long: at most ${IF_NAME_MAX - 5} characters`);
    }
    const bridge = opts.bridge ?? 'br-vlan';
    const daemon = await OvsDaemon.start({ runDir: opts.runDir, netns: opts.netns });
    const t = new VlanTrunk(daemon, opts.trunk, bridge, opts.netns);
    try {
      // standalone: OVS keeps its NORMAL (learning, VLAN-aware) switching; the trunk carries all VLANs.
      // The trunk port is (re)added by check() once the device exists.
      await daemon.ovs.vsctl(['--may-exist', 'add-br', bridge, '--', 'set', 'Bridge', bridge, 'datapath_type=netdev', 'fail_mode=standalone', '--', '--if-exists', 'del-port', bridge, opts.trunk]);
      // A predecessor's per-VLAN ports belong to connections whose state is gone with it.
      const stale = await t.vlanPorts();
      if (stale.length > 0) {
        await daemon.ovs.vsctl(stale.flatMap((p) => ['--', '--if-exists', 'del-port', bridge, p.name]));
        log.info({ ports: stale.map((p) => p.name) }, 'removed VLAN ports of a previous endpoint');
      }
      t.watch();
      await t.check();
    } catch (err) {
      await t.stop().catch(() => undefined);
      throw err;
    }
    return t;
  }

  /**
   * Puts the trunk device on the switch whenever a new one appears. The forwarder makes the trunk
   * only after the endpoint answered, and removes it with its last connection; ovs-vswitchd does not
   * reliably take up a device that appears (again) under a port's name, so the port is added only
   * once the device exists, and added afresh for each new device (a new ifindex). Driven by
   * `ip monitor link` in our namespace; `check()` can also be called directly (each request does).
   */
  private watch(): void {
    const [cmd, ...args] = ipArgv(this.netns, '-o', 'monitor', 'link');
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    this.monitor = child;
    child.on('error', (err) => log.warn({ err: String(err) }, 'ip monitor failed: the trunk is checked on requests only'));
    let buf = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      if (lines.some((l) => l.includes(`: ${this.trunk}:`) || l.includes(`: ${this.trunk}@`))) void this.check();
    });
  }

  /** Attaches the current trunk device if it is not the one attached. Serialized; errors are logged. */
  check(): Promise<void> {
    const run = this.checking.then(async () => {
      if (this.stopped) return;
      const dev = await getLink(this.netns, this.trunk);
      if (!dev) {
        if (this.attached !== 0) await this.daemon.ovs.vsctl(['--if-exists', 'del-port', this.bridge, this.trunk]);
        this.attached = 0;
        return;
      }
      if (dev.index === this.attached) return;
      // Two transactions: in one, the port's rows are replaced under the same name, and a busy
      // ovs-vswitchd may keep the old device open (the trunk was re-made before its removal was seen).
      await this.daemon.ovs.vsctl(['--if-exists', 'del-port', this.bridge, this.trunk]);
      await this.daemon.ovs.vsctl(['add-port', this.bridge, this.trunk]);
      this.attached = dev.index;
      log.info({ trunk: this.trunk, ifindex: dev.index }, 'VLAN trunk attached to the endpoint switch');
    });
    this.checking = run.catch((err) => log.warn({ trunk: this.trunk, err: String(err) }, 'attaching the VLAN trunk failed'));
    return this.checking;
  }

  /** The interface that terminates `vlan`. */
  subIfName(vlan: number): string {
    assertVlan(vlan);
    return `${this.trunk}.${vlan}`;
  }

  /** Makes (or keeps) the access port of `vlan`: a tap device named subIfName(vlan), up to the caller to address. */
  async addVlan(vlan: number): Promise<string> {
    const name = this.subIfName(vlan);
    await this.daemon.ovs.vsctl([
      '--', '--may-exist', 'add-port', this.bridge, name, `tag=${vlan}`,
      '--', 'set', 'Interface', name, 'type=internal', `external_ids:${EXT_VLAN}=${vlan}`,
    ]);
    const [row] = await this.ports([name]);
    if (!row || !(row.ofport > 0)) {
      await this.delVlan(vlan).catch(() => undefined);
      throw internal(`OVS could not make the interface ${name} for VLAN ${vlan}${row?.error ? `: ${row.error}` : ''}`);
    }
    return name;
  }

  async delVlan(vlan: number): Promise<void> {
    await this.daemon.ovs.vsctl(['--if-exists', 'del-port', this.bridge, this.subIfName(vlan)]);
  }

  /** Per-VLAN ports currently on the bridge. */
  async vlanPorts(): Promise<{ name: string; vlan: number }[]> {
    const { stdout } = await this.daemon.ovs.vsctl(['--format=json', '--columns=name,external_ids', 'list', 'Interface'], { noWait: true });
    return decodeTable(stdout)
      .map((r) => ({ name: String(r.name), vlan: Number((r.external_ids as Record<string, string> | undefined)?.[EXT_VLAN]) }))
      .filter((p) => Number.isInteger(p.vlan) && p.vlan > 0);
  }

  private async ports(names: string[]): Promise<{ name: string; ofport: number; error?: string }[]> {
    const { stdout } = await this.daemon.ovs.vsctl(['--format=json', '--columns=name,ofport,error', 'list', 'Interface', ...names], { noWait: true });
    return decodeTable(stdout).map((r) => ({ name: String(r.name), ofport: Number(r.ofport), error: typeof r.error === 'string' ? r.error : undefined }));
  }

  /** Removes the bridge (and with it every tap) and stops the switch. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.monitor?.kill();
    await this.daemon.ovs.vsctl(['--if-exists', 'del-br', this.bridge]).catch((err) => log.warn({ err: String(err) }, 'removing the VLAN bridge failed'));
    await this.daemon.stop();
  }
}
