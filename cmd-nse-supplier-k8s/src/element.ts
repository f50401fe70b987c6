// createpod (sdk.md §8): the supplier's only element after the endpoint head. A Request makes sure an
// endpoint is coming on the client's node (label nodeName) and fails, so that the client retries and
// lands on it; a Close passes through (there is nothing to close: no Request ever succeeded here).
import { Label } from '@nsm/api';
import type { NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import type { Supplier } from './supplier';

export function createPod(supplier: Supplier): NetworkServiceElement {
  return {
    async request(ctx, req) {
      return supplier.supply(ctx, req.connection?.labels?.[Label.nodeName]);
    },
  };
}
