// Builds the pair of registry stores the command serves: in memory, or Kubernetes custom resources.
import '@nsm/sdk-k8s/node-compat';
import { KubeConfig } from '@kubernetes/client-node';
import { k8sNetworkServiceEndpointStore, k8sNetworkServiceStore } from '@nsm/sdk-k8s/store';
import { memoryNetworkServiceEndpointStore, memoryNetworkServiceStore } from '@nsm/sdk/registry/store/memory';
import type { NetworkServiceEndpointStore, NetworkServiceStore } from '@nsm/sdk/registry/store/backend';
import type { StoreChoice } from './config';

export interface Stores {
  ns: NetworkServiceStore;
  nse: NetworkServiceEndpointStore;
  description: string;
}

export function makeStores(choice: StoreChoice, namespace: string, kubeconfig: string): Stores {
  if (choice === 'memory') return { ns: memoryNetworkServiceStore(), nse: memoryNetworkServiceEndpointStore(), description: 'memory' };
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  const server = kc.getCurrentCluster()?.server ?? '?';
  return {
    ns: k8sNetworkServiceStore(kc, { namespace }),
    nse: k8sNetworkServiceEndpointStore(kc, { namespace }),
    description: `k8s ${server} namespace ${namespace}`,
  };
}
