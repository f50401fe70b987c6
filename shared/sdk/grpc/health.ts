// grpc.health.v1.Health: Check answers from a status map; Watch streams changes until the caller
// leaves. Health is served on the component's own mutual-TLS server, so checkHealth (the local
// runtime's readiness probe and `<cmd> health-probe`) presents an SVID like any other client.
import * as grpc from '@grpc/grpc-js';
import { HealthCheckRequest, HealthCheckResponse, HealthCheckResponse_ServingStatus as Status, HealthClient, HealthService } from '@nsm/api/gen/health';
import type { X509Source } from '../spiffe/source';
import { spiffeChannelCredentials } from '../spiffe/tls';
import { dialTarget } from './urls';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

export class HealthImplementation {
  private readonly status = new Map<string, Status>();
  private readonly watchers = new Map<string, Set<(s: Status) => void>>();

  constructor(initial: Record<string, ServingStatus>) {
    for (const [k, v] of Object.entries(initial)) this.status.set(k, Status[v]);
  }

  setStatus(service: string, s: ServingStatus): void {
    this.status.set(service, Status[s]);
    for (const w of this.watchers.get(service) ?? []) w(Status[s]);
  }

  addToServer(server: grpc.Server): void {
    server.addService(HealthService, {
      check: (call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, cb: grpc.sendUnaryData<HealthCheckResponse>) => {
        const s = this.status.get(call.request.service);
        if (s === undefined) cb({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        else cb(null, { status: s });
      },
      watch: (call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const name = call.request.service;
        const send = (s: Status) => call.write({ status: s });
        send(this.status.get(name) ?? Status.SERVICE_UNKNOWN);
        const set = this.watchers.get(name) ?? new Set();
        set.add(send);
        this.watchers.set(name, set);
        call.on('cancelled', () => set.delete(send));
      },
    });
  }
}

/**
 * Asks the Health service at `url` for `service` ("" = the whole server) over mutual TLS with the
 * SVID of `source`; resolves with the status name, rejects with the reason (not reachable, TLS
 * refused, unknown service) after at most `timeoutMs`.
 */
export function checkHealth(url: string, source: X509Source, opts: { service?: string; timeoutMs?: number } = {}): Promise<string> {
  const ch = spiffeChannelCredentials(source);
  const client = new HealthClient(dialTarget(url), ch.credentials, { ...ch.options, 'grpc.use_local_subchannel_pool': 1 });
  const deadline = Date.now() + (opts.timeoutMs ?? 1000);
  return new Promise<string>((resolve, reject) => {
    client.check({ service: opts.service ?? '' }, new grpc.Metadata(), { deadline }, (err, res) => {
      client.close();
      if (err) reject(new Error(`health check of ${url}: ${grpc.status[err.code] ?? err.code}: ${err.details}`));
      else resolve(Status[res.status] ?? String(res.status));
    });
  });
}
