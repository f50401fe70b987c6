// cmd-nse-icmp-responder settings (components.md §6), NSM_ prefix.
import type { Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const schema = {
  name: common.name('icmp-server', 'endpoint name: registry key and path segment name'),
  connectTo: common.connectTo(),
  listenOn: { kind: 'url', env: 'NSM_LISTEN_ON', default: '', description: 'where to serve; empty means a unix socket in a new temporary directory (upstream behaviour)' },
  maxTokenLifetime: common.maxTokenLifetime('10m'),
  serviceNames: { kind: 'list', env: 'NSM_SERVICE_NAMES', default: 'icmp-responder', description: 'network services offered' },
  payload: { kind: 'enum', values: ['ETHERNET', 'IP'] as const, env: 'NSM_PAYLOAD', default: 'ETHERNET', description: 'payload of the registered network services: ETHERNET or IP' },
  labels: { kind: 'map', env: 'NSM_LABELS', default: '', description: 'labels registered for each service (key:value,...)' },
  dnsConfigs: { kind: 'string', env: 'NSM_DNS_CONFIGS', default: '[]', description: 'JSON array of DNS configs ({"dns_server_ips": [...], "search_domains": [...]}) added to every connection' },
  cidrPrefix: { kind: 'list', env: 'NSM_CIDR_PREFIX', default: '169.254.0.0/16', description: 'address pools for point-to-point pairs (IPv4 and/or IPv6, comma-separated)' },
  idleTimeout: { kind: 'duration', env: 'NSM_IDLE_TIMEOUT', default: '0', description: 'exit after this long without connections; 0 disables' },
  registerService: { kind: 'bool', env: 'NSM_REGISTER_SERVICE', default: 'true', description: 'register each network service (name and payload) at start' },
  vlanTrunk: {
    kind: 'string',
    env: 'NSM_VLAN_TRUNK',
    default: '',
    description:
      'serve all clients over one VLAN trunk interface of this name (at most 10 characters): each connection gets its own VLAN id and an interface <trunk>.<vlan> on a private Open vSwitch in this pod; empty = one interface per client',
  },
  remoteVlan: {
    kind: 'int',
    env: 'NSM_REMOTE_VLAN',
    default: '0',
    description:
      'remote VLAN endpoint: answer only the VLAN mechanism with this vlan-id (1-4094), so clients break out tagged on their forwarder\'s uplink onto the external network on that VLAN; each client gets one address of NSM_CIDR_PREFIX with its prefix length. 0 = off',
  },
  remoteVlanExclude: {
    kind: 'list',
    env: 'NSM_REMOTE_VLAN_EXCLUDE',
    default: '',
    description: 'with NSM_REMOTE_VLAN: addresses of NSM_CIDR_PREFIX that clients must not get (the external network\'s gateway and hosts)',
  },
  remoteVlanVia: { kind: 'string', env: 'NSM_REMOTE_VLAN_VIA', default: '', description: 'with NSM_REMOTE_VLAN: the "via" connection label (service domain) to set; empty = none' },
  logLevel: common.logLevel(),
} satisfies Schema;
