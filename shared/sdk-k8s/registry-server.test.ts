import './k8s-node-compat';
// socks-proxy-agent (loaded by @kubernetes/client-node) ships ES modules only and the shared jest
// config does not transform it; no test here goes through a SOCKS proxy.
jest.mock('socks-proxy-agent', () => ({ SocksProxyAgent: class {} }));
import { FakeApiServer } from '../../sdk-k8s/fake-apiserver';
import { k8sNetworkServiceEndpointStore, k8sNetworkServiceStore } from '../../sdk-k8s/store';
import { memoryNetworkServiceEndpointStore, memoryNetworkServiceStore } from './memory-store';
import { describeRegistry } from './registry.suite';

describeRegistry('memory store', async () => {
  const ns = memoryNetworkServiceStore();
  const nse = memoryNetworkServiceEndpointStore();
  return { ns, nse, backendWatches: () => ns.watcherCount + nse.watcherCount, cleanup: async () => undefined };
});

describeRegistry('Kubernetes store on the fake API server', async () => {
  const srv = await FakeApiServer.start();
  const kc = srv.kubeConfig();
  const ns = k8sNetworkServiceStore(kc, { namespace: 'nsm-system', backoffMs: 20 });
  const nse = k8sNetworkServiceEndpointStore(kc, { namespace: 'nsm-system', backoffMs: 20 });
  return {
    ns,
    nse,
    backendWatches: () => srv.openWatches,
    cleanup: async () => {
      await ns.close();
      await nse.close();
      await srv.close();
    },
  };
});
