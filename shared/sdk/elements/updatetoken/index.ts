// updatetoken (sdk.md §3.4): the caller's token and expiry from the call metadata go into the
// caller's segment; this hop's own fresh token goes into its own segment.
import { Connection } from '@nsm/api';
import { toTimestamp } from '../../core/conn';
import { invalidArgument } from '../../core/errors';
import type { NetworkServiceElement } from '../../core/networkservice';
import { incomingMetadataKey, peerKey } from '../../grpc/keys';
import { parseExpires, TokenGenerator } from '../../token';
import { TokenExpiresMetadataKey, TokenMetadataKey } from '@nsm/api';

function stamp(ctx: Parameters<NonNullable<NetworkServiceElement['request']>>[0], conn: Connection, gen: TokenGenerator) {
  const path = conn.path;
  if (!path || path.index >= path.pathSegments.length) {
    throw invalidArgument(`connection.path.index ${path?.index ?? 0} is out of range: the path has ${path?.pathSegments.length ?? 0} segment(s)`);
  }
  const md = ctx.get(incomingMetadataKey);
  if (path.index > 0 && md) {
    const token = md[TokenMetadataKey];
    const expires = md[TokenExpiresMetadataKey] ? parseExpires(md[TokenExpiresMetadataKey]) : undefined;
    if (token && expires !== undefined) {
      const prev = path.pathSegments[path.index - 1];
      prev.token = token;
      prev.expires = toTimestamp(expires);
    }
  }
  const own = gen(ctx.get(peerKey));
  const seg = path.pathSegments[path.index];
  seg.token = own.token;
  seg.expires = toTimestamp(own.expires);
}

export function updateToken(gen: TokenGenerator): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const conn = req.connection ?? (req.connection = Connection.fromPartial({}));
      stamp(ctx, conn, gen);
      return next.request(ctx, req);
    },
    async close(ctx, conn, next) {
      stamp(ctx, conn, gen);
      return next.close(ctx, conn);
    },
  };
}
