// cmd-nsmgr settings (components.md §1), NSM_ prefix. NODE_NAME, POD_NAME and CLUSTER_NAME are read
// from the environment as labels, as upstream does.
import type { Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const schema = {
  name: common.name('nmgr', 'name of this nsmgr in connection paths (upstream default "nmgr")'),
  listenOn: {
    kind: 'urls',
    env: 'NSM_LISTEN_ON',
    default: 'unix:///var/lib/networkservicemesh/nsm.io.sock',
    description: 'comma-separated listen URLs; the first tcp:// one is the public URL other nodes use (tcp://:port gets the first non-loopback IPv4)',
  },
  registryUrl: { kind: 'url', env: 'NSM_REGISTRY_URL', default: 'tcp://localhost:5001', description: 'central registry; empty keeps NetworkServices and endpoints in this nsmgr only' },
  maxTokenLifetime: common.maxTokenLifetime('10m'),
  dialTimeout: common.dialTimeout('100ms'),
  forwarderNetworkServiceName: { kind: 'string', env: 'NSM_FORWARDER_NETWORK_SERVICE_NAME', default: 'forwarder', description: 'network service under which forwarders register' },
  expirePeriod: { kind: 'duration', env: 'NSM_EXPIRE_PERIOD', default: '1m', description: 'how long an endpoint registration lives without a refresh' },
  excludedPrefixesFile: {
    kind: 'string',
    env: 'NSM_EXCLUDED_PREFIXES_FILE',
    default: '/var/lib/networkservicemesh/config/excluded_prefixes.yaml',
    description: 'YAML file `prefixes: [CIDR, ...]` (the exclude-prefixes sidecar writes it) whose prefixes every Request carries as excluded, so that endpoints allocate no address inside them; watched, a change applies without restart (upstream: this path, fixed)',
  },
  namedNetnsSender: {
    kind: 'string',
    env: 'NSM_NAMED_NETNS_SENDER',
    default: '',
    description:
      "inode://<dev>/<ino> of a network namespace whose processes may name any named namespace (file:///var/run/netns/<name>) but the node's: the local runtime sets its own, for its tests and tools; empty (a cluster): a Request may only name its sender's own namespace",
  },
  spiffeEndpointSocket: common.spiffeEndpointSocket(),
  identityTimeout: common.identityTimeout(),
  logLevel: common.logLevel(),
} satisfies Schema;
