// VLAN remote mechanism in the VPP forwarder, client side (dataplane.md §7): a breakout to a VLAN on
// one of the node's uplinks. The client half offers {REMOTE, VLAN} with no parameters; an endpoint
// that selects it writes `vlan-id`. VPP then makes a dot1q sub-interface of the uplink for that id
// (exact match), rewrites tags with POP-1 (untagged inside VPP, tagged again on the way out) and the
// xconnect element joins it with the client's interface at L2: the client's frames leave the uplink
// tagged, no kernel VLAN device is involved. The far end resolves addresses itself, so the record is
// an `l2Path` for IP payload too.
//
// Which uplink: the VPP interface the `via` label maps to, or the default one. A sub-interface is
// point-to-point here, so one connection per (uplink, VLAN id) at a time; a second is refused.
import { Mechanism, MechanismClass, MechanismType, Param } from '@nsm/api';
import { alreadyExists, failedPrecondition, invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOnce, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { L2_VTR_DISABLED, L2_VTR_POP_1 } from '../api';
import { releaseAll } from './common';
import { clientIfKey, VppDataplane, VppInterfaceRecord } from './state';

export interface VppVlanUplinks {
  /** VPP interface name (for example host-eth0) for connections without a `via` label. */
  default?: string;
  /** VPP interface name by `via` label value. */
  byVia?: Map<string, string>;
}

function uplinkName(uplinks: VppVlanUplinks, via: string | undefined): string {
  if (via) {
    const name = uplinks.byVia?.get(via);
    if (!name) throw failedPrecondition(`no uplink for via "${via}" on this node (known: ${[...(uplinks.byVia?.keys() ?? [])].join(', ') || 'none'})`);
    return name;
  }
  if (!uplinks.default) throw failedPrecondition('the VLAN endpoint set no "via" label and this node has no default uplink');
  return uplinks.default;
}

export function vlanClient(dp: VppDataplane, uplinks: VppVlanUplinks): NetworkServiceElement {
  const { api } = dp;
  const inUse = new Set<string>();

  async function subif(uplink: string, vlan: number): Promise<VppInterfaceRecord> {
    const key = `${uplink}.${vlan}`;
    if (inUse.has(key)) throw alreadyExists(`VLAN ${vlan} on ${uplink} already carries another connection`);
    const parent = (await api.interfaceDump(uplink)).find((i) => i.name === uplink);
    if (!parent) throw failedPrecondition(`uplink ${uplink} is not a VPP interface`);
    inUse.add(key);
    let sw: number | undefined;
    const rec: VppInterfaceRecord = {
      swIfIndex: -1,
      l2Path: true,
      describe: `vlan ${vlan} on ${uplink}`,
      release: async () => {
        if (sw !== undefined) {
          const s = sw;
          await releaseAll(rec.describe, [() => api.setInterfaceState(s, false), () => api.vlanTagRewrite(s, L2_VTR_DISABLED), () => api.deleteSubif(s)]);
        }
        inUse.delete(key);
      },
    };
    try {
      sw = await api.createVlanSubif(parent.swIfIndex, vlan);
      rec.swIfIndex = sw;
      await api.vlanTagRewrite(sw, L2_VTR_POP_1);
      await api.setInterfaceState(sw, true);
    } catch (err) {
      await rec.release();
      throw err;
    }
    return rec;
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
        return subif(uplinkName(uplinks, out.labels?.via), vlan);
      });
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, clientMeta(ctx).take(clientIfKey));
    },
  };
}
