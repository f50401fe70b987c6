// The Kubernetes custom-resource registry store (cmd-registry-k8s). The fake API server and the
// real-cluster fixture are test support, in testing/.
export { K8sRegistryStore, k8sNetworkServiceStore, k8sNetworkServiceEndpointStore } from './store';
export type { K8sStoreOptions, K8sClients } from './store';
export { GROUP, VERSION, networkServiceCodec, networkServiceEndpointCodec } from './codec';
export type { CrdCodec } from './codec';
