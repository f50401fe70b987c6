// The Workload API client: follows FetchX509SVID on the socket SPIRE's agent (or the embedded
// provider) serves at SPIFFE_ENDPOINT_SOCKET, keeps the latest SVID and bundles, and tells its
// subscribers on every rotation. A broken stream is reopened with exponential backoff; the last
// good SVID stays in use meanwhile, since it is valid until its NotAfter.
import * as grpc from '@grpc/grpc-js';
import { SpiffeWorkloadAPIClient, SpiffeWorkloadAPIService, WorkloadApiHeader, X509SVIDResponse } from '@nsm/api/spiffe';
import { log } from '../log';
import { contextFromResponse } from './svid';
import { X509SourceBase } from './source';

export const SPIFFE_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET';

export interface WorkloadApiClientOptions {
  /** unix:///path, unix:path, a plain absolute path, or tcp://host:port; default $SPIFFE_ENDPOINT_SOCKET. */
  address?: string;
  /** Backoff between attempts to reopen the stream: first and largest delay (ms); default 100 / 5000. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

/** The gRPC target for a Workload API address; throws naming what is wrong. */
export function workloadApiTarget(address: string | undefined): string {
  if (!address) throw new Error(`no Workload API address: set ${SPIFFE_ENDPOINT_SOCKET} (e.g. unix:///run/spire/sockets/agent.sock)`);
  if (address.startsWith('unix://')) {
    const path = address.slice('unix://'.length);
    if (!path.startsWith('/')) throw new Error(`Workload API address "${address}": a unix URL needs an absolute path (unix:///path)`);
    return `unix://${path}`;
  }
  if (address.startsWith('unix:')) {
    const path = address.slice('unix:'.length);
    if (!path.startsWith('/')) throw new Error(`Workload API address "${address}": a unix address needs an absolute path`);
    return `unix://${path}`;
  }
  if (address.startsWith('/')) return `unix://${address}`;
  const m = /^tcp:\/\/((?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(address);
  if (m) return `${m[1]}:${m[2]}`;
  throw new Error(`Workload API address "${address}" is neither unix:///path, a path, nor tcp://ip:port`);
}

const Client = grpc.makeGenericClientConstructor(SpiffeWorkloadAPIService, 'SpiffeWorkloadAPI') as unknown as new (
  target: string,
  creds: grpc.ChannelCredentials,
  opts?: grpc.ChannelOptions,
) => SpiffeWorkloadAPIClient;

export class WorkloadApiClient extends X509SourceBase {
  private readonly client: SpiffeWorkloadAPIClient;
  private stream: grpc.ClientReadableStream<X509SVIDResponse> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private backoff: number;
  private readonly initialMs: number;
  private readonly maxMs: number;
  /** Number of responses taken so far (tests, status). */
  updates = 0;

  constructor(opts: WorkloadApiClientOptions = {}) {
    const address = opts.address ?? process.env[SPIFFE_ENDPOINT_SOCKET];
    const target = workloadApiTarget(address);
    super(`Workload API at ${address}`);
    this.initialMs = opts.backoffInitialMs ?? 100;
    this.maxMs = opts.backoffMaxMs ?? 5000;
    this.backoff = this.initialMs;
    // The Workload API socket is plaintext by design: the agent attests the caller by the socket.
    this.client = new Client(target, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': this.initialMs,
      'grpc.max_reconnect_backoff_ms': this.maxMs,
    });
    this.open();
  }

  private open(): void {
    if (this.closed) return;
    const md = new grpc.Metadata();
    md.set(WorkloadApiHeader, 'true');
    const stream = this.client.fetchX509Svid({}, md);
    this.stream = stream;
    stream.on('data', (resp: X509SVIDResponse) => {
      try {
        const ctx = contextFromResponse(resp);
        this.backoff = this.initialMs;
        this.updates++;
        this.update(ctx);
        log.debug({ id: ctx.svid.id, notAfter: new Date(ctx.svid.notAfter).toISOString() }, 'X.509-SVID update');
      } catch (err) {
        // Keep what we have: a bad update must not take a valid identity away.
        this.lastError = `unusable response: ${(err as Error).message}`;
        log.warn({ err: String(err) }, 'ignoring an unusable Workload API response');
      }
    });
    const restart = (why: string) => {
      if (this.stream !== stream || this.closed) return;
      this.stream = undefined;
      this.lastError = why;
      const delay = this.backoff;
      this.backoff = Math.min(this.backoff * 2, this.maxMs);
      log.debug({ why, delay }, 'Workload API stream broke; reopening');
      this.retry = setTimeout(() => this.open(), delay);
      this.retry.unref?.();
    };
    stream.on('error', (err: grpc.ServiceError) => restart(`${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`));
    stream.on('end', () => restart('stream ended by the server'));
  }

  override close(): void {
    if (this.closed) return;
    super.close();
    if (this.retry) clearTimeout(this.retry);
    this.stream?.cancel();
    this.stream = undefined;
    this.client.close();
  }
}
