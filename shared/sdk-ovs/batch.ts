// Group commit for the process-based Ovs (ovs-vsctl/ovs-ofctl): calls that arrive while one is in
// flight are merged into the next single transaction (ports) or single add-flows batch (rules), so N
// concurrent requests cost ~2 processes instead of N. A merged call that fails is retried call by
// call (groupcommit.ts), so one bad device only fails its own caller. The forwarder uses DirectOvs
// (direct/ovs.ts, no processes); this stays for comparison (bench/ovs-proto.ts) and for an OVS
// reachable only through its tools.
import { GroupCommit, mergedOrOneByOne } from '@nsm/sdk/core/groupcommit';
import { Ovs, FlowSelector, OvsEndpoint, PortSpec } from './ovs';

export class OvsBatcher {
  private readonly adds: GroupCommit<PortSpec[], Record<string, number>>;
  private readonly dels: GroupCommit<string[], void>;
  private readonly flows: GroupCommit<string[], void>;

  constructor(readonly ovs: Ovs, readonly bridge: string) {
    this.adds = new GroupCommit(
      mergedOrOneByOne(
        async (batch) => {
          const all = await ovs.addPorts(bridge, batch.flat());
          return batch.map((specs) => Object.fromEntries(specs.map((s) => [s.name, all[s.name]])));
        },
        (specs) => ovs.addPorts(bridge, specs),
      ),
    );
    this.dels = new GroupCommit(
      mergedOrOneByOne(
        async (batch) => {
          await ovs.delPorts(bridge, batch.flat());
          return batch.map(() => undefined);
        },
        (names) => ovs.delPorts(bridge, names),
      ),
    );
    this.flows = new GroupCommit(
      mergedOrOneByOne(
        async (batch) => {
          await ovs.addFlows(bridge, batch.flat());
          return batch.map(() => undefined);
        },
        (lines) => ovs.addFlows(bridge, lines),
      ),
    );
  }

  addPorts(specs: PortSpec[]): Promise<Record<string, number>> {
    return this.adds.submit(specs);
  }

  delPorts(names: string[]): Promise<void> {
    return this.dels.submit(names);
  }

  /** Rule lines for `ovs-ofctl add-flows`; a line may start with "delete " to remove rules. */
  applyFlows(lines: string[]): Promise<void> {
    return this.flows.submit(lines);
  }

  /** The add-flows line that removes every rule of a connection's cookie. */
  static deleteByCookie(cookie: string): string {
    return `delete cookie=${cookie}/-1`;
  }
}

/**
 * An Ovs whose port and rule changes go through group commit; everything else is unchanged. The
 * batchers call a plain Ovs underneath, so nothing is batched twice.
 */
export class BatchingOvs extends Ovs {
  private readonly raw: Ovs;
  private readonly batchers = new Map<string, OvsBatcher>();

  constructor(endpoint: OvsEndpoint, timeoutSec?: number) {
    super(endpoint, timeoutSec);
    this.raw = new Ovs(endpoint, timeoutSec);
  }

  private batcher(bridge: string): OvsBatcher {
    let b = this.batchers.get(bridge);
    if (!b) this.batchers.set(bridge, (b = new OvsBatcher(this.raw, bridge)));
    return b;
  }

  override async addPorts(bridge: string, ports: readonly (string | PortSpec)[], externalIds: Record<string, string> = {}): Promise<Record<string, number>> {
    const specs = ports.map((p) => (typeof p === 'string' ? { name: p } : p)).map((p) => ({ ...p, externalIds: { ...externalIds, ...(p.externalIds ?? {}) } }));
    if (specs.length === 0) return {};
    return this.batcher(bridge).addPorts(specs);
  }

  override async delPorts(bridge: string, names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    return this.batcher(bridge).delPorts([...names]);
  }

  override async addFlows(bridge: string, flows: readonly string[]): Promise<void> {
    if (flows.length === 0) return;
    return this.batcher(bridge).applyFlows([...flows]);
  }

  override async delFlows(bridge: string, sel: FlowSelector = undefined): Promise<void> {
    if (sel && typeof sel === 'object' && /^0x[0-9a-fA-F]{1,16}$/.test(sel.cookie)) {
      return this.batcher(bridge).applyFlows([OvsBatcher.deleteByCookie(sel.cookie)]);
    }
    return super.delFlows(bridge, sel);
  }
}
