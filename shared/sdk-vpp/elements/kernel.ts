// KERNEL mechanism in the VPP forwarder (dataplane.md §4.2): one VPP interface per side whose kernel
// end is the pod's interface. Tap mode (when /dev/vhost-net exists): VPP's tap_create_v3 makes the
// device straight inside the pod namespace (TUN for IP payload). Veth mode: a veth pair, the pod end
// moved in and named as the mechanism asks, the host end attached with af_packet_create_v3 under the
// host end's MAC (VPP's af_packet takes no rx-mode call: it refuses ADAPTIVE). For an L3 cross-connect
// the record adds static neighbours on both ends so no ARP is needed (xconnect.ts decides).
// Server side (toward the client) acts after the downstream answered; client side (toward the
// endpoint) once the endpoint has answered with its namespace and interface name. Close removes the
// VPP interface (and the veth) after the rest of the path is closed. The pod end's MAC is derived from
// the connection, so a rebuilt interface keeps it (podMac).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Connection, Mechanism, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { nextSegment, prevSegment } from '@nsm/sdk/core/conn';
import { invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOnce, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { ipSpecFor, Side } from '@nsm/sdk-kernel/connectioncontext';
import { RX_MODE_ADAPTIVE } from '../api';
import { connTag, hostOf, releaseAll } from './common';
import { HostOps, linuxHost } from './host';
import { clientIfKey, serverIfKey, VppDataplane, VppInterfaceRecord } from './state';

export type KernelMode = 'tap' | 'veth';

export interface KernelOptions {
  /** Default: tap when /dev/vhost-net exists, else veth (upstream's choice). */
  mode?: KernelMode;
  host?: HostOps;
  /** MTU for the pod interface when the connection context has none (upstream: 9000 locally). */
  defaultMtu?: number;
}

export const defaultKernelMode = (): KernelMode => (existsSync('/dev/vhost-net') ? 'tap' : 'veth');

async function plug(dp: VppDataplane, o: Required<KernelOptions>, conn: Connection, side: Side): Promise<VppInterfaceRecord> {
  const mech = conn.mechanism!;
  const who = side === 'src' ? 'client' : 'endpoint';
  const url = mech.parameters[Param.inodeURL];
  const podName = mech.parameters[Param.name];
  if (!url) throw invalidArgument(`KERNEL mechanism of the ${who} side has no ${Param.inodeURL} parameter`);
  if (!podName) throw invalidArgument(`KERNEL mechanism of the ${who} side has no ${Param.name} parameter`);
  const netns = o.host.netns(url);
  const ip = conn.payload !== Payload.ETHERNET;
  const mtu = conn.context?.MTU || o.defaultMtu;
  const spec = ipSpecFor(side, conn.context, mtu);
  const { api } = dp;

  if (o.mode === 'tap') {
    const sw = await api.tapCreate({ hostIfName: podName, hostNamespace: netns.path, tun: ip, hostMtu: mtu });
    const rec: VppInterfaceRecord = { swIfIndex: sw, l3: ip, describe: `tap ${podName}`, release: () => releaseAll(`tap ${podName}`, [() => api.tapDelete(sw)]) };
    try {
      await api.tagInterface(sw, connTag(conn.id));
      await api.setRxMode(sw, RX_MODE_ADAPTIVE);
      await o.host.applyIpContext(netns, podName, spec);
      await api.setInterfaceState(sw, true);
      return rec;
    } catch (err) {
      await rec.release();
      throw err;
    }
  }

  const alias = side === 'src' ? `server-${prevSegment(conn)?.id ?? conn.id}` : `client-${nextSegment(conn)?.id ?? conn.id}`;
  const hostName = alias.slice(0, 15);
  let sw: number | undefined;
  let hostMac = '';
  const rec: VppInterfaceRecord = {
    swIfIndex: -1,
    describe: `af_packet ${hostName}`,
    release: () =>
      releaseAll(`af_packet ${hostName}`, [async () => sw !== undefined && api.afPacketDelete(hostName), () => o.host.deleteHostLink(hostName)]),
    // Only for an L3 cross-connect (xconnect.ts); on an L2 one the pod resolves addresses itself.
    async staticNeighbors(own, remote) {
      const podMac = await o.host.mac(netns, podName);
      const made: string[] = [];
      const undoIt = () => releaseAll(`neighbours on ${hostName}`, made.map((n) => () => api.ipNeighbor(sw!, n, podMac, false)));
      try {
        for (const a of own) {
          await api.ipNeighbor(sw!, hostOf(a), podMac, true);
          made.push(hostOf(a));
        }
        // Permanent: a reachable entry expires, and the pod's ARP then goes unanswered (VPP owns no
        // address of the far side). They vanish with the pod's interface.
        await o.host.applyIpContext(netns, podName, { neighbors: remote.map((r) => ({ ip: hostOf(r), mac: hostMac, state: 'permanent' })), up: true });
      } catch (err) {
        await undoIt();
        throw err;
      }
      return undoIt;
    },
  };
  try {
    await o.host.createVeth(hostName, podName, netns, mtu, podMac(conn.id, side));
    hostMac = await o.host.mac(undefined, hostName);
    sw = await api.afPacketCreate({ hostIfName: hostName, hwAddr: hostMac });
    rec.swIfIndex = sw;
    await api.tagInterface(sw, connTag(conn.id));
    // No rx-mode call: af_packet rejects ADAPTIVE (-9) and starts in interrupt mode, which suits it.
    await o.host.applyIpContext(netns, podName, spec);
    await api.setInterfaceState(sw, true);
    return rec;
  } catch (err) {
    await rec.release();
    throw err;
  }
}

/**
 * The pod end's MAC, the same each time this connection's side is made: when a connection is rebuilt
 * (its forwarder or VPP restarted and the client healed), the peers' ARP caches stay right, instead of
 * sending to the old interface's MAC until their entries expire. Locally administered, unicast.
 */
export function podMac(connId: string, side: Side): string {
  const b = createHash('sha256').update(`nsm-vpp/${connId}/${side}`).digest().subarray(0, 6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function options(o: KernelOptions): Required<KernelOptions> {
  return { mode: o.mode ?? defaultKernelMode(), host: o.host ?? linuxHost, defaultMtu: o.defaultMtu ?? 9000 };
}

/** Server half: the client's interface, made after the downstream Request succeeded. */
export function kernelServer(dp: VppDataplane, opts: KernelOptions = {}): NetworkServiceElement {
  const o = options(opts);
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      return makeOnce(ctx, next, out, serverMeta(ctx), serverIfKey, () => plug(dp, o, out, 'src'));
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, serverMeta(ctx).take(serverIfKey));
    },
  };
}

/** Client half: offers KERNEL (no parameters: the endpoint fills them) and plugs the endpoint's side. */
export function kernelClient(dp: VppDataplane, opts: KernelOptions = {}): NetworkServiceElement {
  const o = options(opts);
  return {
    async request(ctx, req, next) {
      if (!req.mechanismPreferences.some((m) => m.type === MechanismType.KERNEL)) {
        req.mechanismPreferences.push(Mechanism.fromPartial({ cls: MechanismClass.LOCAL, type: MechanismType.KERNEL, parameters: {} }));
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.KERNEL) return out;
      return makeOnce(ctx, next, out, clientMeta(ctx), clientIfKey, () => plug(dp, o, out, 'dst'));
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, clientMeta(ctx).take(clientIfKey));
    },
  };
}
