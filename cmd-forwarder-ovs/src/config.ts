// cmd-forwarder-ovs settings (components.md §4), NSM_ prefix, plus the ones this implementation adds
// (listen URL, labels, its own OVS daemons, VXLAN port).
import type { ConfigOf, Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const schema = {
  name: common.name('forwarder', 'registered name of this forwarder'),
  nsName: { kind: 'string', env: 'NSM_NSNAME', default: 'forwarder', description: 'network service name forwarders register under' },
  labels: { kind: 'map', env: 'NSM_LABELS', default: 'p2p:true', description: 'labels registered for the forwarder service (selection by NetworkService match metadata)' },
  bridgeName: { kind: 'string', env: 'NSM_BRIDGENAME', default: 'br-nsm', description: 'OVS bridge this forwarder owns' },
  tunnelIp: { kind: 'string', env: 'NSM_TUNNEL_IP', default: '', description: 'this node\'s address for remote mechanisms (required for remote connections)' },
  vxlanPort: { kind: 'int', env: 'NSM_VXLAN_PORT', default: '4789', description: 'UDP port of VXLAN tunnels; both nodes must agree (0 means 4789)' },
  wireguardPort: { kind: 'int', env: 'NSM_WIREGUARD_PORT', default: '51820', description: 'first UDP port of WireGuard devices (wireguard-go, one device and port per connection)' },
  wireguardHandshakeTimeout: { kind: 'duration', env: 'NSM_WIREGUARD_HANDSHAKE_TIMEOUT', default: '5s', description: 'how long the requesting side waits for the WireGuard handshake' },
  vlanUplink: { kind: 'string', env: 'NSM_VLAN_UPLINK', default: '', description: 'default uplink for the VLAN remote mechanism (breakout): a node NIC attached to the bridge as a trunk, used by connections without a "via" label' },
  deviceSelectorFile: {
    kind: 'string',
    env: 'NSM_DEVICE_SELECTOR_FILE',
    default: '',
    description: 'YAML file mapping node NICs to "via" labels for the VLAN remote mechanism (interfaces: [{name, matches: [{labelSelector: [{via}]}]}]); VLAN is offered when this or NSM_VLAN_UPLINK names an uplink',
  },
  connectTo: common.connectTo(),
  listenOn: { kind: 'url', env: 'NSM_LISTEN_ON', default: '', description: 'where to serve; empty means a unix socket in a new temporary directory (upstream behaviour)' },
  dialTimeout: common.dialTimeout('50ms'),
  maxTokenLifetime: common.maxTokenLifetime('24h'),
  ovsRunDir: { kind: 'string', env: 'NSM_OVS_RUN_DIR', default: '/var/run/nsm-ovs', description: 'run directory of the ovsdb-server and ovs-vswitchd this forwarder starts (userspace netdev datapath); reused if they are alive' },
  ovsDbSocket: { kind: 'string', env: 'NSM_OVS_DB_SOCKET', default: '', description: 'use an existing Open vSwitch at this ovsdb socket instead of starting one (its run directory must hold the bridge .mgmt sockets: NSM_OVS_RUN_DIR)' },
  datapathType: { kind: 'enum', values: ['netdev', 'system'] as const, env: 'NSM_OVS_DATAPATH_TYPE', default: 'netdev', description: 'bridge datapath: netdev (userspace, no kernel module) or system' },
  adoptGrace: { kind: 'duration', env: 'NSM_ADOPT_GRACE', default: '1m', description: 'after a restart, how long local veth pairs left by the previous forwarder wait for their connections to heal and adopt them before they are removed' },
  logLevel: common.logLevel(),
} satisfies Schema;

export type Config = ConfigOf<typeof schema>;
