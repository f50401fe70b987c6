// cmd-nsmgr-proxy settings, NSM_ prefix like the reference command. The address map is upstream's
// map-ip file (internal IP → external IP, YAML), which cmd-map-ip-k8s writes in a cluster.
import type { Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const schema = {
  name: common.name('nsmgr-proxy', 'name of this nsmgr-proxy in connection paths'),
  listenOn: {
    kind: 'urls',
    env: 'NSM_LISTEN_ON',
    default: 'tcp://:5004',
    description: 'comma-separated listen URLs: the NetworkService API for this domain and others, and both registries for this domain\'s registry',
  },
  publicUrl: {
    kind: 'string',
    env: 'NSM_PUBLIC_URL',
    default: '',
    defaultText: '"" (the first tcp:// listen URL; tcp://:port gets the first non-loopback IPv4)',
    description: 'the URL endpoints found through this proxy are given (this domain\'s forwarders dial it); its IP is then mapped to the external one for other domains',
  },
  registryUrl: { kind: 'url', env: 'NSM_REGISTRY_URL', default: 'tcp://registry:5002', description: "this domain's registry: where a Request from another domain finds its endpoint by name" },
  proxyRegistryUrl: {
    kind: 'url',
    env: 'NSM_PROXY_REGISTRY_URL',
    default: 'tcp://localhost:5005',
    description: 'the registry proxy (cmd-registry-proxy-dns) that interdomain registry calls go on to',
  },
  mapIpFilePath: {
    kind: 'string',
    env: 'NSM_MAP_IP_FILE_PATH',
    default: '',
    defaultText: '"" (no map: addresses cross unchanged; upstream\'s default is map-ip.yaml)',
    description: "YAML map of this domain's internal IPs to their external ones (`10.0.0.2: 192.0.2.2`), re-read when it changes",
  },
  maxTokenLifetime: common.maxTokenLifetime('10m'),
  dialTimeout: common.dialTimeout('5s'),
  spiffeEndpointSocket: common.spiffeEndpointSocket(),
  identityTimeout: common.identityTimeout(),
  logLevel: common.logLevel(),
} satisfies Schema;
