// The edge between grpc-js and the chains: builds a Context from a call (deadline, cancellation,
// metadata, the TLS peer) and turns any error into a gRPC status, logging what is not a StatusError. A
// request its guarded deserializer refused (guard.ts) is answered with that status without calling anything.
import * as grpc from '@grpc/grpc-js';
import { Context } from '../core/context';
import { cancelled, StatusError } from '../core/errors';
import { log } from '../log';
import { refusal } from './guard';
import { peerFromAuthContext } from '../spiffe/peer';
import type { PeerInfo } from '../token';
import { incomingMetadataKey, peerKey } from './keys';
import { unixPeerKey, unixPeerOf } from './unixpeer';

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

export function contextOf(call: AnyCall): Context {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort(cancelled('call cancelled by the client')));
  const d = call.getDeadline();
  const deadline = d instanceof Date ? d.getTime() : Number.isFinite(d) ? Number(d) : undefined;
  const md: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) md[k] = String(v);
  let ctx = Context.background().withSignal(ac.signal, deadline);
  ctx = ctx.with(incomingMetadataKey, md).with(peerKey, peerOf(call));
  const unix = unixPeerOf(call.getPeer?.());
  return unix ? ctx.with(unixPeerKey, unix) : ctx;
}

/**
 * Every call that came over gRPC has a peer entry (its presence is what tells elements that a call
 * is not in-process); with TLS it holds the caller's SPIFFE ID and certificate, and the certificate
 * this server presented to it.
 */
function peerOf(call: AnyCall): PeerInfo {
  const p = peerFromAuthContext(call.getAuthContext?.());
  return p ? { id: p.id, certificate: p.certificate, localCertificate: p.localCertificate, trustDomains: p.trustDomains } : {};
}

export function toServiceError(err: unknown, where: string): Partial<grpc.StatusObject> {
  const s = StatusError.from(err);
  if (!(err instanceof StatusError)) log.warn({ where, err: String(err), stack: (err as Error)?.stack }, 'unexpected error');
  return { code: s.code, details: s.message };
}

export function unary<Req, Res>(where: string, fn: (ctx: Context, req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const refused = refusal(call.request);
    if (refused) return callback(toServiceError(refused, where) as grpc.ServiceError);
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
