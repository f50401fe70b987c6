// Remote VLAN endpoint (api.md §4.4 VLAN; upstream's cmd-nse-remote-vlan, deployments-k8s v1.2): an
// endpoint that carries no traffic itself but sends its clients to a VLAN of the node network. When
// the forwarder's offer of {REMOTE, VLAN} is selected, the endpoint writes the service's `vlan-id`;
// the forwarder then tags the client's frames with it on its uplink, where the external network (a
// router or gateway on that VLAN) answers. The client's addresses still come from the endpoint's IPAM.
import { MechanismType, Param } from '@nsm/api';
import { invalidArgument } from '../../core/errors';
import type { NetworkServiceElement } from '../../core/networkservice';

export function remoteVlanServer(opts: { vlanId: number; via?: string }): NetworkServiceElement {
  if (!Number.isInteger(opts.vlanId) || opts.vlanId < 1 || opts.vlanId > 4094) {
    throw invalidArgument(`invalid VLAN id ${opts.vlanId} (want 1-4094)`);
  }
  return {
    async request(ctx, req, next) {
      const conn = req.connection!;
      if (conn.mechanism?.type === MechanismType.VLAN) {
        conn.mechanism.parameters[Param.vlanId] = String(opts.vlanId);
        // Upstream's `via` label names the service domain that picks the forwarder's uplink.
        if (opts.via) conn.labels = { ...conn.labels, via: opts.via };
      }
      return next.request(ctx, req);
    },
  };
}
