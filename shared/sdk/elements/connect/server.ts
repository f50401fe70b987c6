// connect server (sdk.md §3.14): runs a whole client chain to reach the next hop, then continues the
// server chain with the result. If the rest of the server chain fails, the client side is closed again.
import type { NetworkServiceElement } from '../../core/networkservice';
import { handler } from '../../core/networkservice';
import { clone } from '../../core/conn';
import { log } from '../../log';

export function connectServer(clientChain: NetworkServiceElement): NetworkServiceElement {
  const client = handler(clientChain);
  return {
    async request(ctx, req, next) {
      const out = await client.request(ctx, req);
      try {
        return await next.request(ctx, { ...req, connection: out });
      } catch (err) {
        const { ctx: closeCtx, cancel } = ctx.detached();
        await client.close(closeCtx, clone(out)).catch((e) => log.debug({ err: String(e) }, 'cleanup close failed'));
        cancel();
        throw err;
      }
    },
    async close(ctx, conn, next) {
      let clientErr: unknown;
      try {
        await client.close(ctx, clone(conn));
      } catch (err) {
        clientErr = err;
      }
      await next.close(ctx, conn);
      if (clientErr) throw clientErr;
    },
  };
}
