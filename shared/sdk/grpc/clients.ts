// gRPC clients for the NetworkService and MonitorConnection services sharing one channel, with the
// per-RPC token metadata NSM expects (nsm-client-token and its expiry).
import * as grpc from '@grpc/grpc-js';
import {
  Connection,
  ConnectionEvent,
  MonitorScopeSelector,
  NetworkServiceRequest,
  TokenExpiresMetadataKey,
  TokenMetadataKey,
} from '@nsm/api';
import { Context } from '../core/context';
import { cancelled, StatusError, unavailable } from '../core/errors';
import { formatExpires, TokenGenerator } from '../token';
import { dialTarget } from './urls';
import { NetworkServiceGrpcClient } from './nsclient';

export const channelOptions: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  // Unix-socket peers come and go with pods; reconnect quickly instead of backing off for seconds.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  'grpc.use_local_subchannel_pool': 1,
};

export class NsmConnection {
  readonly ns: NetworkServiceGrpcClient;

  constructor(readonly url: string) {
    this.ns = new NetworkServiceGrpcClient(dialTarget(url), grpc.credentials.createInsecure(), channelOptions);
  }

  /** Waits until the channel is ready, or fails with UNAVAILABLE after `timeoutMs` / the ctx deadline. */
  ready(ctx: Context, timeoutMs?: number): Promise<void> {
    const limit = Math.min(timeoutMs ? Date.now() + timeoutMs : Infinity, ctx.deadline ?? Infinity);
    const deadline = Number.isFinite(limit) ? limit : Date.now() + 30_000;
    return new Promise((resolve, reject) =>
      this.ns.waitForReady(deadline, (err) =>
        err ? reject(unavailable(`failed to dial ${this.url}: ${err.message}`)) : resolve(),
      ),
    );
  }

  get broken(): boolean {
    const s = this.ns.getChannel().getConnectivityState(false);
    return s === grpc.connectivityState.SHUTDOWN || s === grpc.connectivityState.TRANSIENT_FAILURE;
  }

  close(): void {
    this.ns.close();
  }
}

export function callMetadata(tokens?: TokenGenerator): grpc.Metadata {
  const md = new grpc.Metadata();
  if (tokens) {
    const t = tokens();
    md.set(TokenMetadataKey, t.token);
    md.set(TokenExpiresMetadataKey, formatExpires(t.expires));
  }
  return md;
}

function callOptions(ctx: Context): grpc.CallOptions {
  return ctx.deadline !== undefined ? { deadline: ctx.deadline } : {};
}

function unaryCall<Req, Res>(
  ctx: Context,
  start: (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall,
  req: Req,
  md: grpc.Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    if (ctx.done) return reject(cancelled('context cancelled before the call'));
    const onAbort = () => call.cancel();
    const call = start(req, md, callOptions(ctx), (err, res) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (err) reject(StatusError.from(err));
      else resolve(res);
    });
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function rpcRequest(ctx: Context, c: NsmConnection, req: NetworkServiceRequest, tokens?: TokenGenerator): Promise<Connection> {
  return unaryCall<NetworkServiceRequest, Connection>(ctx, (r, md, o, cb) => c.ns.request(r, md, o, cb as never), req, callMetadata(tokens));
}

export async function rpcClose(ctx: Context, c: NsmConnection, conn: Connection, tokens?: TokenGenerator): Promise<void> {
  await unaryCall<Connection, object>(ctx, (r, md, o, cb) => c.ns.closeConnection(r, md, o, cb as never), conn, callMetadata(tokens));
}

/**
 * Subscribes to MonitorConnections. `onEvent` gets every event; the promise settles when the stream
 * ends: resolves on cancellation through `ctx`, rejects with the stream's status otherwise.
 */
export function monitorStream(
  ctx: Context,
  c: NsmConnection,
  selector: MonitorScopeSelector,
  onEvent: (ev: ConnectionEvent) => void,
  tokens?: TokenGenerator,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ctx.done) return resolve();
    const stream = c.ns.monitorConnections(selector, callMetadata(tokens));
    const onAbort = () => stream.cancel();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (ev: ConnectionEvent) => onEvent(ev));
    stream.on('error', (err: grpc.ServiceError) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (ctx.done) resolve();
      else reject(StatusError.from(err));
    });
    stream.on('end', () => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (ctx.done) resolve();
      else reject(unavailable('monitor stream ended by the server'));
    });
  });
}
