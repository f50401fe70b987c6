// mechanisms server (sdk.md §3.22): picks the first preferred mechanism this hop supports and can set
// up, and hands the call to that mechanism's element. A refresh must keep the agreed mechanism.
// Unlike v1.1.1, only a failure of the selected element itself moves on to the next preference: when
// what comes after it failed (the rest of this hop, the next hop, the endpoint), another mechanism
// would meet the same failure, and a transient one (a slow dial) would leave the connection on a
// less preferred tunnel for its lifetime. That error is returned as it is, and the caller retries.
import type { Mechanism } from '@nsm/api';
import { clone } from '../../core/conn';
import { invalidArgument, StatusError } from '../../core/errors';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/networkservice';
import { log } from '../../log';

export function mechanisms(byType: Record<string, NetworkServiceElement>): NetworkServiceElement {
  const supported = Object.keys(byType);
  // A Map, not `byType[type]`: a type named "constructor" or "toString" must not find Object's own.
  const elements = new Map(Object.entries(byType));
  const elementFor = (m: Mechanism | undefined) => (m ? elements.get(m.type) : undefined);
  return {
    async request(ctx, req, next) {
      const current = req.connection?.mechanism;
      if (current && current.type) {
        const el = elementFor(current);
        if (!el) throw invalidArgument(`unsupported mechanism ${current.type} (this hop supports ${supported.join(', ')})`);
        return el.request ? el.request(ctx, req, next) : next.request(ctx, req);
      }
      const usable = req.mechanismPreferences.filter((m) => elements.has(m.type));
      if (usable.length === 0) {
        const offered = req.mechanismPreferences.map((m) => `${m.cls}/${m.type}`).join(', ') || 'none';
        throw invalidArgument(`cannot support any of the requested mechanisms: offered ${offered}; this hop supports ${supported.join(', ')}`);
      }
      const errors: string[] = [];
      let lastErr: unknown;
      for (const pref of usable) {
        const attempt = clone(req);
        attempt.connection!.mechanism = clone(pref);
        const el = elements.get(pref.type)!;
        let afterwards = false;
        const onward: NetworkServiceHandler = {
          request: (c, r) =>
            next.request(c, r).catch((err: unknown) => {
              afterwards = true;
              throw err;
            }),
          close: (c, conn) => next.close(c, conn),
        };
        try {
          return await (el.request ? el.request(ctx, attempt, onward) : onward.request(ctx, attempt));
        } catch (err) {
          if (afterwards || ctx.done) throw err;
          lastErr = err;
          errors.push(`${pref.type}: ${(err as Error).message}`);
          // A fallback to the next preference is worth seeing: the connection ends up on another mechanism.
          if (pref !== usable[usable.length - 1]) log.info({ id: req.connection?.id, mechanism: pref.type, err: (err as Error).message }, 'mechanism failed; trying the next preference');
        }
      }
      if (usable.length === 1) throw lastErr;
      throw new StatusError(StatusError.from(lastErr).code, `all mechanisms failed: ${errors.join('; ')}`);
    },
    async close(ctx, conn, next) {
      const el = elementFor(conn.mechanism);
      if (!el) return next.close(ctx, conn);
      return el.close ? el.close(ctx, conn, next) : next.close(ctx, conn);
    },
  };
}
