// ownership (NSE server): a Register or Unregister that came over gRPC may only touch a name whose
// stored registration path (path_ids) equals the caller's (policy/ownership.ts); the record is stored
// with that path, so the check holds after a restart of a persistent store. Runs after serialize, so
// that the check and the store are one step per name. In-process calls (expiry) are not checked.
import type { NetworkServiceEndpoint } from '@nsm/api';
import type { Context } from '../../core/context';
import { permissionDenied } from '../../core/errors';
import type { RegistryElement } from '../../core/registry';
import { peerKey } from '../../grpc/keys';
import { checkOwnership, registrationPath } from '../../policy/ownership';

export interface OwnershipOptions {
  /** The stored record of a name (the store element's store). */
  lookup(name: string): Promise<NetworkServiceEndpoint | undefined>;
}

/** The caller's registration path; undefined for in-process calls. */
export function callerPath(ctx: Context, nse: NetworkServiceEndpoint): string[] | undefined {
  const peer = ctx.get(peerKey);
  if (!peer) return undefined;
  if (!peer.id) throw permissionDenied('registry calls need a caller identity (an X.509-SVID over TLS)');
  return registrationPath(nse.pathIds, peer.id);
}

export function ownership(opts: OwnershipOptions): RegistryElement<NetworkServiceEndpoint> {
  return {
    async register(ctx, nse, next) {
      const path = callerPath(ctx, nse);
      if (!path) return next.register(ctx, nse);
      checkOwnership('register', nse.name, await opts.lookup(nse.name), path);
      return next.register(ctx, { ...nse, pathIds: path });
    },
    async unregister(ctx, nse, next) {
      const path = callerPath(ctx, nse);
      if (!path) return next.unregister(ctx, nse);
      checkOwnership('unregister', nse.name, await opts.lookup(nse.name), path);
      return next.unregister(ctx, { ...nse, pathIds: path });
    },
  };
}
