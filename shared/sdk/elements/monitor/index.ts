// monitor (sdk.md §3.8): publishes this hop's connections to its MonitorConnections subscribers and,
// for a pass-through hop, follows the next hop's monitor stream so that downstream changes (and a
// broken downstream, as state DOWN) flow upstream hop by hop. The stream is shared by all
// connections to one next hop (downstream.ts), not opened per connection: a Request does not wait
// for a stream of its own, and a node's hops keep one stream each instead of one per connection.
import { Connection, ConnectionEventType, State } from '@nsm/api';
import { Context, createKey } from '../../core/context';
import { DownstreamMonitors } from './downstream';
import { clone, currentSegment } from '../../core/conn';
import { clientMeta, serverMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';
import { clientConnKey } from '../dial';
import { MonitorServer } from './server';
import { log } from '../../log';

export { MonitorServer } from './server';
export { matchesSelector } from './selector';

const loopKey = createKey<() => void>('monitor.downstreamLoop');

/**
 * Relates a connection seen by the next hop to ours (own index i): the result in our coordinates,
 * or undefined when the event is about some other connection.
 */
export function translateDownstream(ours: Connection, theirs: Connection, deleted: boolean): Connection | undefined {
  const i = ours.path?.index ?? 0;
  const segs = theirs.path?.pathSegments ?? [];
  const idx = theirs.path?.index ?? 0;
  if (segs.length < i + 1 || segs[i].id !== ours.id || (idx !== i && idx !== i + 1)) return undefined;
  const out = clone(ours);
  out.path = { index: i, pathSegments: clone(segs) };
  out.context = clone(theirs.context);
  out.state = deleted ? State.DOWN : theirs.state;
  return out;
}

function followDownstream(ctx: Context, downstream: DownstreamMonitors, server: MonitorServer, conn: Connection, since: number, onBroken?: (conn: Connection) => void): Promise<() => void> {
  const cc = clientMeta(ctx).get(clientConnKey);
  if (!cc) return Promise.resolve(() => undefined);
  const own = currentSegment(conn)!;
  let last = clone(conn);
  return downstream.follow(cc, own, {
    event(theirs, deleted) {
      const mapped = translateDownstream(last, theirs, deleted);
      if (!mapped || JSON.stringify(mapped) === JSON.stringify(last)) return;
      last = mapped;
      server.publish(ConnectionEventType.UPDATE, [mapped]);
    },
    broken(err) {
      log.info({ id: conn.id, url: cc.url, err: String(err) }, 'downstream monitor stream broke; reporting DOWN');
      try {
        onBroken?.(last);
      } catch (e) {
        log.warn({ id: conn.id, err: String(e) }, 'downstream-broken hook failed');
      }
      server.publish(ConnectionEventType.UPDATE, [{ ...clone(last), state: State.DOWN }]);
    },
  }, since);
}

export interface MonitorOptions {
  /** How long a next hop's monitor stream stays open after its last connection closed (default 60 s). */
  lingerMs?: number;
  /**
   * Runs when the next hop's stream breaks, before DOWN is reported upstream: what the hop should
   * let go of first (a forwarder: the namespaces of endpoints that died, so that a data-path check
   * sees them gone).
   */
  onDownstreamBroken?: (conn: Connection) => void;
}

export function monitor(server: MonitorServer, opts: MonitorOptions = {}): NetworkServiceElement {
  const downstream = new DownstreamMonitors(opts.lingerMs);
  return {
    async request(ctx, req, next) {
      serverMeta(ctx).take(loopKey)?.();
      const since = downstream.mark();
      const out = await next.request(ctx, req);
      server.publish(ConnectionEventType.UPDATE, [out]);
      try {
        serverMeta(ctx).set(loopKey, await followDownstream(ctx, downstream, server, out, since, opts.onDownstreamBroken));
      } catch (err) {
        // Without a way to notice downstream failures the connection could not heal: undo it.
        await next.close(ctx, clone(out)).catch(() => undefined);
        server.publish(ConnectionEventType.DELETE, [out]);
        throw err;
      }
      return out;
    },
    async close(ctx, conn, next) {
      serverMeta(ctx).take(loopKey)?.();
      try {
        await next.close(ctx, conn);
      } finally {
        server.publish(ConnectionEventType.DELETE, [conn]);
      }
    },
  };
}
