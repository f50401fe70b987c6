// cmd-registry-k8s settings (components.md §2): prefix REGISTRY_K8S_, like the reference command.
import type { Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const schema = {
  listenOn: { kind: 'urls', env: 'REGISTRY_K8S_LISTEN_ON', default: 'unix:///listen.on.socket', description: 'comma-separated URLs to serve both registries on (unix:///path, tcp://host:port, tcp://:port)' },
  namespace: { kind: 'string', env: 'REGISTRY_K8S_NAMESPACE', default: 'default', description: 'namespace in which the custom resources are created, updated and deleted' },
  expirePeriod: { kind: 'duration', env: 'REGISTRY_K8S_EXPIRE_PERIOD', default: '1m', description: 'longest lifetime of an NSE registration without a refresh' },
  proxyRegistryUrl: {
    kind: 'url',
    env: 'REGISTRY_K8S_PROXY_REGISTRY_URL',
    default: '',
    description: 'where interdomain names (name@domain) go on to after this registry kept them: the domain\'s nsmgr-proxy (manifest: nsmgr-proxy:5004); empty keeps them here only',
  },
  store: {
    kind: 'enum',
    values: ['auto', 'memory', 'k8s'] as const,
    env: 'REGISTRY_K8S_STORE',
    default: 'auto',
    description: 'where records live: memory, k8s, or auto (k8s when KUBECONFIG or KUBERNETES_SERVICE_HOST is set, else memory)',
  },
  kubeconfig: {
    kind: 'string',
    env: 'KUBECONFIG',
    default: '',
    defaultText: '"" (in-cluster config when KUBERNETES_SERVICE_HOST is set)',
    description: 'kubeconfig file for the k8s store',
  },
  spiffeEndpointSocket: common.spiffeEndpointSocket(),
  identityTimeout: common.identityTimeout(),
  logLevel: common.logLevel('REGISTRY_K8S_LOG_LEVEL'),
} satisfies Schema;

export type StoreChoice = 'memory' | 'k8s';

/** Resolves STORE=auto; throws on an unknown value. */
export function chooseStore(store: string, env: NodeJS.ProcessEnv, kubeconfig: string): StoreChoice {
  switch (store.trim().toLowerCase()) {
    case 'memory':
      return 'memory';
    case 'k8s':
      return 'k8s';
    case 'auto':
      return kubeconfig || env.KUBERNETES_SERVICE_HOST ? 'k8s' : 'memory';
    default:
      throw new Error(`REGISTRY_K8S_STORE: unknown store "${store}" (memory, k8s or auto)`);
  }
}
