// heal client (sdk.md §3.19): the client watches its own connection through the nsmgr's
// MonitorConnections. When the connection turns DOWN or the stream breaks, it re-requests every 200 ms
// with reselect (close the old path, choose again) until a Request succeeds. An optional data-path
// check (for example a ping of the far address) catches a broken data path with no control-plane event.
import { Connection, ConnectionEvent, ConnectionEventType, State } from '@nsm/api';
import { Context, createKey, sleep } from '../../core/context';
import { clone } from '../../core/conn';
import { clientMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';
import { monitorStream } from '../../grpc/clients';
import { eventFactoryKey, EventFactory } from '../begin';
import { clientConnKey } from '../dial';
import { log } from '../../log';

const loopKey = createKey<() => void>('heal.loop');

export interface HealOptions {
  /** Time between reselect attempts. */
  attemptAfterMs?: number;
  /** Data-path check; resolves false when the far end does not answer. */
  livenessCheck?: (conn: Connection) => Promise<boolean>;
  livenessIntervalMs?: number;
  /** Called after a heal succeeds, with the time it took since trouble was detected. */
  onHealed?: (id: string, ms: number) => void;
}

export function heal(opts: HealOptions = {}): NetworkServiceElement {
  const attemptAfter = opts.attemptAfterMs ?? 200;
  const healing = new Set<string>();

  // A control-plane trouble (a component restarted, a stream broke) is first healed by a plain
  // re-request along the same path, which lets surviving hops keep (and restarted ones adopt) the
  // data path; only if that fails, or when the data path itself failed, does the client reselect
  // (close the old path and choose again), as v1.1.1 always does. Upstream has the same split since
  // sdk v1.4 ("restore" vs "reselect").
  const startHealing = (factory: EventFactory, id: string, reason: string, dataPathFailed = false) => {
    if (healing.has(id)) return;
    healing.add(id);
    const started = Date.now();
    log.warn({ id, reason }, 'connection is down; healing');
    void (async () => {
      const { ctx, cancel } = Context.background().withCancel();
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            await factory.request({ reselect: dataPathFailed || attempt > 0 });
            opts.onHealed?.(id, Date.now() - started);
            log.info({ id, ms: Date.now() - started }, 'connection healed');
            return;
          } catch (err) {
            log.debug({ id, err: String(err) }, 'heal attempt failed');
          }
          await sleep(ctx, attemptAfter);
        }
      } finally {
        cancel();
        healing.delete(id);
      }
    })();
  };

  return {
    async request(ctx, req, next) {
      clientMeta(ctx).take(loopKey)?.();
      const out = await next.request(ctx, req);
      const factory = ctx.get(eventFactoryKey);
      const cc = clientMeta(ctx).get(clientConnKey);
      if (!factory || !cc) return out;
      const { ctx: loopCtx, cancel } = Context.background().withCancel();
      const own = out.path!.pathSegments[out.path!.index];
      const id = out.id;
      let initial = true;
      const onEvent = (ev: ConnectionEvent) => {
        const c = Object.values(ev.connections).find((x) => x.path?.pathSegments[out.path!.index]?.id === own.id);
        if (initial) {
          initial = false;
          // The watch starts after the Request returned. What went wrong in between shows only here:
          // the next hop already reports the connection DOWN, or does not know it (it restarted).
          if (!c || c.state === State.DOWN) {
            cancel();
            startHealing(factory, id, !c ? 'next hop does not know the connection' : 'state DOWN');
          }
          return;
        }
        if (!c) return;
        if (ev.type === ConnectionEventType.DELETE || c.state === State.DOWN) {
          cancel();
          startHealing(factory, id, ev.type === ConnectionEventType.DELETE ? 'deleted downstream' : 'state DOWN');
        }
      };
      const selector = { pathSegments: [{ name: own.name, id: own.id, token: '', expires: undefined, metrics: {} }], networkServices: [] };
      monitorStream(loopCtx, cc, selector, onEvent).catch((err) => {
        if (!loopCtx.done) startHealing(factory, id, `monitor stream broke: ${(err as Error).message}`);
      });
      if (opts.livenessCheck && (opts.livenessIntervalMs ?? 0) > 0) {
        const check = opts.livenessCheck;
        const snapshot = clone(out);
        void (async () => {
          while (!loopCtx.done) {
            await sleep(loopCtx, opts.livenessIntervalMs!).catch(() => undefined);
            if (loopCtx.done) return;
            const alive = await check(snapshot).catch(() => false);
            if (!alive && !loopCtx.done) {
              cancel();
              startHealing(factory, id, 'data path check failed', true);
              return;
            }
          }
        })();
      }
      clientMeta(ctx).set(loopKey, cancel);
      return out;
    },
    async close(ctx, conn, next) {
      clientMeta(ctx).take(loopKey)?.();
      return next.close(ctx, conn);
    },
  };
}
