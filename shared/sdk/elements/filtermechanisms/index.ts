// filtermechanisms client (api.md §4.1): toward a unix-socket next hop only LOCAL mechanisms make sense,
// toward a TCP one only REMOTE ones.
//
// One exception: VLAN is REMOTE but its far end is the external network on this node's uplink, not
// the next hop, so it is kept toward a local endpoint too. Upstream reaches its remote VLAN endpoint
// over TCP; our local runtime's pods have no network but the NSM socket, and a remote VLAN endpoint
// in a pod on the node is the natural deployment.
import { MechanismClass, MechanismType } from '@nsm/api';
import type { NetworkServiceElement } from '../../core/networkservice';
import { isUnixUrl } from '../../grpc/urls';
import { clientUrlKey } from '../clienturl';

export function filterMechanisms(): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const url = ctx.get(clientUrlKey);
      if (url) {
        const want = isUnixUrl(url) ? MechanismClass.LOCAL : MechanismClass.REMOTE;
        req.mechanismPreferences = req.mechanismPreferences.filter((m) => m.cls === want || (want === MechanismClass.LOCAL && m.type === MechanismType.VLAN));
      }
      return next.request(ctx, req);
    },
  };
}
