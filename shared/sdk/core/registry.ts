// The chain of responsibility for both registries. One generic shape serves NetworkService and
// NetworkServiceEndpoint records: the gRPC boundary maps the wire's query/response wrappers onto it.
import type { Context } from './context';
import { boundOnce } from './boundonce';

export interface FindQuery<T> {
  /** The template to match (api.md §8.5). */
  item: T;
  /** Keep streaming changes after the current matches. */
  watch: boolean;
}

export interface FindResult<T> {
  item: T;
  deleted: boolean;
}

/** Receives Find results; a rejected promise ends the Find (for example a closed stream). */
export type FindSink<T> = (result: FindResult<T>) => void | Promise<void>;

export interface RegistryHandler<T> {
  register(ctx: Context, item: T): Promise<T>;
  /** Resolves when the Find is over: at once for a plain Find, when `ctx` ends for a watch. */
  find(ctx: Context, query: FindQuery<T>, sink: FindSink<T>): Promise<void>;
  unregister(ctx: Context, item: T): Promise<void>;
}

export interface RegistryElement<T> {
  register?(ctx: Context, item: T, next: RegistryHandler<T>): Promise<T>;
  find?(ctx: Context, query: FindQuery<T>, sink: FindSink<T>, next: RegistryHandler<T>): Promise<void>;
  unregister?(ctx: Context, item: T, next: RegistryHandler<T>): Promise<void>;
}

export function registryTail<T>(): RegistryHandler<T> {
  return {
    register: async (_ctx, item) => item,
    find: async () => undefined,
    unregister: async () => undefined,
  };
}

function bind<T>(elements: readonly RegistryElement<T>[], index: number, last: RegistryHandler<T>): RegistryHandler<T> {
  if (index >= elements.length) return last;
  const el = elements[index];
  let rest: RegistryHandler<T> | undefined;
  const next = () => (rest ??= bind(elements, index + 1, last));
  return {
    register: (ctx, item) => (el.register ? el.register(ctx, item, next()) : next().register(ctx, item)),
    find: (ctx, q, sink) => (el.find ? el.find(ctx, q, sink, next()) : next().find(ctx, q, sink)),
    unregister: (ctx, item) => (el.unregister ? el.unregister(ctx, item, next()) : next().unregister(ctx, item)),
  };
}

/** Composes elements in order into one element (handlers made once per `next`, as chain()). */
export function registryChain<T>(...elements: RegistryElement<T>[]): RegistryElement<T> {
  const at = boundOnce(elements.filter(Boolean), bind<T>);
  return {
    register: (ctx, item, next) => at(next).register(ctx, item),
    find: (ctx, q, sink, next) => at(next).find(ctx, q, sink),
    unregister: (ctx, item, next) => at(next).unregister(ctx, item),
  };
}

export function registryHandler<T>(element: RegistryElement<T>, last: RegistryHandler<T> = registryTail<T>()): RegistryHandler<T> {
  return bind([element], 0, last);
}

/** Collects the results of a non-watch Find. */
export async function findAll<T>(h: RegistryHandler<T>, ctx: Context, item: T): Promise<FindResult<T>[]> {
  const out: FindResult<T>[] = [];
  await h.find(ctx, { item, watch: false }, (r) => void out.push(r));
  return out;
}
