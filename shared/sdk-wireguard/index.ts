// WireGuard for the forwarders: keys (node:crypto X25519), the UAPI protocol, wireguard-go devices
// and a pool of them started ahead of need.
export { generateKeyPair, keyToHex } from './keys';
export type { WgKeyPair } from './keys';
export { uapiGet, uapiSet, setLines, socketPath, WG_SOCKET_DIR } from './uapi';
export type { UapiPeer, UapiSet, UapiState } from './uapi';
export { WgDevice, cleanupDevices, WG_BINARY } from './device';
export type { WgDeviceSpec, WgPeerSpec } from './device';
export { WgPool } from './pool';
export type { WgPoolOptions } from './pool';
