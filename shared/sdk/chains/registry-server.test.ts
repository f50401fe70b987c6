// The registry suite with the memory store (the Kubernetes store runs it in
// shared/sdk-k8s/registry-server.test.ts).
import { memoryNetworkServiceEndpointStore, memoryNetworkServiceStore } from '../registry/store/memory';
import { describeRegistry } from '../testing/registry.suite';

describeRegistry('memory store', async () => {
  const ns = memoryNetworkServiceStore();
  const nse = memoryNetworkServiceEndpointStore();
  return { ns, nse, backendWatches: () => ns.watcherCount + nse.watcherCount, cleanup: async () => undefined };
});
