// Registers a remembered record again through the top of the client chain: one loop per name, each
// attempt bounded to 15 s, retried every `retryMs` until one succeeds, the record is unregistered, or
// healing stops. A record registered with a lifetime asks for the same lifetime again.
import type { Clock } from '../../core/clock';
import { fromTimestamp, toTimestamp } from '../../core/conn';
import { Context, sleep } from '../../core/context';
import type { RegistryHandler } from '../../core/registry';
import { log } from '../../log';

export interface Remembered<T> {
  item: T;
  /** Requested lifetime (NSE expiration_time − now at Register), 0 when none was asked for. */
  lifetimeMs: number;
}

type Item = { name: string; expirationTime?: unknown };

/** What to remember of a record registered now. */
export function remember<T extends Item>(item: T, name: string, clock: Clock): Remembered<T> {
  const at = fromTimestamp(item.expirationTime as never);
  return { item: { ...item, name }, lifetimeMs: at === undefined ? 0 : Math.max(0, at - clock.now()) };
}

export interface ReRegistrations {
  start(name: string): void;
  /** Loops in progress. */
  readonly running: number;
}

export function reRegistrations<T extends Item>(o: {
  kind: string;
  records: Map<string, Remembered<T>>;
  top: () => RegistryHandler<T> | undefined;
  signal: AbortSignal;
  retryMs: number;
  clock: Clock;
}): ReRegistrations {
  const loops = new Set<string>();
  const again = (r: Remembered<T>): T =>
    r.item.expirationTime === undefined
      ? r.item
      : ({ ...r.item, expirationTime: r.lifetimeMs > 0 ? toTimestamp(o.clock.now() + r.lifetimeMs) : undefined } as T);

  const run = async (name: string) => {
    loops.add(name);
    const bg = Context.background().withSignal(o.signal);
    try {
      while (!o.signal.aborted) {
        const r = o.records.get(name);
        const top = o.top();
        if (!r || !top) return;
        const { ctx, cancel } = bg.withTimeout(15_000);
        try {
          await top.register(ctx, again(r));
          log.info({ name, kind: o.kind }, 'registration healed');
          return;
        } catch (err) {
          log.debug({ name, err: String(err) }, 're-registration failed; retrying');
        } finally {
          cancel();
        }
        await sleep(bg, o.retryMs).catch(() => undefined);
      }
    } finally {
      loops.delete(name);
    }
  };

  return {
    start(name) {
      if (!loops.has(name)) void run(name);
    },
    get running() {
      return loops.size;
    },
  };
}
