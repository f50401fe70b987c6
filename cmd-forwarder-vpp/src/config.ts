// cmd-forwarder-vpp settings (components.md §3), NSM_ prefix, upstream defaults. The SR-IOV and
// device-selector settings are accepted for compatibility; this forwarder does not use them.
import type { Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const DEFAULT_VPP_API_SOCKET = '/var/run/vpp/api.sock';

export const schema = {
  name: common.name('forwarder', 'registered name of this forwarder (endpoint name)'),
  labels: { kind: 'map', env: 'NSM_LABELS', default: 'p2p:true', description: 'labels registered under the forwarder service' },
  nsName: { kind: 'string', env: 'NSM_NSNAME', default: 'forwarder', description: 'network service name forwarders register under' },
  connectTo: common.connectTo('unix:///connect.to.socket'),
  listenOn: { kind: 'url', env: 'NSM_LISTEN_ON', default: 'unix:///listen.on.socket', description: 'gRPC listen URL; also the registered URL' },
  maxTokenLifetime: common.maxTokenLifetime('10m'),
  logLevel: common.logLevel(),
  dialTimeout: common.dialTimeout('50ms'),
  tunnelIp: { kind: 'string', env: 'NSM_TUNNEL_IP', default: '', description: 'local tunnel endpoint IP for VXLAN and WireGuard; empty: the first global-unicast address of the interface carrying the default route. It must be on a VPP interface' },
  vxlanPort: { kind: 'int', env: 'NSM_VXLAN_PORT', default: '0', description: 'UDP port of VXLAN tunnels, both directions (0 means 4789); both nodes must agree' },
  vppApiSocket: { kind: 'string', env: 'NSM_VPP_API_SOCKET', default: '', defaultText: `"" (${DEFAULT_VPP_API_SOCKET})`, description: `VPP binary-API socket to connect to. This forwarder never starts VPP: VPP must already run (on the host or in a VPP base image) with socksvr at this path; empty means ${DEFAULT_VPP_API_SOCKET}` },
  vppInit: { kind: 'enum', values: ['AF_PACKET', 'NONE'] as const, env: 'NSM_VPP_INIT', default: 'AF_PACKET', description: 'uplink initialisation: AF_PACKET or NONE. Only NONE is implemented (the tunnel IP must already be on a VPP interface); AF_PACKET logs that and continues as NONE' },
  resourcePollTimeout: { kind: 'duration', env: 'NSM_RESOURCE_POLL_TIMEOUT', default: '30s', description: 'SR-IOV device-plugin polling timeout (SR-IOV is not supported here; accepted and ignored)' },
  devicePluginPath: { kind: 'string', env: 'NSM_DEVICE_PLUGIN_PATH', default: '/var/lib/kubelet/device-plugins/', description: 'kubelet device-plugin directory (SR-IOV only; ignored)' },
  podResourcesPath: { kind: 'string', env: 'NSM_POD_RESOURCES_PATH', default: '/var/lib/kubelet/pod-resources/', description: 'kubelet pod-resources directory (SR-IOV only; ignored)' },
  deviceSelectorFile: { kind: 'string', env: 'NSM_DEVICE_SELECTOR_FILE', default: '', description: 'NIC to "via" label mapping for remote VLAN (not supported here; ignored)' },
  sriovConfigFile: { kind: 'string', env: 'NSM_SRIOV_CONFIG_FILE', default: '', description: 'SR-IOV PF/VF config; empty disables SR-IOV (not supported here; must be empty)' },
  pciDevicesPath: { kind: 'string', env: 'NSM_PCI_DEVICES_PATH', default: '/sys/bus/pci/devices', description: 'PCI devices directory (SR-IOV only; ignored)' },
  pciDriversPath: { kind: 'string', env: 'NSM_PCI_DRIVERS_PATH', default: '/sys/bus/pci/drivers', description: 'PCI drivers directory (SR-IOV only; ignored)' },
  cgroupPath: { kind: 'string', env: 'NSM_CGROUP_PATH', default: '/host/sys/fs/cgroup/devices', description: 'host cgroup for vfio device permissions (SR-IOV only; ignored)' },
  vfioPath: { kind: 'string', env: 'NSM_VFIO_PATH', default: '/host/dev/vfio', description: 'host /dev/vfio (SR-IOV only; ignored)' },
  kernelMode: { kind: 'enum', values: ['', 'tap', 'veth'] as const, env: 'NSM_VPP_KERNEL_MODE', default: '', description: 'KERNEL interfaces as "tap" (needs /dev/vhost-net) or "veth" (veth + af_packet); empty: tap if /dev/vhost-net exists (upstream rule). Not an upstream setting' },
  vppTimeout: { kind: 'duration', env: 'NSM_VPP_API_TIMEOUT', default: '10s', description: 'bound on connecting to VPP and on each VPP API request. Not an upstream setting' },
} satisfies Schema;
