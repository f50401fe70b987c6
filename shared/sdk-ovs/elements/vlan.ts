// VLAN remote mechanism, client side (dataplane.md §7; api.md §4.4 VLAN): a breakout to a VLAN on the
// node's uplink. Toward a remote next hop the forwarder also offers {REMOTE, VLAN} with no parameters;
// an endpoint that selects it writes `vlan-id`. The connection is then cross-connected in OVS with the
// uplink port: frames from the client's veth leave the uplink tagged with that id, tagged frames
// arriving on the uplink are untagged toward the client (this kernel has no 8021q devices, so OVS
// pushes and pops the tag). Simplification: one uplink (NSM_VLAN_UPLINK), no `via` device selector.
import { Mechanism, MechanismClass, MechanismType, Param } from '@nsm/api';
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { clientMeta } from '@nsm/sdk/core/metadata';
import type { NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { clientPortKey, OvsBridge } from './state';
import { undoDownstream } from './tunnel';

export interface VlanUplink {
  /** OVS port of the node's uplink, attached when the forwarder starts. */
  name: string;
  ofport: number;
}

export function vlanClient(_br: OvsBridge, uplink: VlanUplink): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      if (!req.mechanismPreferences.some((m) => m.type === MechanismType.VLAN)) {
        req.mechanismPreferences.push(Mechanism.fromPartial({ cls: MechanismClass.REMOTE, type: MechanismType.VLAN, parameters: {} }));
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.VLAN) return out;
      const raw = out.mechanism.parameters[Param.vlanId];
      const vlan = Number(raw);
      if (!Number.isInteger(vlan) || vlan < 1 || vlan > 4094) {
        await undoDownstream(ctx, next, out);
        throw new StatusError(Code.INVALID_ARGUMENT, `VLAN mechanism selected with an unusable ${Param.vlanId} "${raw ?? ''}" (want 1-4094)`);
      }
      // Nothing is made per connection: the xconnect element installs the tagging flows.
      clientMeta(ctx).set(clientPortKey, { name: uplink.name, ofport: uplink.ofport, vlan, release: async () => undefined });
      return out;
    },
  };
}
