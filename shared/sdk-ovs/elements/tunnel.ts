// What the remote mechanisms share: the node's tunnel address and underlay MTU, and MTU clamping
// (api.md §4.4: the client offers its maximum, the server lowers it and ConnectionContext.MTU).
import type { Connection, Mechanism } from '@nsm/api';
import { ConnectionContext, Param } from '@nsm/api';
import { exec } from '@nsm/sdk-kernel';

export interface TunnelOptions {
  /** This node's tunnel address (NSM_TUNNEL_IP). */
  tunnelIp: string;
  /** MTU of the interface that holds the tunnel address. */
  underlayMtu: number;
}

/** MTU of the interface holding `ip` in this namespace (1500 when it cannot be found). */
export async function underlayMtuOf(ip: string): Promise<number> {
  try {
    const { stdout } = await exec(['ip', '-j', 'addr', 'show']);
    const links = JSON.parse(stdout) as { mtu: number; addr_info?: { local: string }[] }[];
    return links.find((l) => l.addr_info?.some((a) => a.local === ip))?.mtu ?? 1500;
  } catch {
    return 1500;
  }
}

/** Lowers the mechanism's MTU parameter and the connection's MTU to `max`; returns the result. */
export function clampMtu(conn: Connection, mech: Mechanism, max: number): number {
  const offered = Number(mech.parameters[Param.mtu] || 0);
  const mtu = offered > 0 ? Math.min(offered, max) : max;
  mech.parameters[Param.mtu] = String(mtu);
  conn.context ??= ConnectionContext.fromPartial({});
  if (!conn.context.MTU || conn.context.MTU > mtu) conn.context.MTU = mtu;
  return mtu;
}

/** "ip:port" for IPv4, "[ip]:port" for IPv6. */
export const hostPort = (ip: string, port: number | string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** Host prefixes (/32, /128) of a list of addresses with or without prefix length. */
export const hostPrefixes = (addrs: readonly string[]) =>
  addrs.map((a) => {
    const ip = a.split('/')[0];
    return `${ip}/${ip.includes(':') ? 128 : 32}`;
  });

/** Lowers ConnectionContext.MTU of an answer to `mtu` (the next hop may have answered with its own context). */
export function clampContextMtu(conn: Connection, mtu: number): void {
  if (conn.context && mtu > 0 && (!conn.context.MTU || conn.context.MTU > mtu)) conn.context.MTU = mtu;
}
