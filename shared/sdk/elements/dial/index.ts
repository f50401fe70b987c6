// dial (sdk.md §3.17): the gRPC connection to the next hop named by the client URL. When the next hop
// changes, the old one is sent a Close first. Channels are shared per URL (grpc/pool.ts) rather than
// dialled per connection and per Request as in v1.1.1.
import { createKey } from '../../core/context';
import { clientMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';
import type { NsmConnection } from '../../grpc/clients';
import { ChannelPool, Lease } from '../../grpc/pool';
import type { X509Source } from '../../spiffe/source';
import { clientUrlKey } from '../clienturl';
import { log } from '../../log';

export const clientConnKey = createKey<NsmConnection>('dial.clientConn');
const leaseKey = createKey<Lease>('dial.lease');

export interface DialOptions {
  /** The identity the channels present (mutual TLS). */
  source: X509Source;
  dialTimeoutMs?: number;
  pool?: ChannelPool;
}

export function dial(opts: DialOptions): NetworkServiceElement {
  const pool = opts.pool ?? new ChannelPool(opts.source);
  const attach = (meta: ReturnType<typeof clientMeta>, url: string) => {
    const lease = pool.acquire(url);
    meta.set(leaseKey, lease);
    meta.set(clientConnKey, lease.conn);
    return lease;
  };
  const detach = (meta: ReturnType<typeof clientMeta>) => {
    meta.take(leaseKey)?.release();
    meta.delete(clientConnKey);
  };
  return {
    async request(ctx, req, next) {
      const url = ctx.get(clientUrlKey);
      if (!url) return next.request(ctx, req);
      const meta = clientMeta(ctx);
      let lease = meta.get(leaseKey);
      if (lease && lease.conn.url !== url) {
        // The next hop changed (reselect): release the old one's state before moving on.
        const { ctx: closeCtx, cancel } = ctx.detached();
        try {
          await lease.conn.ready(closeCtx, opts.dialTimeoutMs);
          await next.close(closeCtx.with(clientUrlKey, lease.conn.url), structuredClone(req.connection!));
        } catch (err) {
          log.debug({ url: lease.conn.url, err: String(err) }, 'closing on the previous next hop failed');
        } finally {
          cancel();
          detach(meta);
        }
        lease = undefined;
      }
      if (lease && lease.conn.broken) {
        detach(meta);
        lease = undefined;
      }
      lease ??= attach(meta, url);
      try {
        await lease.conn.ready(ctx, opts.dialTimeoutMs);
      } catch (err) {
        detach(meta);
        throw err;
      }
      return next.request(ctx, req);
    },
    async close(ctx, conn, next) {
      const url = ctx.get(clientUrlKey);
      const meta = clientMeta(ctx);
      let lease = meta.get(leaseKey);
      if (!url && !lease) return next.close(ctx, conn);
      if (!lease || (url && lease.conn.url !== url)) {
        detach(meta);
        lease = attach(meta, url!);
      }
      try {
        await lease.conn.ready(ctx, opts.dialTimeoutMs).catch(() => undefined);
        return await next.close(ctx, conn);
      } finally {
        detach(meta);
      }
    },
  };
}
