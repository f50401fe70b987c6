// gRPC clients for the NetworkService and MonitorConnection services sharing one channel, with the
// per-RPC token metadata NSM expects (nsm-client-token and its expiry). Channels are mutual TLS with
// the SVID of an X509Source (no plaintext). The token is made when the call is put on a connection,
// after the TLS handshake, so that its audience is the server that connection proved, and it is
// signed with the key of the certificate that connection presented.
//
// A connection outlives SVID rotations; both ends sign for it with the keys of the certificates of
// its handshake, which expire. So a channel is replaced by a fresh one (new handshake) once our own
// SVID has rotated or the server's certificate nears its end. The new channel connects in the
// background and takes over once it is ready, so no call waits for that handshake (and no dial
// timeout can fail for it) unless a certificate of the old one has already expired; calls in flight
// finish on the old one.
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
import { checkConnection, MAX_MESSAGE_BYTES } from '../input';
import { log } from '../log';
import { callPeerSlotKey, peerFromAuthContext, TransportPeer } from '../spiffe/peer';
import type { X509Source } from '../spiffe/source';
import { spiffeChannelCredentials, SpiffeChannel } from '../spiffe/tls';
import { formatExpires, TokenGenerator } from '../token';
import { refusal } from './guard';
import { dialTarget } from './urls';
import { NetworkServiceGrpcClient } from './nsclient';

export const channelOptions: grpc.ChannelOptions = {
  // A peer's answer is bounded like a caller's request (input/limits.ts).
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  // Unix-socket peers come and go with pods; reconnect quickly instead of backing off for seconds.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  'grpc.use_local_subchannel_pool': 1,
  // No channelz (grpc-js's per-call counters and trace events, for a channelz service we do not
  // serve): it costs every call time and every channel memory. Servers keep it: grpc-js 1.14 tracks
  // the sessions it closes on shutdown only with channelz on.
  'grpc.enable_channelz': 0,
};

/** One mutual-TLS channel: the client over it, and what its latest handshake proved. */
export interface SecureChannel {
  readonly ns: NetworkServiceGrpcClient;
  readonly tls: SpiffeChannel;
}

/** Options of a channel with `tls` credentials: the shared ones plus what the TLS credentials need. */
export function secureChannelOptions(tls: SpiffeChannel): grpc.ChannelOptions {
  return { ...channelOptions, ...tls.options };
}

/**
 * How stale a channel's handshake is: 'renew' once our SVID rotated since or the server's certificate
 * has less than a third of its life left; 'expired' once either certificate of it has expired (tokens
 * for it could only be expired too).
 */
export function handshakeStale(peer: TransportPeer | undefined, source: X509Source, now = Date.now()): 'fresh' | 'renew' | 'expired' {
  if (!peer) return 'fresh';
  const to = Date.parse(peer.certificate.validTo);
  if (to <= now || (peer.localCertificate && Date.parse(peer.localCertificate.validTo) <= now)) return 'expired';
  const own = source.current()?.svid;
  if (own && peer.localCertificate && own.chain[0].fingerprint256 !== peer.localCertificate.fingerprint256) return 'renew';
  const from = Date.parse(peer.certificate.validFrom);
  return to - now < (to - from) / 3 ? 'renew' : 'fresh';
}

/** Least time between two renewals of one connection's channel. */
export const RENEW_RETRY_MS = 1000;
/**
 * How long a replaced channel stays open: calls already issued on it may still be waiting for their
 * per-call credentials (the token), and grpc-js fails those at once when their channel closes.
 */
export const REPLACED_CHANNEL_GRACE_MS = 10_000;

export class NsmConnection {
  private current: SecureChannel;
  /** A fresh channel connecting in the background, to replace `current` once ready. */
  private next: SecureChannel | undefined;
  /**
   * When the last renewal started: a server that has not rotated yet (or rotates just after our new
   * handshake) is dialled again at most once per RENEW_RETRY_MS, not on every call.
   */
  private renewedAt = 0;
  private closed = false;
  /** Replaced channels within their grace period. */
  private readonly retired = new Set<SecureChannel>();

  constructor(
    readonly url: string,
    private readonly source: X509Source,
  ) {
    this.current = this.open();
  }

  private open(): SecureChannel {
    const tls = spiffeChannelCredentials(this.source);
    return { tls, ns: new NetworkServiceGrpcClient(dialTarget(this.url), tls.credentials, secureChannelOptions(tls)) };
  }

  /** The channel to use now; starts a renewal when its handshake is stale (see the header). */
  channel(): SecureChannel {
    if (this.closed) return this.current;
    const peer = this.current.tls.peer();
    const stale = handshakeStale(peer, this.source);
    if (stale === 'expired') {
      this.replace(this.next ?? this.open());
    } else if (stale === 'renew' && !this.next) {
      if (Date.now() - this.renewedAt >= RENEW_RETRY_MS) {
        this.renewedAt = Date.now();
        const next = this.open();
        this.next = next;
        next.ns.waitForReady(Date.now() + 30_000, (err) => {
          if (this.next !== next) return;
          this.next = undefined;
          if (err || this.closed) next.ns.close();
          else this.replace(next);
        });
      }
    }
    return this.current;
  }

