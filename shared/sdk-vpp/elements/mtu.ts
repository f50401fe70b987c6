// MTU of the tunnel mechanisms (api.md §4.4, dataplane.md §5-6): the requesting side offers the most
// its tunnel carries in the mechanism's MTU parameter, the answering side lowers it to its own and
// both lower ConnectionContext.MTU, which the pod interfaces then take. A VXLAN header costs 50
// bytes over IPv4, WireGuard's 80 (upstream's figures, the same as the OVS forwarder's).
import { Connection, ConnectionContext, Mechanism, Param } from '@nsm/api';
import type { VppDataplane } from './state';

export const VXLAN_OVERHEAD = 50;
export const WIREGUARD_OVERHEAD = 80;

/** What a tunnel with `overhead` bytes of headers carries on this node's uplink. */
export const tunnelMtu = (dp: VppDataplane, overhead: number): number => (dp.underlayMtu || 1500) - overhead;

/** Lowers ConnectionContext.MTU to `mtu` (an answer may carry the next hop's larger one). */
export function clampContextMtu(conn: Connection, mtu: number): void {
  conn.context ??= ConnectionContext.fromPartial({});
  if (mtu > 0 && (!conn.context.MTU || conn.context.MTU > mtu)) conn.context.MTU = mtu;
}

/** Lowers the mechanism's MTU parameter (absent: `max`) and the connection's MTU to `max`; returns it. */
export function clampMtu(conn: Connection, mech: Mechanism, max: number): number {
  const offered = Number(mech.parameters[Param.mtu] || 0);
  const mtu = offered > 0 ? Math.min(offered, max) : max;
  mech.parameters[Param.mtu] = String(mtu);
  clampContextMtu(conn, mtu);
  return mtu;
}
