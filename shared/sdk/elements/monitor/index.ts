// monitor (sdk.md §3.8): publishes this hop's connections to its MonitorConnections subscribers and,
// for a pass-through hop, follows the next hop's monitor stream so that downstream changes (and a
// broken downstream, as state DOWN) flow upstream hop by hop.
import { Connection, ConnectionEventType, ConnectionEvent, State } from '@nsm/api';
import { Context, createKey } from '../../core/context';
import { clone, currentSegment } from '../../core/conn';
import { clientMeta, serverMeta } from '../../core/metadata';
import { unavailable } from '../../core/errors';
import type { NetworkServiceElement } from '../../core/networkservice';
import { monitorStream } from '../../grpc/clients';
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

function startDownstreamLoop(ctx: Context, server: MonitorServer, conn: Connection): Promise<() => void> {
  const cc = clientMeta(ctx).get(clientConnKey);
  if (!cc) return Promise.resolve(() => undefined);
  const { ctx: loopCtx, cancel } = Context.background().withCancel();
  const own = currentSegment(conn)!;
  let last = clone(conn);
  return new Promise((resolve, reject) => {
    let initial = true;
    const onEvent = (ev: ConnectionEvent) => {
      if (initial) {
        initial = false;
        resolve(cancel);
        return;
      }
      for (const c of Object.values(ev.connections)) {
        const mapped = translateDownstream(last, c, ev.type === ConnectionEventType.DELETE);
        if (!mapped) continue;
        if (JSON.stringify(mapped) === JSON.stringify(last)) continue;
        last = mapped;
        server.publish(ConnectionEventType.UPDATE, [mapped]);
      }
    };
    const selector = { pathSegments: [{ name: own.name, id: own.id, token: '', expires: undefined, metrics: {} }], networkServices: [] };
    monitorStream(loopCtx, cc, selector, onEvent).then(
      () => undefined,
      (err) => {
        if (initial) {
          initial = false;
          reject(unavailable(`unable to monitor ${cc.url}: ${(err as Error).message}`));
          return;
        }
        if (loopCtx.done) return;
        log.info({ id: conn.id, url: cc.url, err: String(err) }, 'downstream monitor stream broke; reporting DOWN');
        server.publish(ConnectionEventType.UPDATE, [{ ...clone(last), state: State.DOWN }]);
      },
    );
  });
}

export function monitor(server: MonitorServer): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      serverMeta(ctx).take(loopKey)?.();
      const out = await next.request(ctx, req);
      server.publish(ConnectionEventType.UPDATE, [out]);
      try {
        serverMeta(ctx).set(loopKey, await startDownstreamLoop(ctx, server, out));
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
