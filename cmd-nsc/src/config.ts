// cmd-nsc settings (components.md §5), NSM_ prefix.
import type { Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const schema = {
  name: common.name('nsc', 'name of this client: its path segment name and the prefix of its connection ids'),
  connectTo: common.connectTo(),
  dialTimeout: common.dialTimeout('5s'),
  requestTimeout: { kind: 'duration', env: 'NSM_REQUEST_TIMEOUT', default: '15s', description: 'time limit of one Request attempt; failed attempts are retried every 200ms' },
  maxTokenLifetime: common.maxTokenLifetime('10m'),
  labels: { kind: 'map', env: 'NSM_LABELS', default: '', description: 'labels added to every request (key:value,key:value)' },
  mechanism: { kind: 'string', env: 'NSM_MECHANISM', default: 'kernel', description: 'default mechanism for network services whose URL names none' },
  networkServices: { kind: 'list', env: 'NSM_NETWORK_SERVICES', default: '', description: 'comma-separated network service URLs: kernel://<service>[/<interface>][?label=value&...]' },
  livenessCheckEnabled: {
    kind: 'bool',
    env: 'NSM_LIVENESS_CHECK_ENABLED',
    default: 'true',
    description:
      "the data-path check (a ping of the endpoint's addresses): while healing, a failed restore of the same path is repeated as long as the endpoint answers (a restarting nsmgr or forwarder comes back to a data path that kept working) and the client reselects only once it does not; false = reselect after the first failed restore",
  },
  livenessCheckInterval: { kind: 'duration', env: 'NSM_LIVENESS_CHECK_INTERVAL', default: '0', description: 'period of the data-path check while the connection is up (heals when it fails); 0 = checked only while healing' },
  livenessCheckTimeout: { kind: 'duration', env: 'NSM_LIVENESS_CHECK_TIMEOUT', default: '150ms', description: "how long the data-path check waits for the endpoint's reply (while healing, a dead path's verdict is ready within the 200 ms between attempts)" },
  dnsMode: {
    kind: 'enum',
    values: ['auto', 'resolvconf', 'corefile', 'off'] as const,
    env: 'NSM_DNS_MODE',
    default: 'auto',
    description:
      "where the endpoints' DNS contexts go: corefile = upstream's way, the Corefile of the CoreDNS sidecar the webhook injects (each endpoint's search domains to its servers, the rest to the pod's resolvers) and 127.0.0.1 first in the resolver file; resolvconf = no sidecar, the endpoints' servers and search domains first in the resolver file; auto = corefile when the Corefile's folder exists (the sidecar's volume), else resolvconf; off = neither. The resolver file's original comes back when the last such connection closes",
  },
  resolvConfPath: { kind: 'string', env: 'NSM_RESOLV_CONF_PATH', default: '/etc/resolv.conf', description: "the pod's resolver file, rewritten in place and restored on Close" },
  corefilePath: { kind: 'string', env: 'NSM_COREFILE_PATH', default: '/etc/coredns/Corefile', description: 'the CoreDNS sidecar\'s Corefile (its `-conf`; the webhook mounts the coredns volume at /etc/coredns)' },
  spiffeEndpointSocket: common.spiffeEndpointSocket(),
  identityTimeout: common.identityTimeout(),
  logLevel: common.logLevel(),
} satisfies Schema;
