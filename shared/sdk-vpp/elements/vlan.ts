// VLAN remote mechanism in the VPP forwarder, client side (dataplane.md §7): a breakout to a VLAN on
// one of the node's uplinks. The client half offers {REMOTE, VLAN} with no parameters; an endpoint
// that selects it writes `vlan-id`. VPP then has a dot1q sub-interface of the uplink for that id
// (exact match) whose tags it rewrites with POP-1 (untagged inside VPP, tagged again on the way out),
// in a bridge domain of its own; each connection's interface joins that bridge domain (the xconnect
// element calls `join`). So the client's frames leave the uplink tagged, no kernel VLAN device is
// involved, and several connections on one VLAN share the sub-interface and reach each other through
// the bridge domain (the node network would not send a frame back out of the uplink it came from).
// The far end resolves addresses itself, so the record is an `l2Path` for IP payload too; a side
// without Ethernet (memif in IP mode, a TUN tap) cannot join and is refused.
//
// Which uplink: the VPP interface the `via` label maps to, or the default one. The sub-interface and
// its bridge domain go with the last connection on them.
import { Mechanism, MechanismClass, MechanismType, Param } from '@nsm/api';
import { failedPrecondition, invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOnce, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { ANY, L2_VTR_DISABLED, L2_VTR_POP_1 } from '../api';
import { NSM_TAG_PREFIX, releaseAll } from './common';
import { clientIfKey, VppDataplane, VppInterfaceRecord } from './state';

export interface VppVlanUplinks {
  /** VPP interface name (for example host-eth0) for connections without a `via` label. */
  default?: string;
  /** VPP interface name by `via` label value. */
  byVia?: Map<string, string>;
}

/** Tag of the bridge domains this element makes (reconcile.ts removes them with the interfaces). */
export const vlanTag = (uplink: string, vlan: number) => `${NSM_TAG_PREFIX}vlan ${uplink}.${vlan}`.slice(0, 63);

function uplinkName(uplinks: VppVlanUplinks, via: string | undefined): string {
  if (via) {
    const name = uplinks.byVia?.get(via);
    if (!name) throw failedPrecondition(`no uplink for via "${via}" on this node (known: ${[...(uplinks.byVia?.keys() ?? [])].join(', ') || 'none'})`);
    return name;
  }
  if (!uplinks.default) throw failedPrecondition('the VLAN endpoint set no "via" label and this node has no default uplink');
  return uplinks.default;
}

/** One VLAN of one uplink: the sub-interface, its bridge domain and how many connections use it. */
interface Segment {
  sw: number;
  bd: number;
  users: number;
}

export function vlanClient(dp: VppDataplane, uplinks: VppVlanUplinks): NetworkServiceElement {
  const { api } = dp;
  // A Promise per segment, so that concurrent first users make it once.
  const segments = new Map<string, Promise<Segment>>();

  async function makeSegment(uplink: string, vlan: number): Promise<Segment> {
    const parent = (await api.interfaceDump(uplink)).find((i) => i.name === uplink);
    if (!parent) throw failedPrecondition(`uplink ${uplink} is not a VPP interface`);
    let sw: number | undefined;
    let bd: number | undefined;
    try {
      sw = await api.createVlanSubif(parent.swIfIndex, vlan);
      await api.tagInterface(sw, vlanTag(uplink, vlan));
      await api.vlanTagRewrite(sw, L2_VTR_POP_1);
      bd = await api.bridgeDomain(ANY, true, vlanTag(uplink, vlan));
      await api.l2Bridge(sw, bd, true);
      await api.setInterfaceState(sw, true);
      return { sw, bd, users: 0 };
    } catch (err) {
      await dropSegment(sw, bd, `vlan ${vlan} on ${uplink}`);
      throw err;
    }
  }

  const dropSegment = (sw: number | undefined, bd: number | undefined, what: string) =>
    releaseAll(what, [
      async () => sw !== undefined && api.setInterfaceState(sw, false),
      async () => sw !== undefined && bd !== undefined && api.l2Bridge(sw, bd, false),
      async () => bd !== undefined && api.bridgeDomain(bd, false),
      async () => sw !== undefined && api.vlanTagRewrite(sw, L2_VTR_DISABLED),
      async () => sw !== undefined && api.deleteSubif(sw),
    ]);

  async function use(uplink: string, vlan: number): Promise<VppInterfaceRecord> {
    const key = `${uplink}.${vlan}`;
    let seg: Segment;
    for (;;) {
      let p = segments.get(key);
      if (!p) {
        p = makeSegment(uplink, vlan);
        segments.set(key, p);
        p.catch(() => segments.delete(key));
      }
      seg = await p;
      // Its last user may have dropped it meanwhile: then make it again.
      if (segments.get(key) === p) break;
    }
    seg.users++;
    let released = false;
    return {
      swIfIndex: seg.sw,
      l2Path: true,
      describe: `vlan ${vlan} on ${uplink}`,
      async join(other) {
        if (other.l3) throw failedPrecondition(`${other.describe} carries IP only and cannot join VLAN ${vlan} on ${uplink}`);
        await api.l2Bridge(other.swIfIndex, seg.bd, true);
        return () => releaseAll(`${other.describe} in VLAN ${vlan}`, [() => api.l2Bridge(other.swIfIndex, seg.bd, false)]);
      },
      async release() {
        if (released) return;
        released = true;
        if (--seg.users > 0) return;
        segments.delete(key);
        await dropSegment(seg.sw, seg.bd, `vlan ${vlan} on ${uplink}`);
      },
    };
  }

  return {
    async request(ctx, req, next) {
      if (!req.mechanismPreferences.some((m) => m.type === MechanismType.VLAN)) {
        req.mechanismPreferences.push(Mechanism.fromPartial({ cls: MechanismClass.REMOTE, type: MechanismType.VLAN, parameters: {} }));
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.VLAN) return out;
      const params = out.mechanism.parameters;
      return makeOnce(ctx, next, out, clientMeta(ctx), clientIfKey, async () => {
        const raw = params[Param.vlanId];
        const vlan = Number(raw);
        if (!/^\d{1,4}$/.test(raw ?? '') || vlan < 1 || vlan > 4094) throw invalidArgument(`VLAN mechanism selected with an unusable ${Param.vlanId} "${raw ?? ''}" (want 1-4094)`);
        return use(uplinkName(uplinks, out.labels?.via), vlan);
      });
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, clientMeta(ctx).take(clientIfKey));
    },
  };
}
