// A plain grpc-js Client for NetworkService and MonitorConnection. The generated client class is not
// used because the NetworkService RPC "Close" would shadow grpc-js Client.close().
import * as grpc from '@grpc/grpc-js';
import { Connection, ConnectionEvent, MonitorConnectionService, MonitorScopeSelector, NetworkServiceRequest, NetworkServiceService } from '@nsm/api';
import { guardDecode } from './guard';

const req = NetworkServiceService.request;
const cls = NetworkServiceService.close;
const mon = MonitorConnectionService.monitorConnections;
// A next hop's answers are counted before they are decoded, as a caller's requests are (guard.ts).
const connectionDecode = guardDecode('Connection', 'reply', req.responseDeserialize) as (b: Buffer) => Connection;
const eventDecode = guardDecode('ConnectionEvent', 'monitor event', mon.responseDeserialize) as (b: Buffer) => ConnectionEvent;

export class NetworkServiceGrpcClient extends grpc.Client {
  request(msg: NetworkServiceRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Connection) => void): grpc.ClientUnaryCall {
    return this.makeUnaryRequest(req.path, req.requestSerialize, connectionDecode, msg, md, opts, cb);
  }
  closeConnection(msg: Connection, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: object) => void): grpc.ClientUnaryCall {
    return this.makeUnaryRequest(cls.path, cls.requestSerialize, cls.responseDeserialize, msg, md, opts, cb);
  }
  monitorConnections(sel: MonitorScopeSelector, md: grpc.Metadata, opts: grpc.CallOptions = {}): grpc.ClientReadableStream<ConnectionEvent> {
    return this.makeServerStreamRequest(mon.path, mon.requestSerialize, eventDecode, sel, md, opts);
  }
}
