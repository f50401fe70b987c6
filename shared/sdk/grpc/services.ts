// grpc-js service implementations over the chains.
import * as grpc from '@grpc/grpc-js';
import {
  Connection,
  ConnectionEvent,
  MonitorConnectionService,
  MonitorScopeSelector,
  NetworkServiceRequest,
  NetworkServiceService,
} from '@nsm/api';
import type { NetworkServiceHandler } from '../core/networkservice';
import type { MonitorServer } from '../elements/monitor/server';
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

export function monitorRegistration(m: MonitorServer): ServiceRegistration {
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
