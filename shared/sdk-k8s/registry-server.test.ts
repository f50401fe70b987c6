// The registry suite with the Kubernetes store against the fake API server (the memory store runs it
// in shared/sdk/chains/registry-server.test.ts).
import './node-compat';
// socks-proxy-agent (loaded by @kubernetes/client-node) ships ES modules only and the shared jest
// config does not transform it; no test here goes through a SOCKS proxy.
jest.mock('socks-proxy-agent', () => ({ SocksProxyAgent: class {} }));
import { FakeApiServer } from './testing/fake-apiserver';
import { k8sNetworkServiceEndpointStore, k8sNetworkServiceStore } from './store';
import { describeRegistry } from '@nsm/sdk/testing/registry.suite';

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
