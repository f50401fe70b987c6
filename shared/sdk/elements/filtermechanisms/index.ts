// filtermechanisms client (api.md §4.1): toward a unix-socket next hop only LOCAL mechanisms make sense,
// toward a TCP one only REMOTE ones.
import { MechanismClass } from '@nsm/api';
import type { NetworkServiceElement } from '../../core/networkservice';
import { isUnixUrl } from '../../grpc/urls';
import { clientUrlKey } from '../clienturl';

export function filterMechanisms(): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const url = ctx.get(clientUrlKey);
      if (url) {
        const want = isUnixUrl(url) ? MechanismClass.LOCAL : MechanismClass.REMOTE;
        req.mechanismPreferences = req.mechanismPreferences.filter((m) => m.cls === want);
      }
      return next.request(ctx, req);
    },
  };
}
