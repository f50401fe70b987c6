// The chain of responsibility for the NetworkService API. An element does its part before and after
// calling `next`; a chain is itself an element, so splicing a sub-chain equals inlining its elements.
import type { Connection, NetworkServiceRequest } from '@nsm/api';
import type { Context, Key } from './context';
import { boundOnce } from './boundonce';

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

/**
 * Composes elements in order into one element. The handlers that run it before a given `next` are
 * made once and reused: an element that keeps `next` for later (expiry, heal) then holds the chain's
 * handlers, not a copy of them per connection.
 */
export function chain(...elements: NetworkServiceElement[]): NetworkServiceElement {
  const at = boundOnce(elements.filter(Boolean), bind);
  return {
    request: (ctx, req, next) => at(next).request(ctx, req),
    close: (ctx, conn, next) => at(next).close(ctx, conn),
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

/** What a hop made for a connection (an interface, a tunnel, a port) and removes again. */
export interface Releasable {
  release(): Promise<unknown>;
}

/** Where an element keeps its record of a connection: its half of the connection's metadata. */
export interface Records {
  get<T>(key: Key<T>): T | undefined;
  set<T>(key: Key<T>, value: T): void;
}

export interface MakeOptions {
  /** Drops what the element recorded for the failed attempt (gets the error); runs before downstream is closed. */
  forget?: (err: unknown) => unknown;
  /**
   * Close downstream when making fails (default true). False for a refresh of a connection that
   * already has its path: that path stays for the client's heal or the expiry to deal with.
   */
  undo?: boolean;
}

/**
 * The dataplane idiom, Request half: after `next` answered with `out`, `make` builds this hop's part
 * (an interface, a tunnel, a cross-connect). When that fails, what was recorded is forgotten, the rest
 * of the path is closed again (undoDownstream) and the error is rethrown: nothing is left half-made.
 */
export async function makeOrUndo<T>(
  ctx: Context,
  next: Pick<NetworkServiceHandler, 'close'>,
  out: Connection,
  make: () => Promise<T>,
  opts: MakeOptions = {},
): Promise<T> {
  try {
    return await make();
  } catch (err) {
    try {
      await opts.forget?.(err);
    } catch {
      // the failure to report is the one that made us give up
    }
    if (opts.undo !== false) await undoDownstream(ctx, next, out);
    throw err;
  }
}

/**
 * makeOrUndo for the common case of one record per connection, kept under `key` in `records`: a
 * refresh finds it there and keeps it; otherwise it is made and stored. Returns `out`.
 */
export async function makeOnce<R>(
  ctx: Context,
  next: Pick<NetworkServiceHandler, 'close'>,
  out: Connection,
  records: Records,
  key: Key<R>,
  make: () => Promise<R>,
): Promise<Connection> {
  if (records.get(key)) return out;
  records.set(key, await makeOrUndo(ctx, next, out, make));
  return out;
}

/**
 * The dataplane idiom, Close half: closes the rest of the path first, then releases what this hop
 * made (a record, or a function doing it), whether or not the close succeeded.
 */
export async function closeThenRelease(
  ctx: Context,
  next: Pick<NetworkServiceHandler, 'close'>,
  conn: Connection,
  made: Releasable | (() => Promise<unknown>) | undefined,
): Promise<void> {
  try {
    await next.close(ctx, conn);
  } finally {
    if (typeof made === 'function') await made();
    else await made?.release();
  }
}
