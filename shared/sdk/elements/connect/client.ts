// connect client (sdk.md §3.14): the last element of every client chain; performs the real RPC on the
// connection `dial` stored, with this hop's token in the call metadata.
import { clientMeta } from '../../core/metadata';
import { internal } from '../../core/errors';
import type { NetworkServiceElement } from '../../core/networkservice';
import { rpcClose, rpcRequest } from '../../grpc/clients';
import type { TokenGenerator } from '../../token';
import { clientConnKey } from '../dial';

export function connectClient(tokens?: TokenGenerator): NetworkServiceElement {
  return {
    async request(ctx, req) {
      const cc = clientMeta(ctx).get(clientConnKey);
      if (!cc) throw internal('no gRPC connection to the next hop (is a client URL set?)');
      return rpcRequest(ctx, cc, req, tokens);
    },
    async close(ctx, conn) {
      const cc = clientMeta(ctx).get(clientConnKey);
      if (!cc) throw internal('no gRPC connection to the next hop (is a client URL set?)');
      await rpcClose(ctx, cc, conn, tokens);
    },
  };
}
