// VLAN remote mechanism, client side (dataplane.md §7; api.md §4.4 VLAN): a breakout to a VLAN on the
// node's uplink. Toward a remote next hop the forwarder also offers {REMOTE, VLAN} with no parameters;
// an endpoint that selects it writes `vlan-id`. The connection is then cross-connected in OVS with the
// uplink port: frames from the client's veth leave the uplink tagged with that id, tagged frames
// arriving on the uplink are untagged toward the client (this kernel has no 8021q devices, so OVS
// pushes and pops the tag). Several connections may break out to the same VLAN: each sends tagged,
// and the VLAN's frames from the uplink go to all of them (flows.ts, vlanUplinkDownFlow).
//
// Which uplink: the one the device selector maps the connection's `via` label to (the endpoint's
// service domain, NSM_DEVICE_SELECTOR_FILE); a connection without `via` uses the default uplink
// (NSM_VLAN_UPLINK). A `via` nobody maps, or no default, fails the request clearly.
import { Mechanism, MechanismClass, MechanismType, Param } from '@nsm/api';
import { failedPrecondition, invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta } from '@nsm/sdk/core/metadata';
import { makeOrUndo, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { flowCookie, vlanUplinkDownFlow, vlanUplinkMemberFlow } from '../flows';
import { clientPortKey, once, OvsBridge } from './state';

export interface VlanUplink {
  /** OVS port of the node's uplink, attached when the forwarder starts. */
  name: string;
  ofport: number;
}

export interface VlanUplinks {
  /** For connections without a `via` label. */
  default?: VlanUplink;
  /** By `via` label value. */
  byVia?: Map<string, VlanUplink>;
}

function uplinkFor(uplinks: VlanUplinks, via: string | undefined): VlanUplink {
  if (via) {
    const u = uplinks.byVia?.get(via);
    if (!u) {
      const known = [...(uplinks.byVia?.keys() ?? [])];
      throw failedPrecondition(`no uplink for via "${via}" on this node (device selector knows ${known.length ? known.join(', ') : 'none'})`);
    }
    return u;
  }
  if (!uplinks.default) throw failedPrecondition('the VLAN endpoint set no "via" label and this node has no default uplink (NSM_VLAN_UPLINK)');
  return uplinks.default;
}

export function vlanClient(br: OvsBridge, uplinks: VlanUplinks): NetworkServiceElement {
  const members = new Map<string, VlanMembers>();
  const membersOf = (u: VlanUplink) => {
    let m = members.get(u.name);
    if (!m) members.set(u.name, (m = new VlanMembers(br, u)));
    return m;
  };
  return {
    async request(ctx, req, next) {
      if (!req.mechanismPreferences.some((m) => m.type === MechanismType.VLAN)) {
        req.mechanismPreferences.push(Mechanism.fromPartial({ cls: MechanismClass.REMOTE, type: MechanismType.VLAN, parameters: {} }));
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.VLAN) return out;
      const raw = out.mechanism.parameters[Param.vlanId];
      const { vlan, uplink } = await makeOrUndo(ctx, next, out, async () => {
        const vlan = Number(raw);
        if (!Number.isInteger(vlan) || vlan < 1 || vlan > 4094) {
          throw invalidArgument(`VLAN mechanism selected with an unusable ${Param.vlanId} "${raw ?? ''}" (want 1-4094)`);
        }
        return { vlan, uplink: uplinkFor(uplinks, out.labels?.via) };
      });
      const group = membersOf(uplink);
      // Nothing is made per connection but rules: the xconnect element has them installed here.
      clientMeta(ctx).set(clientPortKey, {
        name: uplink.name,
        ofport: uplink.ofport,
        vlan,
        release: async () => undefined,
        crossConnect: (member, cookie) => group.join(vlan, member, cookie),
      });
      return out;
    },
  };
}

/** Member ports per VLAN of the uplink, and the rules that follow them. Changes are serialized. */
class VlanMembers {
  private readonly byVlan = new Map<number, Map<string, number>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly br: OvsBridge,
    private readonly uplink: VlanUplink,
  ) {}

  join(vlan: number, member: number, cookie: string): Promise<() => Promise<void>> {
    return this.serial(async () => {
      const m = this.byVlan.get(vlan) ?? new Map<string, number>();
      m.set(cookie, member);
      this.byVlan.set(vlan, m);
      try {
        await this.br.ovs.addFlows(this.br.bridge, this.flows(vlan, m));
      } catch (err) {
        m.delete(cookie);
        throw err;
      }
      return once(() => this.leave(vlan, cookie));
    });
  }

  private leave(vlan: number, cookie: string): Promise<void> {
    return this.serial(async () => {
      const m = this.byVlan.get(vlan);
      m?.delete(cookie);
      await this.br.ovs.delFlows(this.br.bridge, { cookie });
      if (m && m.size > 0) await this.br.ovs.addFlows(this.br.bridge, this.flows(vlan, m));
      else {
        this.byVlan.delete(vlan);
        await this.br.ovs.delFlows(this.br.bridge, { cookie: vlanCookie(this.uplink.name, vlan) });
      }
    });
  }

  /**
   * All rules of one VLAN, rewritten whenever its members change (an add-flow with the same match
   * replaces the rule). Members also reach each other directly: the node network will not send a
   * frame back out of the port it came from, so two clients behind one uplink would otherwise not
   * see each other.
   */
  private flows(vlan: number, m: Map<string, number>): string[] {
    const ports = [...new Set(m.values())].sort((a, b) => a - b);
    return [
      ...[...m.entries()].map(([cookie, member]) => vlanUplinkMemberFlow(this.uplink.ofport, member, vlan, cookie, ports.filter((p) => p !== member))),
      vlanUplinkDownFlow(this.uplink.ofport, ports, vlan, vlanCookie(this.uplink.name, vlan)),
    ];
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The VLAN's shared downlink rule belongs to no connection; its cookie is derived from uplink and VLAN. */
const vlanCookie = (uplink: string, vlan: number) => flowCookie(`vlan-uplink:${uplink}:${vlan}`);
