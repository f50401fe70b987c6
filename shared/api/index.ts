// The NSM API: generated message types and gRPC service definitions, plus the well-known constants
// (mechanism classes and types, parameter keys, payloads) that the spec fixes as strings.
export * from './gen/connection';
export * from './gen/connectioncontext';
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
