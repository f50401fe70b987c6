// The remote mechanisms of this forwarder (VXLAN, WireGuard). They need the node's tunnel address
// (NSM_TUNNEL_IP); without one only local connections work. The underlay MTU is that of the interface
// holding the tunnel address, and IP forwarding is on for the routed (WireGuard) cross-connects.
import { enableForwarding, PortPool, TunnelOptions, underlayMtuOf, VniAllocator, VxlanOptions, WireguardOptions } from '@nsm/sdk-ovs/elements';
import { log } from '@nsm/sdk/log';
import type { Config } from './config';

export interface RemoteMechanisms {
  tunnel: TunnelOptions;
  vxlan: VxlanOptions;
  wireguard: WireguardOptions;
  /** UDP ports of the WireGuard devices, shared by both halves. */
  wireguardPorts: PortPool;
}

export async function remoteMechanisms(cfg: Pick<Config, 'tunnelIp' | 'vxlanPort' | 'wireguardPort' | 'wireguardHandshakeTimeout'>): Promise<RemoteMechanisms | undefined> {
  if (!cfg.tunnelIp) {
    log.warn('NSM_TUNNEL_IP is not set: remote mechanisms (VXLAN, WireGuard) are disabled');
    return undefined;
  }
  const tunnel = { tunnelIp: cfg.tunnelIp, underlayMtu: await underlayMtuOf(cfg.tunnelIp) };
  const vxlan = { ...tunnel, port: cfg.vxlanPort || 4789, vnis: new VniAllocator() };
  const wireguard = { ...tunnel, basePort: cfg.wireguardPort || 51820, handshakeTimeoutMs: cfg.wireguardHandshakeTimeout };
  enableForwarding();
  return { tunnel, vxlan, wireguard, wireguardPorts: new PortPool(wireguard.basePort) };
}
