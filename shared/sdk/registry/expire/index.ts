// expire (NSE server): every registration lives at most `maxMs` (min(requested, now + max); an unset
// expiration_time means the maximum). When the time passes without a new Register, the record is
// unregistered through the rest of this chain (so the store removes it and watchers get a deleted
// event). Timers come from the injected Clock, and fire on the serialize queue of the name.
import type { NetworkServiceEndpoint } from '@nsm/api';
import { Clock, realClock, TimerHandle } from '../../core/clock';
import { fromTimestamp, toTimestamp } from '../../core/conn';
import { Context } from '../../core/context';
import type { RegistryElement, RegistryHandler } from '../../core/registry';
import { log } from '../../log';
import { executorKey, NameExecutor } from '../serialize';

export interface ExpireOptions {
  /** Longest lifetime of a registration without a refresh; default 1 minute. */
  maxMs?: number;
  clock?: Clock;
  /** Delay before retrying a self-unregister that failed; default 1 s. */
  retryMs?: number;
}

interface Entry {
  at: number;
  item: NetworkServiceEndpoint;
  handle?: TimerHandle;
  next: RegistryHandler<NetworkServiceEndpoint>;
  exec?: NameExecutor;
}

export interface ExpireElement extends RegistryElement<NetworkServiceEndpoint> {
  /** Names with a pending expiry. */
  readonly timers: number;
  /**
   * Starts the expiry of a record this element did not see registered (one found in a persistent
   * store at start-up); `rest` is the chain after this element.
   */
  adopt(item: NetworkServiceEndpoint, rest: RegistryHandler<NetworkServiceEndpoint>, exec?: NameExecutor): NetworkServiceEndpoint;
  /** Cancels every timer (on shutdown). */
  stop(): void;
}

export function expire(opts: ExpireOptions = {}): ExpireElement {
  const maxMs = opts.maxMs ?? 60_000;
  const clock = opts.clock ?? realClock;
  const retryMs = opts.retryMs ?? 1000;
  const entries = new Map<string, Entry>();

  const arm = (e: Entry, at = e.at) => {
    e.handle = clock.after(at - clock.now(), () => fire(e));
  };

  const fire = (e: Entry) => {
    const name = e.item.name;
    const run = async () => {
      if (entries.get(name) !== e) return; // re-registered or unregistered meanwhile
      const { ctx, cancel } = Context.background().withTimeout(15_000);
      try {
        await e.next.unregister(ctx, e.item);
        if (entries.get(name) === e) entries.delete(name);
        log.debug({ nse: name }, 'registration expired');
      } catch (err) {
        log.warn({ nse: name, err: String(err) }, 'failed to unregister an expired registration; retrying');
        if (entries.get(name) === e) arm(e, clock.now() + retryMs);
      } finally {
        cancel();
      }
    };
    void (e.exec ? e.exec.run(name, run) : run());
  };

  const start = (item: NetworkServiceEndpoint, next: RegistryHandler<NetworkServiceEndpoint>, exec?: NameExecutor) => {
    const e: Entry = { at: fromTimestamp(item.expirationTime) ?? clock.now() + maxMs, item, next, exec };
    entries.get(item.name)?.handle?.cancel();
    entries.set(item.name, e);
    arm(e);
  };

  return {
    get timers() {
      return entries.size;
    },
    adopt(item, rest, exec) {
      const limit = clock.now() + maxMs;
      const at = Math.min(fromTimestamp(item.expirationTime) ?? limit, limit);
      const adopted = { ...item, expirationTime: toTimestamp(at) };
      start(adopted, rest, exec);
      return adopted;
    },
    stop() {
      for (const e of entries.values()) e.handle?.cancel();
      entries.clear();
    },
    async register(ctx, nse, next) {
      const prev = entries.get(nse.name);
      prev?.handle?.cancel();
      const limit = clock.now() + maxMs;
      const requested = fromTimestamp(nse.expirationTime);
      const at = requested !== undefined && requested < limit ? requested : limit;
      let out: NetworkServiceEndpoint;
      try {
        out = await next.register(ctx, { ...nse, expirationTime: toTimestamp(at) });
      } catch (err) {
        if (prev && entries.get(nse.name) === prev) arm(prev);
        throw err;
      }
      if (out.name !== nse.name && entries.get(nse.name) === prev) entries.delete(nse.name);
      start(out, next, ctx.get(executorKey));
      return out;
    },
    async unregister(ctx, nse, next) {
      const e = entries.get(nse.name);
      e?.handle?.cancel();
      try {
        // Unknown names still reach the store: a persistent store may hold a record registered before
        // this process started. Unregistering an unknown name is a no-op there.
        await next.unregister(ctx, nse);
      } catch (err) {
        if (e && entries.get(nse.name) === e) arm(e);
        throw err;
      }
      if (e && entries.get(nse.name) === e) entries.delete(nse.name);
    },
  };
}
