// The registry side of the SDK: elements, chains, gRPC boundary and stores. See chains.ts for the
// standard compositions (registryServer, nsmgrRegistry, registrationClient).
export { registryServer, nsmgrRegistry, registrationClient } from './chains';
export type { RegistryServer, RegistryServerOptions, NsmgrRegistry, NsmgrRegistryOptions, RegistrationClient, RegistrationClientOptions } from './chains';
export { registryServices, nsRegistryClient, nseRegistryClient } from './grpc';
export type { RegistryClient, RegistryServiceStats } from './grpc';
export { nsKind, nseKind, isSubset } from './kinds';
export type { RecordKind } from './kinds';
export { validate } from './validate';
export { serialize, nameExecutor, executorKey } from './serialize';
export type { NameExecutor } from './serialize';
export { setPayload } from './setpayload';
export { setRegistrationTime } from './setregistrationtime';
export { expire } from './expire';
export type { ExpireElement, ExpireOptions } from './expire';
export { storeElement } from './store-element';
export type { StoreElement } from './store-element';
export { clientInfo } from './clientinfo';
export { localBypass } from './localbypass';
export { connectTo } from './connect';
export { refresh } from './refresh';
export type { RefreshElement } from './refresh';
export { heal } from './heal';
export type { HealElement } from './heal';
export { unregisterOnClose } from './unregisteronclose';
export { MemoryRegistryStore, memoryNetworkServiceStore, memoryNetworkServiceEndpointStore } from './memory-store';
export type { RegistryStore, NetworkServiceStore, NetworkServiceEndpointStore, StoreEvent } from './store';
