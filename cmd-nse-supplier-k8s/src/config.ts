// cmd-nse-supplier-k8s settings (components.md §8), NSM_ prefix: upstream's, with its defaults, and
// three of ours for what upstream leaves open (where to listen, how long a pod may take to register,
// how long a failed start is remembered).
import type { Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const schema = {
  name: common.name('nse-supplier-k8s', 'registered endpoint name (in a cluster: the pod name)'),
  connectTo: common.connectTo(),
  listenOn: { kind: 'url', env: 'NSM_LISTEN_ON', default: '', description: 'where to serve; empty means a unix socket in a new temporary directory (upstream behaviour)' },
  maxTokenLifetime: common.maxTokenLifetime('10m'),
  spiffeEndpointSocket: common.spiffeEndpointSocket(),
  identityTimeout: common.identityTimeout(),
  serviceName: { kind: 'string', env: 'NSM_SERVICE_NAME', default: 'nse-supplier-k8s', description: 'network service this supplier registers for and supplies endpoints of' },
  payload: {
    kind: 'enum',
    values: ['ETHERNET', 'IP'] as const,
    env: 'NSM_PAYLOAD',
    default: 'ETHERNET',
    description: 'payload of the service (as upstream: read, not used; the NetworkService with its matches is applied separately)',
  },
  labels: { kind: 'map', env: 'NSM_LABELS', default: '', description: 'labels of this endpoint\'s registration (key:value,...), which the NetworkService\'s last match selects, e.g. app:icmp-responder-supplier' },
  podDescriptionFile: { kind: 'string', env: 'NSM_POD_DESCRIPTION_FILE', default: 'pod.yaml', description: 'pod manifest (YAML or JSON) from which endpoints are created, one per client node' },
  namespace: { kind: 'string', env: 'NSM_NAMESPACE', default: 'default', description: 'Kubernetes namespace in which endpoint pods are created, watched and deleted' },
  podStartTimeout: {
    kind: 'duration',
    env: 'NSM_POD_START_TIMEOUT',
    default: '1m',
    description: 'how long a created pod may take until its endpoint registers; after that it counts as failed and is deleted',
  },
  failureBackoff: {
    kind: 'duration',
    env: 'NSM_FAILURE_BACKOFF',
    default: '10s',
    description: 'after an endpoint pod failed to start on a node, requests for that node get the same error at once for this long; then a new pod is tried',
  },
  logLevel: common.logLevel(),
} satisfies Schema;
