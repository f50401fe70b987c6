// cmd-registry-k8s: the cluster-wide NetworkService and NetworkServiceEndpoint registry, with records
// kept as Kubernetes custom resources (or in memory for local runs and tests).
import { runCommand } from '@nsm/sdk/cmd/run';
import { startServer } from '@nsm/sdk/grpc/server';
import { log } from '@nsm/sdk/log';
import { registryServer } from '@nsm/sdk/chains/registry';
import { chooseStore, schema } from './config';
import { makeStores } from './stores';

void runCommand({
  name: 'cmd-registry-k8s',
  description: 'NSM registry (NetworkService and NetworkServiceEndpoint) backed by Kubernetes custom resources',
  schema,
  identity: true,
  helpFooter: [
    'Stores: REGISTRY_K8S_STORE=k8s keeps records as NetworkService / NetworkServiceEndpoint custom resources',
    '(networkservicemesh.io/v1) in REGISTRY_K8S_NAMESPACE, using $KUBECONFIG or the in-cluster service account;',
    'memory keeps them in this process only (a floating registry, which belongs to no cluster, runs so).',
    'Interdomain names (name@domain) are kept and also passed to REGISTRY_K8S_PROXY_REGISTRY_URL (the nsmgr-proxy).',
  ].join('\n'),
  async start(cfg, _ctx, id) {
    const choice = chooseStore(cfg.store, process.env, cfg.kubeconfig);
    const stores = makeStores(choice, cfg.namespace, cfg.kubeconfig);
    const proxy = cfg.proxyRegistryUrl ? { url: cfg.proxyRegistryUrl, source: id.source } : undefined;
    const reg = registryServer({ stores: { ns: stores.ns, nse: stores.nse }, expiryMs: cfg.expirePeriod, proxy });
    const adopted = await reg.adoptExisting();
    const server = await startServer(cfg.listenOn, reg.services(), { source: id.source });
    log.info({ urls: server.urls, store: stores.description, adopted, proxyRegistry: cfg.proxyRegistryUrl || '(none: interdomain names stay here)' }, 'registry serving');
    return async () => {
      await reg.close();
      await server.stop(2000);
    };
  },
});
