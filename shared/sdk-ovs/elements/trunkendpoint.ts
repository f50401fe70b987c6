// Endpoint side of VLAN trunking: after the VLAN allocator gave the connection its id and the kernel
// mechanism named the trunk, this element makes the connection's own interface on the endpoint's
// switch (`<trunk>.<vlan>`) and gives it the endpoint side's addresses and routes. The forwarder
// leaves the trunk unaddressed (dataplane.md §4.7), so this is where the endpoint becomes reachable.
import { MechanismType, Param } from '@nsm/api';
import { createKey } from '@nsm/sdk/core/context';
import { failedPrecondition } from '@nsm/sdk/core/errors';
import { serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { applyIpContext, disableOffloads, ipSpecFor } from '@nsm/sdk-kernel';
import type { VlanTrunk } from '../trunk';

const vlanKey = createKey<number>('ovs.trunkEndpoint.vlan');

export function vlanTrunkEndpoint(trunk: Pick<VlanTrunk, 'addVlan' | 'delVlan' | 'subIfName' | 'check' | 'netns'>): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const mech = req.connection?.mechanism;
      if (mech?.type !== MechanismType.KERNEL) return next.request(ctx, req);
      const vlan = Number(mech.parameters[Param.vlan]);
      if (!Number.isInteger(vlan) || vlan < 1) {
        throw failedPrecondition(`this endpoint serves its clients over a VLAN trunk: the forwarder must offer the KERNEL mechanism with ${Param.supportsVlan}=true`);
      }
      const out = await next.request(ctx, req);
      const meta = serverMeta(ctx);
      const prev = meta.get(vlanKey);
      const name = trunk.subIfName(vlan);
      try {
        if (prev !== undefined && prev !== vlan) {
          await trunk.delVlan(prev);
          meta.delete(vlanKey);
        }
        if (prev !== vlan) await trunk.addVlan(vlan);
        meta.set(vlanKey, vlan);
        // Replace semantics: a refresh re-applies the same addresses without harm.
        await applyIpContext(trunk.netns, name, ipSpecFor('dst', out.context));
        if (prev !== vlan) await disableOffloads(trunk.netns, name);
        // The trunk appears after this answer; the switch's watcher attaches it. This covers a lost event.
        setTimeout(() => void trunk.check(), 1000).unref();
      } catch (err) {
        if (prev === undefined) {
          meta.delete(vlanKey);
          await trunk.delVlan(vlan).catch(() => undefined);
        }
        throw err;
      }
      return out;
    },
    async close(ctx, conn, next) {
      const vlan = serverMeta(ctx).take(vlanKey);
      await closeThenRelease(ctx, next, conn, vlan === undefined ? undefined : () => trunk.delVlan(vlan));
    },
  };
}
