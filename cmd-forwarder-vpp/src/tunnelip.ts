// NSM_TUNNEL_IP unset: the first global-unicast address of the interface carrying the default route.
import { networkInterfaces } from 'node:os';
import { exec } from '@nsm/sdk-kernel';

export async function defaultTunnelIp(): Promise<string> {
  const out = await exec(['ip', '-j', 'route', 'show', 'default']).catch(() => undefined);
  const routes = out ? (JSON.parse(out.stdout || '[]') as Array<{ dev?: string }>) : [];
  const dev = routes.find((r) => r.dev)?.dev;
  if (!dev) throw new Error('NSM_TUNNEL_IP is unset and there is no default route to take the tunnel address from');
  const addr = (networkInterfaces()[dev] ?? []).find((a) => !a.internal && !(a.family === 'IPv6' && a.address.startsWith('fe80')));
  if (!addr) throw new Error(`NSM_TUNNEL_IP is unset and ${dev} (default route) has no global-unicast address`);
  return addr.address;
}
