// serialize: Register and Unregister of one name run one at a time, in arrival order; other names run
// in parallel. The executor travels in the context so that later elements (expire, refresh) run their
// timer-driven actions on the same per-name queue.
import { createKey } from '../../core/context';
import type { RegistryElement } from '../../core/registry';

export interface NameExecutor {
  /** Runs `fn` after everything queued earlier for `name` has settled. */
  run<R>(name: string, fn: () => Promise<R>): Promise<R>;
  /** Names with queued or running work. */
  readonly busy: number;
}

export const executorKey = createKey<NameExecutor>('registry.serialize');

export function nameExecutor(): NameExecutor {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<R>(name: string, fn: () => Promise<R>): Promise<R> {
      const prev = tails.get(name) ?? Promise.resolve();
      const result = prev.then(fn, fn);
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(name, tail);
      void tail.then(() => {
        if (tails.get(name) === tail) tails.delete(name);
      });
      return result;
    },
    get busy() {
      return tails.size;
    },
  };
}

export function serialize<T extends { name: string }>(exec: NameExecutor = nameExecutor()): RegistryElement<T> & { executor: NameExecutor } {
  return {
    executor: exec,
    register: (ctx, item, next) => exec.run(item.name, () => next.register(ctx.with(executorKey, exec), item)),
    unregister: (ctx, item, next) => exec.run(item.name, () => next.unregister(ctx.with(executorKey, exec), item)),
  };
}
