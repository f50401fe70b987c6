// dial (sdk.md §3.17): keeps one gRPC connection per NSM connection to the next hop named by the
// client URL. When the next hop changes, the old one is sent a Close first. Unlike v1.1.1 a healthy
// channel to the same URL is reused across refreshes instead of being re-dialled every time.
import { createKey } from '../../core/context';
import { clientMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';
import { NsmConnection } from '../../grpc/clients';
import { clientUrlKey } from '../clienturl';
import { log } from '../../log';

export const clientConnKey = createKey<NsmConnection>('dial.clientConn');

export function dial(opts: { dialTimeoutMs?: number } = {}): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const url = ctx.get(clientUrlKey);
      if (!url) return next.request(ctx, req);
      const meta = clientMeta(ctx);
      let cc = meta.get(clientConnKey);
      if (cc && cc.url !== url) {
        // The next hop changed (reselect): release the old one's state before moving on.
        const old = cc;
        const { ctx: closeCtx, cancel } = ctx.detached();
        try {
          await old.ready(closeCtx, opts.dialTimeoutMs);
          await next.close(closeCtx.with(clientUrlKey, old.url), structuredClone(req.connection!));
        } catch (err) {
          log.debug({ url: old.url, err: String(err) }, 'closing on the previous next hop failed');
        } finally {
          cancel();
          old.close();
        }
        cc = undefined;
      }
      if (cc && cc.broken) {
        cc.close();
        cc = undefined;
      }
      if (!cc) {
        cc = new NsmConnection(url);
        meta.set(clientConnKey, cc);
      }
      try {
        await cc.ready(ctx, opts.dialTimeoutMs);
      } catch (err) {
        meta.delete(clientConnKey);
        cc.close();
        throw err;
      }
      return next.request(ctx, req);
    },
    async close(ctx, conn, next) {
      const url = ctx.get(clientUrlKey);
      const meta = clientMeta(ctx);
      let cc = meta.get(clientConnKey);
      if (!url && !cc) return next.close(ctx, conn);
      if (!cc || (url && cc.url !== url)) {
        cc?.close();
        cc = new NsmConnection(url!);
        meta.set(clientConnKey, cc);
      }
      try {
        await cc.ready(ctx, opts.dialTimeoutMs).catch(() => undefined);
        return await next.close(ctx, conn);
      } finally {
        meta.delete(clientConnKey);
        cc.close();
      }
    },
  };
}
