// kernel/vlan server (sdk.md §5, api.md §4.4 KERNEL `supportsVlan`/`vlan`): an endpoint that takes
// many connections over one trunk interface gives each its own VLAN id. When the KERNEL mechanism
// says the other side can trunk (`supportsVlan=true`), the lowest free id in 1..4094 is written into
// `vlan`. The id stays with the connection across refreshes and goes back to the pool on Close, or
// when the rest of the chain fails a first request.
//
// A request that already names a free id keeps it: after an endpoint restart, connections that heal
// with their old mechanism get their old VLAN back, so the forwarder's rules stay valid.
import { MechanismType, Param } from '@nsm/api';
import { createKey } from '../../core/context';
import { resourceExhausted } from '../../core/errors';
import { serverMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';

export const VLAN_MIN = 1;
export const VLAN_MAX = 4094;

export interface VlanAllocator extends NetworkServiceElement {
  /** Ids in use, ascending (for tests and logs). */
  inUse(): number[];
}

function requestedVlan(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= VLAN_MIN && n <= VLAN_MAX ? n : undefined;
}

export function vlanAllocatorServer(): VlanAllocator {
  const used = new Set<number>();
  const vlanKey = createKey<number>('kernel.vlan');

  const lowestFree = (): number | undefined => {
    for (let v = VLAN_MIN; v <= VLAN_MAX; v++) if (!used.has(v)) return v;
    return undefined;
  };

  return {
    inUse: () => [...used].sort((a, b) => a - b),
    async request(ctx, req, next) {
      const mech = req.connection?.mechanism;
      if (mech?.type !== MechanismType.KERNEL || mech.parameters[Param.supportsVlan] !== 'true') return next.request(ctx, req);
      const meta = serverMeta(ctx);
      const mine = meta.get(vlanKey);
      let vlan = mine;
      let allocated = false;
      if (vlan === undefined) {
        const asked = requestedVlan(mech.parameters[Param.vlan]);
        vlan = asked !== undefined && !used.has(asked) ? asked : lowestFree();
        if (vlan === undefined) throw resourceExhausted('vlan id not available for allocation: all of 1-4094 are in use');
        used.add(vlan);
        meta.set(vlanKey, vlan);
        allocated = true;
      }
      mech.parameters[Param.vlan] = String(vlan);
      try {
        return await next.request(ctx, req);
      } catch (err) {
        if (allocated) {
          used.delete(vlan);
          meta.delete(vlanKey);
        }
        throw err;
      }
    },
    async close(ctx, conn, next) {
      const vlan = serverMeta(ctx).take(vlanKey);
      if (vlan !== undefined) used.delete(vlan);
      return next.close(ctx, conn);
    },
  };
}
