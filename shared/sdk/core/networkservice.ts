// The chain of responsibility for the NetworkService API. An element does its part before and after
// calling `next`; a chain is itself an element, so splicing a sub-chain equals inlining its elements.
import type { Connection, NetworkServiceRequest } from '@nsm/api';
import type { Context } from './context';

/** What an element calls to continue: the rest of the chain. */
export interface NetworkServiceHandler {
  request(ctx: Context, request: NetworkServiceRequest): Promise<Connection>;
  close(ctx: Context, conn: Connection): Promise<void>;
}

/** One link. A missing method passes straight through to `next`. */
export interface NetworkServiceElement {
  request?(ctx: Context, request: NetworkServiceRequest, next: NetworkServiceHandler): Promise<Connection>;
  close?(ctx: Context, conn: Connection, next: NetworkServiceHandler): Promise<void>;
}

/** End of every chain: a Request returns the connection it was given, a Close succeeds. */
export const tail: NetworkServiceHandler = {
  request: async (_ctx, request) => request.connection as Connection,
  close: async () => undefined,
};

function bind(elements: readonly NetworkServiceElement[], index: number, last: NetworkServiceHandler): NetworkServiceHandler {
  if (index >= elements.length) return last;
  const el = elements[index];
  let rest: NetworkServiceHandler | undefined;
  const next = () => (rest ??= bind(elements, index + 1, last));
  return {
    request: (ctx, req) => (el.request ? el.request(ctx, req, next()) : next().request(ctx, req)),
    close: (ctx, conn) => (el.close ? el.close(ctx, conn, next()) : next().close(ctx, conn)),
  };
}

/** Composes elements in order into one element. */
export function chain(...elements: NetworkServiceElement[]): NetworkServiceElement {
  const flat = elements.filter(Boolean);
  return {
    request: (ctx, req, next) => bind(flat, 0, next).request(ctx, req),
    close: (ctx, conn, next) => bind(flat, 0, next).close(ctx, conn),
  };
}

/** Turns an element (usually a whole chain) into something callable, ending in `last`. */
export function handler(element: NetworkServiceElement, last: NetworkServiceHandler = tail): NetworkServiceHandler {
  return bind([element], 0, last);
}

/** An element that does nothing but continue. */
export const passThrough: NetworkServiceElement = {};

/**
 * Closes downstream when this hop cannot finish its part after `next` succeeded, so nothing is left
 * half-made. Runs with the caller's values and time budget but not its cancellation; errors ignored.
 */
export async function undoDownstream(ctx: Context, next: Pick<NetworkServiceHandler, 'close'>, conn: Connection): Promise<void> {
  const { ctx: c, cancel } = ctx.detached();
  try {
    await next.close(c, structuredClone(conn)).catch(() => undefined);
  } finally {
    cancel();
  }
}
