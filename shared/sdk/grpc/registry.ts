// The gRPC boundary of both registries. Servers map the wire's Query{record, watch} and
// Response{record, deleted} onto the generic FindQuery/FindResult of the chains; clients do the
// reverse and are themselves RegistryHandlers (cancellation through ctx.signal, deadline from ctx).
import * as grpc from '@grpc/grpc-js';
import {
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceEndpointQuery,
  NetworkServiceEndpointRegistryClient,
  NetworkServiceEndpointRegistryService,
  NetworkServiceEndpointResponse,
  NetworkServiceQuery,
  NetworkServiceRegistryClient,
  NetworkServiceRegistryService,
  NetworkServiceResponse,
} from '@nsm/api';
import type { Context } from '../core/context';
import { cancelled, Code, StatusError, unavailable } from '../core/errors';
import type { FindQuery, FindResult, FindSink, RegistryHandler } from '../core/registry';
import { contextOf, toServiceError, unary } from './boundary';
import { channelOptions } from './clients';
import type { ServiceRegistration } from './server';
import { dialTarget } from './urls';
import { nsKind, nseKind, RecordKind } from '../core/recordkinds';

interface Wire<T extends { name: string }, Q, R> {
  service: string;
  kind: RecordKind<T>;
  definition: grpc.ServiceDefinition;
  toQuery(q: FindQuery<T>): Q;
  fromQuery(q: Q): FindQuery<T>;
  toResponse(r: FindResult<T>): R;
  fromResponse(r: R): FindResult<T>;
}

const nsWire: Wire<NetworkService, NetworkServiceQuery, NetworkServiceResponse> = {
  service: 'registry.NetworkServiceRegistry',
  kind: nsKind,
  definition: NetworkServiceRegistryService as unknown as grpc.ServiceDefinition,
  toQuery: (q) => ({ networkService: q.item, watch: q.watch }),
  fromQuery: (q) => ({ item: q.networkService ?? nsKind.empty(), watch: q.watch }),
  toResponse: (r) => ({ networkService: r.item, deleted: r.deleted }),
  fromResponse: (r) => ({ item: r.networkService ?? nsKind.empty(), deleted: r.deleted }),
};

const nseWire: Wire<NetworkServiceEndpoint, NetworkServiceEndpointQuery, NetworkServiceEndpointResponse> = {
  service: 'registry.NetworkServiceEndpointRegistry',
  kind: nseKind,
  definition: NetworkServiceEndpointRegistryService as unknown as grpc.ServiceDefinition,
  toQuery: (q) => ({ networkServiceEndpoint: q.item, watch: q.watch }),
  fromQuery: (q) => ({ item: q.networkServiceEndpoint ?? nseKind.empty(), watch: q.watch }),
  toResponse: (r) => ({ networkServiceEndpoint: r.item, deleted: r.deleted }),
  fromResponse: (r) => ({ item: r.networkServiceEndpoint ?? nseKind.empty(), deleted: r.deleted }),
};

/** Counts Find calls in progress per service, for leak checks. */
export interface RegistryServiceStats {
  activeFinds: number;
}

/**
 * Writes to a server stream, waiting for the transport when it is full. Unlike waiting for 'drain'
 * alone, a write also settles when the call is cancelled meanwhile, so a Find whose client went away
 * while its buffer was full ends instead of hanging.
 */
