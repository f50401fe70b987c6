// Strings the NSM API fixes outside the .proto files (api.md §4 and §5).

export const MechanismClass = { LOCAL: 'LOCAL', REMOTE: 'REMOTE' } as const;

export const MechanismType = {
  KERNEL: 'KERNEL',
  MEMIF: 'MEMIF',
  VFIO: 'VFIO',
  NOOP: 'NOOP',
  VXLAN: 'VXLAN',
  WIREGUARD: 'WIREGUARD',
  VLAN: 'VLAN',
  SRV6: 'SRV6',
  IPSEC: 'IPSEC',
} as const;

export const Payload = { IP: 'IP', ETHERNET: 'ETHERNET' } as const;

/** Keys of Mechanism.parameters. */
export const Param = {
  srcIp: 'src_ip',
  dstIp: 'dst_ip',
  srcPort: 'src_port',
  dstPort: 'dst_port',
  origSrcIp: 'orig_src_ip',
  origDstIp: 'orig_dst_ip',
  netnsInode: 'netnsInode',
  name: 'name',
  inodeURL: 'inodeURL',
  pciAddress: 'pciAddress',
  tokenID: 'tokenID',
  mtu: 'MTU',
  vni: 'vni',
  supportsVlan: 'supportsVlan',
  vlan: 'vlan',
  vlanId: 'vlan-id',
  srcPublicKey: 'src_public_key',
  dstPublicKey: 'dst_public_key',
  routeLocalNet: 'routeLocalNet',
} as const;

/** Labels the nsmgr adds from its environment (api.md §5.1). */
export const Label = {
  nodeName: 'nodeName',
  podName: 'podName',
  clusterName: 'clusterName',
  via: 'via',
  p2p: 'p2p',
} as const;

export const TokenMetadataKey = 'nsm-client-token';
export const TokenExpiresMetadataKey = 'nsm-client-token-expires';

export const DefaultForwarderServiceName = 'forwarder';
/** Linux IFNAMSIZ - 1. */
export const LinuxIfMaxLength = 15;
export const DefaultVxlanPort = 4789;
export const DefaultWireguardPort = 51820;
