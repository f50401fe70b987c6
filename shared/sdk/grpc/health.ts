// grpc.health.v1.Health: Check answers from a status map; Watch streams changes until the caller leaves.
import * as grpc from '@grpc/grpc-js';
import { HealthCheckRequest, HealthCheckResponse, HealthCheckResponse_ServingStatus as Status, HealthService } from '@nsm/api/gen/health';

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
