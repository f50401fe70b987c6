// The remote mechanisms of this forwarder (VXLAN, WireGuard). They need the node's tunnel address
// (NSM_TUNNEL_IP); without one only local connections work. The underlay MTU is that of the interface
// holding the tunnel address, and IP forwarding is on for the routed (WireGuard) cross-connects.
// WireGuard devices come from a pool started here, in the background, ahead of the first Request.
import { enableForwarding, PortPool, TunnelOptions, underlayMtuOf, VniAllocator, VxlanOptions, WG_POOL_PREFIX, WireguardOptions } from '@nsm/sdk-ovs/elements';
import { WgPool } from '@nsm/sdk-wireguard';
import { log } from '@nsm/sdk/log';
import type { Config } from './config';

export interface RemoteMechanisms {
  tunnel: TunnelOptions;
  vxlan: VxlanOptions;
  wireguard: WireguardOptions;
  /** wireguard-go devices for both halves. */
  wireguardDevices: WgPool;
}

export async function remoteMechanisms(cfg: Pick<Config, 'tunnelIp' | 'vxlanPort' | 'wireguardPort' | 'wireguardHandshakeTimeout' | 'wireguardPool'>): Promise<RemoteMechanisms | undefined> {
  if (!cfg.tunnelIp) {
    log.warn('NSM_TUNNEL_IP is not set: remote mechanisms (VXLAN, WireGuard) are disabled');
    return undefined;
  }
  const tunnel = { tunnelIp: cfg.tunnelIp, underlayMtu: await underlayMtuOf(cfg.tunnelIp) };
  const vxlan = { ...tunnel, port: cfg.vxlanPort || 4789, vnis: new VniAllocator() };
  const wireguard = { ...tunnel, basePort: cfg.wireguardPort || 51820, handshakeTimeoutMs: cfg.wireguardHandshakeTimeout };
  enableForwarding();
  const wireguardDevices = new WgPool({ size: Math.max(0, cfg.wireguardPool), prefix: WG_POOL_PREFIX, ports: new PortPool(wireguard.basePort) });
  // Not awaited: start-up (and so a restarted forwarder's heal) does not wait for wireguard-go.
  wireguardDevices.fill().then(
    () => log.debug({ idle: wireguardDevices.idleCount }, 'spare WireGuard devices started'),
    (err) => log.warn({ err: String(err) }, 'starting spare WireGuard devices failed; connections will start their own'),
  );
  return { tunnel, vxlan, wireguard, wireguardDevices };
}
