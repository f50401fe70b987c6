// VXLAN remote mechanism in the OVS forwarder (dataplane.md §5). Each side makes one Linux vxlan
// device per connection in the node's namespace (id VNI, local/remote tunnel IPs, dstport = the
// configured port) and adds it to the bridge as an ordinary port; the xconnect element joins it with
// the local veth port. OVS's own netdev tunnel ports would need the underlay address on an OVS bridge
// (OVS routes its tunnels itself), which the node's network does not have.
//
// Client side (toward a remote nsmgr): offers VXLAN with src_ip/src_port/MTU, builds its end once the
// remote forwarder answered. Server side (selected by the mechanisms element): checks the port
// agreement, allocates the VNI (parity rule, unique per (src IP, VNI), kept across refresh), sets
// dst_ip/dst_port, lowers MTU, forwards, then builds its end.
import { Mechanism, MechanismClass, MechanismType, Param } from '@nsm/api';
import { createKey } from '@nsm/sdk/core/context';
import { alreadyExists, failedPrecondition, invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOrUndo, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { deleteLink, deriveIfName, ip, IpBatchError } from '@nsm/sdk-kernel';
import { log } from '@nsm/sdk/log';
import { clientPortKey, EXT_CONN, EXT_SIDE, once, OvsBridge, PortRecord, serverPortKey } from './state';
import { clampContextMtu, clampMtu, TunnelOptions } from './tunnel';
import { VniAllocator } from './vni';

export const VXLAN_OVERHEAD = 50;
/** Prefix of the per-connection vxlan devices (recover.ts removes leftovers by it). */
export const VXLAN_DEV_PREFIX = 'vxlan';

export interface VxlanOptions extends TunnelOptions {
  /** UDP port (NSM_VXLAN_PORT); both nodes must agree. */
  port: number;
  vnis: VniAllocator;
}

interface Tunnel {
  vni: number;
  local: string;
  remote: string;
  port: PortRecord;
}

const clientTunnelKey = createKey<Tunnel>('ovs.vxlan.client');
const serverTunnelKey = createKey<Tunnel & { srcKey: string; allocated: boolean }>('ovs.vxlan.server');

export const vxlanDevName = (connId: string, side: 'src' | 'dst') => deriveIfName(`${VXLAN_DEV_PREFIX}${side === 'src' ? 's' : 'd'}`, connId);

async function makeTunnel(br: OvsBridge, o: VxlanOptions, spec: { name: string; vni: number; remote: string; mtu: number; connId: string; side: 'src' | 'dst' }): Promise<PortRecord> {
  if (o.vnis.inUseLocally(spec.vni)) {
    throw alreadyExists(`VNI ${spec.vni} is already used by another VXLAN tunnel on node ${o.tunnelIp} (port ${o.port})`);
  }
  o.vnis.useLocal(spec.vni);
  const release = once(async () => {
    o.vnis.releaseLocal(spec.vni);
    await br.ovs.delPorts(br.bridge, [spec.name]).catch((e) => log.warn({ port: spec.name, err: String(e) }, 'removing OVS port failed'));
    await deleteLink(undefined, spec.name);
  });
  try {
    const add = `link add ${spec.name} mtu ${spec.mtu} up type vxlan id ${spec.vni} local ${o.tunnelIp} remote ${spec.remote} dstport ${o.port} nolearning`;
    try {
      await ip(undefined, add);
    } catch (e) {
      // A device of that name left over (e.g. a refresh after a failed attempt): replace it.
      if (!(e instanceof IpBatchError) || !e.onlyFailuresMatching(/File exists/)) throw e;
      await deleteLink(undefined, spec.name);
      await ip(undefined, add);
    }
    const ports = await br.ovs.addPorts(br.bridge, [{ name: spec.name, externalIds: { [EXT_CONN]: spec.connId, [EXT_SIDE]: `${spec.side}-vxlan` } }]);
    return { name: spec.name, ofport: ports[spec.name], release };
  } catch (err) {
    await release();
    throw err;
  }
}

const sameTunnel = (t: Tunnel | undefined, vni: number, remote: string) => t && t.vni === vni && t.remote === remote;

export function vxlanClient(br: OvsBridge, o: VxlanOptions): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      if (!req.mechanismPreferences.some((m) => m.type === MechanismType.VXLAN)) {
        req.mechanismPreferences.push(
          Mechanism.fromPartial({
            cls: MechanismClass.REMOTE,
            type: MechanismType.VXLAN,
            parameters: { [Param.srcIp]: o.tunnelIp, [Param.srcPort]: String(o.port), [Param.mtu]: String(o.underlayMtu - VXLAN_OVERHEAD) },
          }),
        );
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.VXLAN) return out;
      const meta = clientMeta(ctx);
      const p = out.mechanism.parameters;
      const vni = Number(p[Param.vni]);
      const remote = p[Param.dstIp];
      const dstPort = Number(p[Param.dstPort] || 4789);
      const prev = meta.get(clientTunnelKey);
      clampContextMtu(out, Math.min(Number(p[Param.mtu]) || Infinity, o.underlayMtu - VXLAN_OVERHEAD));
      if (sameTunnel(prev, vni, remote)) return out;
      await makeOrUndo(
        ctx,
        next,
        out,
        async () => {
          if (!remote || !Number.isInteger(vni) || vni <= 0 || vni > 0xffffff) {
            throw invalidArgument(`VXLAN answer lacks a usable dst_ip/vni (dst_ip=${remote}, vni=${p[Param.vni]})`);
          }
          if (dstPort !== o.port) {
            throw failedPrecondition(`VXLAN port mismatch: node ${remote} uses UDP port ${dstPort}, this node (${o.tunnelIp}) uses ${o.port}; set the same NSM_VXLAN_PORT on both`);
          }
          if (prev) await prev.port.release();
          const port = await makeTunnel(br, o, { name: vxlanDevName(out.id, 'dst'), vni, remote, mtu: Number(p[Param.mtu]) || o.underlayMtu - VXLAN_OVERHEAD, connId: out.id, side: 'dst' });
          meta.set(clientTunnelKey, { vni, local: o.tunnelIp, remote, port });
          meta.set(clientPortKey, port);
        },
        { forget: () => meta.delete(clientTunnelKey) },
      );
      return out;
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, clientMeta(ctx).take(clientTunnelKey)?.port);
    },
  };
}

