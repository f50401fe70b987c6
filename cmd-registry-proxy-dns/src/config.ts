// cmd-registry-proxy-dns settings, NSM_ prefix. The DNS servers are a setting of ours (upstream asks
// the pod's resolver): the local runtime points the proxy at its own DNS server.
import type { Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';
import { NSMGR_PROXY_SERVICE, REGISTRY_SERVICE } from '@nsm/sdk/registry/dnsresolve/resolver';

export const schema = {
  listenOn: { kind: 'urls', env: 'NSM_LISTEN_ON', default: 'tcp://:5005', description: 'comma-separated URLs to serve both registries on' },
  dnsServers: {
    kind: 'list',
    env: 'NSM_DNS_SERVERS',
    default: '',
    defaultText: '"" (the system resolver, /etc/resolv.conf)',
    description: 'DNS servers to resolve other domains with: ip or ip:port ([v6]:port), comma-separated',
  },
  dnsTimeout: { kind: 'duration', env: 'NSM_DNS_TIMEOUT', default: '2s', description: 'timeout of one DNS query' },
  registryService: {
    kind: 'string',
    env: 'NSM_REGISTRY_SERVICE',
    default: REGISTRY_SERVICE,
    description: 'service name of a domain\'s registry: SRV _<name>._tcp.<domain> for the port, A/AAAA <name>.<domain> for the address',
  },
  nsmgrProxyService: {
    kind: 'string',
    env: 'NSM_NSMGR_PROXY_SERVICE',
    default: NSMGR_PROXY_SERVICE,
    description: "service name of a domain's nsmgr-proxy, looked up the same way (a floating domain has none)",
  },
  spiffeEndpointSocket: common.spiffeEndpointSocket(),
  identityTimeout: common.identityTimeout(),
  logLevel: common.logLevel(),
} satisfies Schema;
