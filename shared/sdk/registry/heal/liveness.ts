// The registry heal's liveness signal: one watch Find kept open toward the registry while records are
// remembered. It asks for a name no record has, so a registry does not stream its whole contents to
// every registrant. When the watch ends or fails on its own, the connection to the registry was lost.
import { Context } from '../../core/context';
import type { RegistryHandler } from '../../core/registry';

export interface LivenessWatch<T> {
  /** Opens the watch through `next` unless one is open. */
  ensure(next: RegistryHandler<T>): void;
  cancel(): void;
  readonly open: boolean;
}

export function livenessWatch<T>(probe: T, signal: AbortSignal, onLost: (err: unknown) => void): LivenessWatch<T> {
  let monitor: { cancel(): void } | undefined;
  const lost = (mine: { cancel(): void }, ctx: Context, err: unknown) => {
    if (ctx.done || monitor !== mine) return;
    monitor = undefined;
    onLost(err);
  };
  return {
    ensure(next) {
      if (monitor || signal.aborted) return;
      const { ctx, cancel } = Context.background().withSignal(signal).withCancel();
      const mine = { cancel };
      monitor = mine;
      next.find(ctx, { item: probe, watch: true }, () => undefined).then(
        () => lost(mine, ctx, 'watch ended'),
        (err) => lost(mine, ctx, err),
      );
    },
    cancel() {
      monitor?.cancel();
      monitor = undefined;
    },
    get open() {
      return monitor !== undefined;
    },
  };
}