function writer<R>(call: grpc.ServerWritableStream<unknown, R>, signal: AbortSignal): (msg: R) => Promise<void> {
  const gone = () => cancelled('stream closed');
  return (msg) =>
    new Promise<void>((resolve, reject) => {
      if (call.cancelled || call.destroyed || signal.aborted) return reject(gone());
      if (call.write(msg)) return resolve();
      const done = (err?: StatusError) => {
        call.off('drain', onDrain);
        call.off('close', onClose);
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(gone());
      const onAbort = () => done(gone());
      call.on('drain', onDrain);
      call.on('close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
    });
}

function serviceOf<T extends { name: string }, Q, R>(w: Wire<T, Q, R>, h: RegistryHandler<T>, stats: RegistryServiceStats): ServiceRegistration {
  const short = w.service.split('.')[1];
  return {
    name: w.service,
    definition: w.definition,
    implementation: {
      register: unary<T, T>(`${short}/Register`, (ctx, item) => h.register(ctx, item)),
      unregister: unary<T, object>(`${short}/Unregister`, async (ctx, item) => {
        await h.unregister(ctx, item);
        return {};
      }),
      find: (call: grpc.ServerWritableStream<Q, R>) => {
        const ctx = contextOf(call);
        const write = writer(call, ctx.signal);
        stats.activeFinds++;
        Promise.resolve()
          .then(() => h.find(ctx, w.fromQuery(call.request), (r) => write(w.toResponse(r))))
          .then(
            () => {
              if (!call.cancelled) call.end();
            },
            (err) => {
              if (call.cancelled) return;
              // emit('error') sends the status; destroy() would drop it and leave the client waiting.
              call.emit('error', Object.assign(new Error(String(err)), toServiceError(err, `${short}/Find`)));
            },
          )
          .finally(() => stats.activeFinds--);
      },
    },
  };
}

/** Both registry services over the given handlers, ready for startServer. */
export function registryServices(
  ns: RegistryHandler<NetworkService>,
  nse: RegistryHandler<NetworkServiceEndpoint>,
  stats: { ns: RegistryServiceStats; nse: RegistryServiceStats } = { ns: { activeFinds: 0 }, nse: { activeFinds: 0 } },
): ServiceRegistration[] {
  return [serviceOf(nsWire, ns, stats.ns), serviceOf(nseWire, nse, stats.nse)];
}

export interface RegistryClient<T> extends RegistryHandler<T> {
  readonly url: string;
  /** Closes the gRPC channel; calls in progress fail. */
  close(): void;
}

type GenericClient = grpc.Client & {
  register(req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void): grpc.ClientUnaryCall;
  unregister(req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void): grpc.ClientUnaryCall;
  find(req: unknown, md: grpc.Metadata, opts: grpc.CallOptions): grpc.ClientReadableStream<unknown>;
};

const callOptions = (ctx: Context): grpc.CallOptions => (ctx.deadline !== undefined ? { deadline: ctx.deadline } : {});
const statusOf = (err: grpc.ServiceError) => StatusError.from(err);

function unaryCall<Res>(ctx: Context, start: (md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => grpc.ClientUnaryCall): Promise<Res> {
  return new Promise((resolve, reject) => {
    if (ctx.done) return reject(cancelled('context cancelled before the call'));
    const onAbort = () => call.cancel();
    let call: grpc.ClientUnaryCall;
    try {
      call = start(new grpc.Metadata(), callOptions(ctx), (err, res) => {
        ctx.signal.removeEventListener('abort', onAbort);
        if (err) reject(statusOf(err));
        else resolve(res as Res);
      });
    } catch (err) {
      // grpc-js throws at once on a closed channel.
      return reject(unavailable((err as Error).message, err));
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function clientOf<T extends { name: string }, Q, R>(
  w: Wire<T, Q, R>,
  ctor: new (address: string, creds: grpc.ChannelCredentials, opts?: grpc.ClientOptions) => grpc.Client,
  url: string,
): RegistryClient<T> {
  const c = new ctor(dialTarget(url), grpc.credentials.createInsecure(), channelOptions) as GenericClient;
  return {
    url,
    close: () => c.close(),
    register: (ctx, item) => unaryCall<T>(ctx, (md, o, cb) => c.register(item, md, o, cb)),
    unregister: async (ctx, item) => {
      await unaryCall<object>(ctx, (md, o, cb) => c.unregister(item, md, o, cb));
    },
    find: (ctx, query, sink: FindSink<T>) =>
      new Promise<void>((resolve, reject) => {
        if (ctx.done) return resolve();
        let stream: grpc.ClientReadableStream<unknown>;
        try {
          stream = c.find(w.toQuery(query), new grpc.Metadata(), callOptions(ctx));
        } catch (err) {
          return reject(unavailable((err as Error).message, err));
        }
        let pending: Promise<void> = Promise.resolve();
        let settled = false;
        const onAbort = () => stream.cancel();
        const settle = (err?: unknown) => {
          if (settled) return;
          settled = true;
          ctx.signal.removeEventListener('abort', onAbort);
          // The caller's own deadline ending the call is how a bounded watch ends, even when gRPC's
          // deadline fires a moment before the context's timer does.
          const ownDeadline = ctx.deadline !== undefined && (err as StatusError | undefined)?.code === Code.DEADLINE_EXCEEDED;
          if (err === undefined || ctx.done || ownDeadline) resolve();
          else reject(err);
        };
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        stream.on('data', (msg: R) => {
          let p: void | Promise<void>;
          try {
            p = sink(w.fromResponse(msg));
          } catch (err) {
            stream.cancel();
            return settle(err);
          }
          if (p && typeof (p as Promise<void>).then === 'function') {
            stream.pause();
            pending = (p as Promise<void>).then(
              () => void stream.resume(),
              (err) => {
                stream.cancel();
                settle(err);
              },
            );
          }
        });
        stream.on('error', (err: grpc.ServiceError) => void pending.then(() => settle(statusOf(err))));
        // A watch only ends when the caller cancels it; a server that ends one has gone away.
        const ended = () => (query.watch ? unavailable(`watch on ${url} ended by the server`) : undefined);
        stream.on('end', () => void pending.then(() => settle(ended())));
      }),
  };
}

/** A NetworkService registry client over grpc-js (insecure credentials, like the other clients). */
export function nsRegistryClient(url: string): RegistryClient<NetworkService> {
  return clientOf(nsWire, NetworkServiceRegistryClient as never, url);
}

/** A NetworkServiceEndpoint registry client over grpc-js. */
export function nseRegistryClient(url: string): RegistryClient<NetworkServiceEndpoint> {
  return clientOf(nseWire, NetworkServiceEndpointRegistryClient as never, url);
}
