// cmd-forwarder-vpp settings (components.md §3), NSM_ prefix, upstream defaults; plus what this
// implementation adds (marked "not an upstream setting"): how it runs VPP itself, the VLAN uplinks,
// the memif folder pods share, the WireGuard handshake bound. The SR-IOV settings are accepted for
// compatibility; this forwarder does not use them.
import type { ConfigOf, Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const DEFAULT_VPP_RUN_DIR = '/var/run/vpp';

export const schema = {
  name: common.name('forwarder', 'registered name of this forwarder (endpoint name)'),
  labels: { kind: 'map', env: 'NSM_LABELS', default: 'p2p:true', description: 'labels registered under the forwarder service' },
  nsName: { kind: 'string', env: 'NSM_NSNAME', default: 'forwarder', description: 'network service name forwarders register under' },
  connectTo: common.connectTo('unix:///connect.to.socket'),
  listenOn: { kind: 'url', env: 'NSM_LISTEN_ON', default: 'unix:///listen.on.socket', description: 'gRPC listen URL; also the registered URL' },
  maxTokenLifetime: common.maxTokenLifetime('10m'),
  spiffeEndpointSocket: common.spiffeEndpointSocket(),
  identityTimeout: common.identityTimeout(),
  logLevel: common.logLevel(),
  dialTimeout: common.dialTimeout('50ms'),
  tunnelIp: {
    kind: 'string',
    env: 'NSM_TUNNEL_IP',
    default: '',
    description: 'this node\'s address for VXLAN and WireGuard; empty: with NSM_VPP_INIT=AF_PACKET the first global address of the default route\'s link, else of the interface carrying the default route. It must end up on a VPP interface',
  },
  vxlanPort: { kind: 'int', env: 'NSM_VXLAN_PORT', default: '0', description: 'UDP port of VXLAN tunnels, both directions (0 means 4789); both nodes must agree' },
  vppApiSocket: {
    kind: 'string',
    env: 'NSM_VPP_API_SOCKET',
    default: '',
    description: `VPP binary-API socket of a running VPP to use; empty: this forwarder starts VPP itself (NSM_VPP_BIN) with its sockets in NSM_VPP_RUN_DIR and exits when it exits, as upstream's does`,
  },
  vppInit: {
    kind: 'enum',
    values: ['AF_PACKET', 'NONE'] as const,
    env: 'NSM_VPP_INIT',
    default: 'AF_PACKET',
    description: 'uplink initialisation: AF_PACKET attaches the link holding the tunnel IP to VPP (af_packet) with its MTU, address, gateway routes and neighbours (the host keeps its own); NONE: the tunnel IP is already on a VPP interface',
  },
  vppBin: { kind: 'string', env: 'NSM_VPP_BIN', default: 'vpp', description: 'the vpp binary started when NSM_VPP_API_SOCKET is empty (a path, or a name on PATH). Not an upstream setting' },
  vppRunDir: { kind: 'string', env: 'NSM_VPP_RUN_DIR', default: DEFAULT_VPP_RUN_DIR, description: 'where a VPP this forwarder starts keeps its sockets (api.sock, cli.sock), log and startup.conf. Not an upstream setting' },
  vppConfig: { kind: 'string', env: 'NSM_VPP_CONFIG', default: '', description: 'startup.conf for a VPP this forwarder starts (its sockets must be in NSM_VPP_RUN_DIR); empty: generated as upstream\'s. Not an upstream setting' },
  vppMainCore: { kind: 'int', env: 'NSM_VPP_MAIN_CORE', default: '-1', description: 'CPU of the main thread of a VPP this forwarder starts; -1: VPP\'s choice. Not an upstream setting' },
  vppHeap: { kind: 'string', env: 'NSM_VPP_HEAP', default: '', description: 'main heap size of a VPP this forwarder starts (e.g. 256M); empty: VPP\'s default. Not an upstream setting' },
  vppBuffers: { kind: 'int', env: 'NSM_VPP_BUFFERS', default: '32768', description: 'packet buffers per NUMA node of a VPP this forwarder starts. Not an upstream setting' },
  vppPlugins: { kind: 'list', env: 'NSM_VPP_PLUGINS', default: '', description: 'plugins a VPP this forwarder starts loads (e.g. af_packet,vxlan,wireguard,memif); empty: VPP\'s default set without DPDK. Not an upstream setting' },
  vppTimeout: { kind: 'duration', env: 'NSM_VPP_API_TIMEOUT', default: '10s', description: 'bound on VPP answering at start (starting it, or waiting for a running one\'s socket) and on each VPP API request. Not an upstream setting' },
  vlanUplink: { kind: 'string', env: 'NSM_VLAN_UPLINK', default: '', description: 'default uplink for the VLAN remote mechanism (breakout): a node NIC attached to VPP (af_packet), used by connections without a "via" label. Not an upstream setting' },
  deviceSelectorFile: {
    kind: 'string',
    env: 'NSM_DEVICE_SELECTOR_FILE',
    default: '',
    description: 'YAML file mapping node NICs to "via" labels for the VLAN remote mechanism (interfaces: [{name, matches: [{labelSelector: [{via}]}]}]); VLAN is offered when this or NSM_VLAN_UPLINK names an uplink',
  },
  memifDir: {
    kind: 'string',
    env: 'NSM_MEMIF_DIR',
    default: '/var/lib/networkservicemesh/memif',
    description: 'folder of the memif socket files made for pods that ask for MEMIF (<dir>/<connection id>/memif.socket, handed back in inodeURL); pods must see it at the same path (a hostPath both mount), since no file descriptor is passed. Not an upstream setting (upstream: <tmpdir>/memif, passed as an fd)',
  },
  wireguardHandshakeTimeout: { kind: 'duration', env: 'NSM_WIREGUARD_HANDSHAKE_TIMEOUT', default: '5s', description: 'how long the requesting side waits for the WireGuard handshake (0: not at all). Not an upstream setting' },
  kernelMode: { kind: 'enum', values: ['', 'tap', 'veth'] as const, env: 'NSM_VPP_KERNEL_MODE', default: '', description: 'KERNEL interfaces as "tap" (needs /dev/vhost-net) or "veth" (veth + af_packet); empty: tap if /dev/vhost-net exists (upstream rule). Not an upstream setting' },
  resourcePollTimeout: { kind: 'duration', env: 'NSM_RESOURCE_POLL_TIMEOUT', default: '30s', description: 'SR-IOV device-plugin polling timeout (SR-IOV is not supported here; accepted and ignored)' },
  devicePluginPath: { kind: 'string', env: 'NSM_DEVICE_PLUGIN_PATH', default: '/var/lib/kubelet/device-plugins/', description: 'kubelet device-plugin directory (SR-IOV only; ignored)' },
  podResourcesPath: { kind: 'string', env: 'NSM_POD_RESOURCES_PATH', default: '/var/lib/kubelet/pod-resources/', description: 'kubelet pod-resources directory (SR-IOV only; ignored)' },
  sriovConfigFile: { kind: 'string', env: 'NSM_SRIOV_CONFIG_FILE', default: '', description: 'SR-IOV PF/VF config; empty disables SR-IOV (not supported here; must be empty)' },
  pciDevicesPath: { kind: 'string', env: 'NSM_PCI_DEVICES_PATH', default: '/sys/bus/pci/devices', description: 'PCI devices directory (SR-IOV only; ignored)' },
  pciDriversPath: { kind: 'string', env: 'NSM_PCI_DRIVERS_PATH', default: '/sys/bus/pci/drivers', description: 'PCI drivers directory (SR-IOV only; ignored)' },
  cgroupPath: { kind: 'string', env: 'NSM_CGROUP_PATH', default: '/host/sys/fs/cgroup/devices', description: 'host cgroup for vfio device permissions (SR-IOV only; ignored)' },
  vfioPath: { kind: 'string', env: 'NSM_VFIO_PATH', default: '/host/dev/vfio', description: 'host /dev/vfio (SR-IOV only; ignored)' },
} satisfies Schema;

export type Config = ConfigOf<typeof schema>;
