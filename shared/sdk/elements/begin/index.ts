// begin (sdk.md §3.3): one operation at a time per connection id, in arrival order; Close always acts
// on the last connection that was successfully returned; a failed first Request leaves nothing.
// Unlike v1.1.1, a first Request that the rest of the path answered after its caller gave up
// (cancelled, or past its deadline) is closed again at once (server side): the answer never reaches
// the caller, so nothing else would close it before the previous hop's token expires, which keeps an
// endpoint busy (and from retiring when idle) for up to that token's lifetime.
import { Connection, NetworkServiceRequest } from '@nsm/api';
import { cancelled, invalidArgument } from '../../core/errors';
import { clone } from '../../core/conn';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/networkservice';
import { ConnectionEventFactory, eventFactoryKey } from './eventfactory';

export { eventFactoryKey } from './eventfactory';
export type { EventFactory, EventOptions } from './eventfactory';

export interface Begin extends NetworkServiceElement {
  /** Connection ids with live state, for leak checks. */
  ids(): string[];
}

/** Time given to closing what a caller that gave up made (its own budget is spent). */
const CLEANUP_MS = 15_000;

function create(isClient: boolean): Begin {
  const factories = new Map<string, ConnectionEventFactory>();
  const remove = (f: ConnectionEventFactory) => {
    if (factories.get(f.id) === f) factories.delete(f.id);
  };
  const factoryFor = (id: string) => {
    let f = factories.get(id);
    if (!f) {
      f = new ConnectionEventFactory(id, isClient, remove);
      factories.set(id, f);
    }
    return f;
  };

  const merge = (f: ConnectionEventFactory, req: NetworkServiceRequest): NetworkServiceRequest => {
    if (!isClient || !f.returned || !f.stored) return req;
    // A re-request carries the stored connection; the caller may only steer the endpoint name and
    // the extra context. Unlike v1.1.1 we also accept extra_context keys only the caller has.
    const conn = clone(f.stored.connection as Connection);
    const caller = req.connection as Connection;
    if (caller.networkServiceEndpointName !== f.returned.networkServiceEndpointName) {
      conn.networkServiceEndpointName = caller.networkServiceEndpointName;
    }
    if (caller.context?.extraContext && conn.context) {
      conn.context.extraContext = { ...caller.context.extraContext };
    }
    return { ...req, connection: conn };
  };

  return {
    ids: () => [...factories.keys()],
    async request(ctx, req, next: NetworkServiceHandler) {
      if (ctx.get(eventFactoryKey)) return next.request(ctx, req);
      const id = req.connection?.id;
      if (!id) throw invalidArgument('connection.id must not be empty');
      for (;;) {
        const f = factoryFor(id);
        const result = await f.executor.run(async () => {
          if (factories.get(id) !== f) return { retry: true as const };
          if (f.state === 'zero') {
            f.next = next;
            f.budgetMs = ctx.remaining();
          }
          const sent = merge(f, req);
          try {
            const out = await next.request(ctx.with(eventFactoryKey, f), sent);
            if (!isClient && ctx.done && f.state !== 'established') {
              const { ctx: closeCtx, cancel } = ctx.with(eventFactoryKey, f).detached(Date.now(), CLEANUP_MS);
              await next.close(closeCtx, clone(out)).catch(() => undefined).finally(cancel);
              throw cancelled(`connection ${id}: the caller gave up before the answer; closed again`);
            }
            f.stored = { ...clone(sent), connection: clone(out) };
            f.returned = clone(out);
            f.state = 'established';
            return { retry: false as const, out };
          } catch (err) {
            if (f.state !== 'established') f.markClosed();
            throw err;
          }
        });
        if (!result.retry) return result.out;
      }
    },
    async close(ctx, conn, next) {
      if (ctx.get(eventFactoryKey)) return next.close(ctx, conn);
      const f = factories.get(conn.id);
      if (!f) return;
      await f.executor.run(async () => {
        if (f.state !== 'established' || !f.stored || factories.get(conn.id) !== f) return;
        try {
          await next.close(ctx.with(eventFactoryKey, f), clone(f.stored.connection as Connection));
        } finally {
          f.markClosed();
        }
      });
    },
  };
}

export const beginServer = (): Begin => create(false);
export const beginClient = (): Begin => create(true);
