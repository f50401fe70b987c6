// validate: the door of every endpoint, nsmgr and forwarder. A Request or Close is checked whole before
// any element acts on it: every mechanism preference and the connection's own mechanism against the
// typed parameter schema, labels, path, context and ids against the limits, and the caller's token
// metadata. A malformed field is INVALID_ARGUMENT, a too large one RESOURCE_EXHAUSTED, both naming it
// (shared/sdk/input has the rules), so nothing further down has to guess or defend.
import { TokenExpiresMetadataKey, TokenMetadataKey } from '@nsm/api';
import type { Context } from '../../core/context';
import type { NetworkServiceElement } from '../../core/networkservice';
import { incomingMetadataKey } from '../../grpc/keys';
import { checkClose, checkRequest, checkTokenMetadata } from '../../input';

const checkMetadata = (ctx: Context) => checkTokenMetadata(ctx.get(incomingMetadataKey), TokenMetadataKey, TokenExpiresMetadataKey);

export function validate(): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      checkRequest(req);
      checkMetadata(ctx);
      return next.request(ctx, req);
    },
    async close(ctx, conn, next) {
      checkClose(conn);
      checkMetadata(ctx);
      return next.close(ctx, conn);
    },
  };
}
