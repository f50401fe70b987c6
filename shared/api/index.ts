// The NSM API: generated message types and gRPC service definitions, plus the well-known constants
// (mechanism classes and types, parameter keys, payloads) that the spec fixes as strings.
export {
  Connection,
  ConnectionEvent,
  ConnectionEventType,
  Mechanism,
  MonitorConnectionClient,
  MonitorConnectionService,
  MonitorScopeSelector,
  Path,
  PathSegment,
  State,
} from './gen/connection';
export type { MonitorConnectionServer } from './gen/connection';
export {
  ConnectionContext,
  DNSConfig,
  DNSContext,
  EthernetContext,
  ExtraPrefixRequest,
  IPContext,
  IpFamily,
  IpFamily_Family,
  IpNeighbor,
  PolicyRoute,
  Route,
} from './gen/connectioncontext';
export { NetworkServiceRequest, NetworkServiceService, NetworkServiceClient } from './gen/networkservice';
export type { NetworkServiceServer } from './gen/networkservice';
export {
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceQuery,
  NetworkServiceEndpointQuery,
  NetworkServiceResponse,
  NetworkServiceEndpointResponse,
  NetworkServiceLabels,
  Match,
  Destination,
  Metadata as MatchMetadata,
  NetworkServiceRegistryService,
  NetworkServiceEndpointRegistryService,
  NetworkServiceRegistryClient,
  NetworkServiceEndpointRegistryClient,
} from './gen/registry';
export type { Timestamp } from './gen/google/protobuf/timestamp';
export * from './constants';
