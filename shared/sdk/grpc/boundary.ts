// The edge between grpc-js and the chains: builds a Context from a call (deadline, cancellation,
// metadata, peer) and turns any error into a gRPC status, logging what is not a StatusError.
import * as grpc from '@grpc/grpc-js';
import { Context } from '../core/context';
import { cancelled, StatusError } from '../core/errors';
import { log } from '../log';
import { incomingMetadataKey, peerKey } from './keys';

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

export function contextOf(call: AnyCall): Context {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort(cancelled('call cancelled by the client')));
  const d = call.getDeadline();
  const deadline = d instanceof Date ? d.getTime() : Number.isFinite(d) ? Number(d) : undefined;
  const md: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) md[k] = String(v);
  let ctx = Context.background().withSignal(ac.signal, deadline);
  ctx = ctx.with(incomingMetadataKey, md).with(peerKey, { id: peerIdentity(call) });
  return ctx;
}

function peerIdentity(call: AnyCall): string | undefined {
  const cert = call.getAuthContext?.()?.sslPeerCertificate;
  const san = cert?.subjectaltname;
  const m = san ? /URI:(spiffe:\/\/[^,\s]+)/.exec(san) : null;
  return m?.[1];
}

export function toServiceError(err: unknown, where: string): Partial<grpc.StatusObject> {
  const s = StatusError.from(err);
  if (!(err instanceof StatusError)) log.warn({ where, err: String(err), stack: (err as Error)?.stack }, 'unexpected error');
  return { code: s.code, details: s.message };
}

export function unary<Req, Res>(where: string, fn: (ctx: Context, req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(contextOf(call), call.request).then(
      (res) => callback(null, res),
      (err) => callback(toServiceError(err, where) as grpc.ServiceError),
    );
  };
}

/** Writes to a server stream, waiting for the transport when it is full; rejects once the call is gone. */
export function streamWriter<T>(call: grpc.ServerWritableStream<unknown, T>): (msg: T) => Promise<void> {
  return (msg) =>
    new Promise<void>((resolve, reject) => {
      if (call.cancelled || call.destroyed) return reject(cancelled('stream closed'));
      if (call.write(msg)) resolve();
      else call.once('drain', () => resolve());
    });
}
