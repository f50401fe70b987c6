// grpc-js service implementations of the NetworkService API over a chain (and of the registry API in
// registry.ts). The edge knows the chain only as a handler and the monitor only by its serve method,
// so it imports nothing from elements/ or chains/.
import * as grpc from '@grpc/grpc-js';
import {
  Connection,
  ConnectionEvent,
  MonitorConnectionService,
  MonitorScopeSelector,
  NetworkServiceRequest,
  NetworkServiceService,
} from '@nsm/api';
import type { Context } from '../core/context';
import type { NetworkServiceHandler } from '../core/networkservice';
import { contextOf, streamWriter, toServiceError, unary } from './boundary';
import type { ServiceRegistration } from './server';

export function networkServiceRegistration(h: NetworkServiceHandler): ServiceRegistration {
  return {
    name: 'networkservice.NetworkService',
    definition: NetworkServiceService,
    implementation: {
      request: unary<NetworkServiceRequest, Connection>('NetworkService/Request', (ctx, req) => h.request(ctx, req)),
      close: unary<Connection, object>('NetworkService/Close', async (ctx, conn) => {
        await h.close(ctx, conn);
        return {};
      }),
    },
  };
}

/** What serves MonitorConnections (elements/monitor's MonitorServer): streams events until ctx ends. */
export interface ConnectionMonitor {
  serve(ctx: Context, selector: MonitorScopeSelector, send: (ev: ConnectionEvent) => Promise<void>): Promise<void>;
}

export function monitorRegistration(m: ConnectionMonitor): ServiceRegistration {
  return {
    name: 'connection.MonitorConnection',
    definition: MonitorConnectionService,
    implementation: {
      monitorConnections: (call: grpc.ServerWritableStream<MonitorScopeSelector, ConnectionEvent>) => {
        const ctx = contextOf(call);
        m.serve(ctx, call.request, streamWriter(call)).then(
          () => call.end(),
          (err) => call.emit('error', Object.assign(new Error(String(err)), toServiceError(err, 'MonitorConnections'))),
        );
      },
    },
  };
}