export function vxlanServer(br: OvsBridge, o: VxlanOptions): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const conn = req.connection!;
      const mech = conn.mechanism!;
      const p = mech.parameters;
      const srcIp = p[Param.srcIp];
      const srcPort = Number(p[Param.srcPort] || 4789);
      if (!srcIp) throw invalidArgument(`VXLAN mechanism has no ${Param.srcIp}`);
      if (srcPort !== o.port) {
        throw failedPrecondition(`VXLAN port mismatch: the requesting node ${srcIp} uses UDP port ${srcPort}, this node (${o.tunnelIp}) uses ${o.port}; set the same NSM_VXLAN_PORT on both`);
      }
      p[Param.dstIp] = o.tunnelIp;
      p[Param.dstPort] = String(o.port);
      const meta = serverMeta(ctx);
      const prev = meta.get(serverTunnelKey);
      const srcKey = p[Param.origSrcIp] || srcIp;
      const dstKey = p[Param.origDstIp] || o.tunnelIp;
      let vni = Number(p[Param.vni] || 0);
      let allocated = false;
      if (prev && (vni === 0 || vni === prev.vni)) {
        vni = prev.vni;
      } else if (vni > 0) {
        // A refresh that carries its VNI (e.g. after this forwarder restarted): keep it if it is free.
        if (!o.vnis.reserve(srcKey, vni)) throw alreadyExists(`VNI ${vni} from ${srcKey} is held by another connection`);
        allocated = true;
      } else {
        vni = o.vnis.allocate(srcKey, dstKey);
        allocated = true;
      }
      p[Param.vni] = String(vni);
      const mtu = clampMtu(conn, mech, o.underlayMtu - VXLAN_OVERHEAD);
      const forget = () => allocated && o.vnis.release(srcKey, vni);
      let out;
      try {
        out = await next.request(ctx, req);
      } catch (err) {
        forget();
        throw err;
      }
      if (out.mechanism) Object.assign(out.mechanism.parameters, { [Param.dstIp]: o.tunnelIp, [Param.dstPort]: String(o.port), [Param.vni]: String(vni), [Param.mtu]: String(mtu) });
      clampContextMtu(out, mtu);
      if (sameTunnel(prev, vni, srcIp)) return out;
      await makeOrUndo(
        ctx,
        next,
        out,
        async () => {
          if (prev) {
            await prev.port.release();
            if (prev.allocated && prev.vni !== vni) o.vnis.release(prev.srcKey, prev.vni);
          }
          const port = await makeTunnel(br, o, { name: vxlanDevName(out.id, 'src'), vni, remote: srcIp, mtu, connId: out.id, side: 'src' });
          meta.set(serverTunnelKey, { vni, local: o.tunnelIp, remote: srcIp, port, srcKey, allocated: allocated || !!prev?.allocated });
          meta.set(serverPortKey, port);
        },
        {
          forget: () => {
            meta.delete(serverTunnelKey);
            forget();
          },
        },
      );
      return out;
    },
    async close(ctx, conn, next) {
      const t = serverMeta(ctx).take(serverTunnelKey);
      await closeThenRelease(ctx, next, conn, async () => {
        await t?.port.release();
        if (t?.allocated) o.vnis.release(t.srcKey, t.vni);
      });
    },
  };
}