  private replace(next: SecureChannel): void {
    if (this.next === next) this.next = undefined;
    const old = this.current;
    this.current = next;
    // Calls in progress (a Monitor stream too) finish on the old channel; new ones use the new one.
    this.retired.add(old);
    const t = setTimeout(() => {
      this.retired.delete(old);
      old.ns.close();
    }, REPLACED_CHANNEL_GRACE_MS);
    t.unref?.();
  }

  /** The NetworkService client of the current channel. */
  get ns(): NetworkServiceGrpcClient {
    return this.channel().ns;
  }

  /** The server identity of the current channel's latest handshake. */
  peer(): TransportPeer | undefined {
    return this.current.tls.peer();
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
    const s = this.current.ns.getChannel().getConnectivityState(false);
    return s === grpc.connectivityState.SHUTDOWN || s === grpc.connectivityState.TRANSIENT_FAILURE;
  }

  close(): void {
    this.closed = true;
    this.current.ns.close();
    this.next?.ns.close();
    this.next = undefined;
    for (const r of this.retired) r.ns.close();
    this.retired.clear();
  }
}

/**
 * Per-call credentials that put this hop's token into the call metadata when the call is placed on a
 * connection: the token's audience is the server of that connection and its key the one that
 * connection presented.
 */
export function tokenCredentials(tokens: TokenGenerator, peer: () => TransportPeer | undefined): grpc.CallCredentials {
  return grpc.credentials.createFromMetadataGenerator((_opts, cb) => {
    try {
      const t = tokens(peer());
      const md = new grpc.Metadata();
      md.set(TokenMetadataKey, t.token);
      md.set(TokenExpiresMetadataKey, formatExpires(t.expires));
      cb(null, md);
    } catch (err) {
      cb(err as Error);
    }
  });
}

/** Call options: the ctx deadline and, with a token generator, the token credentials of `ch`. */
function callOptionsWith(ctx: Context, ch: SecureChannel, tokens: TokenGenerator | undefined): grpc.CallOptions {
  const o = callOptions(ctx);
  return tokens ? { ...o, credentials: tokenCredentials(tokens, () => ch.tls.peer()) } : o;
}

function callOptions(ctx: Context): grpc.CallOptions {
  return ctx.deadline !== undefined ? { deadline: ctx.deadline } : {};
}

/**
 * One unary call on the current channel of `c`. When the context holds a call peer slot (the client
 * side of authorization), the server's TLS identity is reported there once the call is answered.
 */
function unaryCall<Req, Res>(
  ctx: Context,
  c: NsmConnection,
  tokens: TokenGenerator | undefined,
  start: (ns: NetworkServiceGrpcClient, req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    if (ctx.done) return reject(cancelled('context cancelled before the call'));
    const ch = c.channel();
    const onAbort = () => call.cancel();
    let call: grpc.ClientUnaryCall;
    try {
      call = start(ch.ns, req, new grpc.Metadata(), callOptionsWith(ctx, ch, tokens), (err, res) => {
        ctx.signal.removeEventListener('abort', onAbort);
        const slot = ctx.get(callPeerSlotKey);
        if (slot) Object.assign(slot, { called: true, peer: peerFromAuthContext(call.getAuthContext()) });
        const refused = refusal(res);
        if (err) reject(StatusError.from(err));
        else if (refused) reject(StatusError.wrap(refused, 'the reply of the next hop is refused'));
        else resolve(res);
      });
    } catch (err) {
      // grpc-js throws at once on a closed channel.
      return reject(unavailable((err as Error).message, err));
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function rpcRequest(ctx: Context, c: NsmConnection, req: NetworkServiceRequest, tokens?: TokenGenerator): Promise<Connection> {
  return unaryCall<NetworkServiceRequest, Connection>(ctx, c, tokens, (ns, r, md, o, cb) => ns.request(r, md, o, cb as never), req);
}

export async function rpcClose(ctx: Context, c: NsmConnection, conn: Connection, tokens?: TokenGenerator): Promise<void> {
  await unaryCall<Connection, object>(ctx, c, tokens, (ns, r, md, o, cb) => ns.closeConnection(r, md, o, cb as never), conn);
}

/** The event without the connections that fail the input checks (each is logged and left out). */
function withoutMalformed(ev: ConnectionEvent, url: string): ConnectionEvent {
  const connections: ConnectionEvent['connections'] = {};
  for (const [k, conn] of Object.entries(ev.connections ?? {})) {
    try {
      checkConnection('connection', conn);
      connections[k] = conn;
    } catch (err) {
      log.warn({ url, err: (err as Error).message }, 'monitor event with a malformed connection left out');
    }
  }
  return { ...ev, connections };
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
    const ch = c.channel();
    const stream = ch.ns.monitorConnections(selector, new grpc.Metadata(), tokens ? { credentials: tokenCredentials(tokens, () => ch.tls.peer()) } : {});
    const onAbort = () => stream.cancel();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (ev: ConnectionEvent) => {
      const refused = refusal(ev);
      if (refused) {
        // A peer that sends garbage is broken: end the stream as if it had failed.
        ctx.signal.removeEventListener('abort', onAbort);
        stream.cancel();
        return reject(StatusError.wrap(refused, 'a monitor event of the next hop is refused'));
      }
      onEvent(withoutMalformed(ev, c.url));
    });
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
