// KERNEL mechanism in the OVS forwarder: a veth pair per side, the pod end (named as the mechanism
// asks) in the pod's namespace with its addresses and routes, the host end an OVS port.
// Server side (toward the client) acts after the downstream answered, so the IP context is known;
// client side (toward the endpoint) acts when the endpoint has answered with its namespace and name.
import { Mechanism, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOnce, makeOrUndo, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { applyIpContext, createVethPair, deleteLink, disableOffloads, getMac, hostIfName, ip, netnsFromUrl } from '@nsm/sdk-kernel';
import { log } from '@nsm/sdk/log';
import type { Connection } from '@nsm/api';
import { ipSpecFor, Side } from '@nsm/sdk-kernel/connectioncontext';
import { clientPortKey, EXT_CONN, EXT_SIDE, once, OvsBridge, PortRecord, routedKey, serverPortKey } from './state';
import { TrunkPorts } from './trunk';

/**
 * Makes the veth pair of one side. Normally its host end becomes an OVS port. When the connection is
 * `routed` (an L3 tunnel on the other side), the host end stays out of OVS and the pod gets static
 * neighbours for its peer's addresses (the host end's MAC), so that no ARP/ND has to be answered.
 */
async function plugVeth(br: OvsBridge, conn: Connection, mech: Mechanism, side: Side, connId: string, routed = false): Promise<PortRecord> {
  const url = mech.parameters[Param.inodeURL];
  const podName = mech.parameters[Param.name];
  if (!url) throw invalidArgument(`KERNEL mechanism of the ${side === 'src' ? 'client' : 'endpoint'} side has no ${Param.inodeURL} parameter`);
  if (!podName) throw invalidArgument(`KERNEL mechanism of the ${side === 'src' ? 'client' : 'endpoint'} side has no ${Param.name} parameter`);
  const netns = netnsFromUrl(url);
  const hostName = hostIfName(connId, side);
  const pair = await createVethPair({ hostName, peerName: podName, peerNetns: netns, mtu: conn.context?.MTU || undefined });
  if (pair.existed) br.adopt?.(hostName);
  const release = once(async () => {
    if (!routed) await br.ovs.delPorts(br.bridge, [hostName]).catch((e) => log.warn({ port: hostName, err: String(e) }, 'removing OVS port failed'));
    await deleteLink(undefined, hostName);
  });
  try {
    if (routed) {
      const hostMac = await getMac(undefined, hostName);
      const spec = ipSpecFor(side, conn.context);
      const peer = ((side === 'src' ? conn.context?.ipContext?.dstIpAddrs : conn.context?.ipContext?.srcIpAddrs) ?? []).map((a) => a.split('/')[0]);
      const gws = (spec.routes ?? []).map((r) => r.via).filter((v): v is string => !!v);
      spec.neighbors = [...(spec.neighbors ?? []), ...[...new Set([...peer, ...gws])].map((ip) => ({ ip, mac: hostMac, state: 'permanent' as const }))];
      await applyIpContext(netns, podName, spec);
      const podMac = await getMac(netns, podName);
      return { name: hostName, ofport: 0, routed: { podMac }, release };
    }
    if (!pair.existed) {
      const spec = ipSpecFor(side, conn.context);
      // An Ethernet payload with no addresses still gets an interface that is up.
      await applyIpContext(netns, podName, conn.payload === Payload.ETHERNET && !spec.addrs?.length ? { up: true } : spec);
      // TCP through the userspace datapath stalls unless the pod end stops offloading (perf-notes).
      await disableOffloads(netns, podName);
    }
    const ports = await br.ovs.addPorts(br.bridge, [{ name: hostName, externalIds: { [EXT_CONN]: connId, [EXT_SIDE]: side } }]);
    const settle = pair.existed ? undefined : async () => void (await ip(netns, `neigh flush dev ${podName}`));
    return { name: hostName, ofport: ports[hostName], release, settle };
  } catch (err) {
    await release();
    throw err;
  }
}


export function kernelServer(br: OvsBridge): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      const meta = serverMeta(ctx);
      return makeOnce(ctx, next, out, meta, serverPortKey, () => plugVeth(br, out, out.mechanism!, 'src', out.id, !!meta.get(routedKey)));
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, serverMeta(ctx).take(serverPortKey));
    },
  };
}

/** The endpoint's answer puts the connection on a VLAN of a shared trunk (NSE-side trunking). */
function trunkVlan(mech: Mechanism): number | undefined {
  const raw = mech.parameters[Param.vlan];
  if (raw === undefined || raw === '' || raw === '0') return undefined;
  const vlan = Number(raw);
  if (!Number.isInteger(vlan) || vlan < 1 || vlan > 4094) throw invalidArgument(`the endpoint answered with an unusable ${Param.vlan} "${raw}" (want 1-4094)`);
  return vlan;
}

async function plugTrunk(trunks: TrunkPorts, mech: Mechanism, vlan: number): Promise<PortRecord> {
  const url = mech.parameters[Param.inodeURL];
  const podName = mech.parameters[Param.name];
  if (!url || !podName) throw invalidArgument(`KERNEL mechanism of the endpoint side has no ${!url ? Param.inodeURL : Param.name} parameter`);
  return trunks.acquire(netnsFromUrl(url), podName, vlan);
}

export function kernelClient(br: OvsBridge): NetworkServiceElement {
  const trunks = new TrunkPorts(br);
  return {
    async request(ctx, req, next) {
      // Our side can trunk: an endpoint that terminates VLANs itself may answer with a `vlan` (§4.6).
      if (!req.mechanismPreferences.some((m) => m.type === MechanismType.KERNEL)) {
        req.mechanismPreferences.push(Mechanism.fromPartial({ cls: MechanismClass.LOCAL, type: MechanismType.KERNEL, parameters: { [Param.supportsVlan]: 'true' } }));
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.KERNEL) return out;
      const meta = clientMeta(ctx);
      const had = meta.get(clientPortKey);
      const mech = out.mechanism;
      // A failed refresh leaves the endpoint's connection to its own expiry or the client's heal.
      await makeOrUndo(
        ctx,
        next,
        out,
        async () => {
          const vlan = trunkVlan(mech);
          // A refresh keeps what was made, unless the endpoint moved the connection to another VLAN.
          if (had && had.vlan === vlan) return;
          if (had?.vlan && vlan) {
            // Same trunk, new VLAN: take the trunk again before letting go, so it is not rebuilt.
            meta.set(clientPortKey, await plugTrunk(trunks, mech, vlan));
            await had.release();
            return;
          }
          if (had) {
            meta.delete(clientPortKey);
            await had.release();
          }
          meta.set(clientPortKey, vlan ? await plugTrunk(trunks, mech, vlan) : await plugVeth(br, out, mech, 'dst', out.id, !!serverMeta(ctx).get(routedKey)));
        },
        { undo: !had },
      );
      return out;
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, clientMeta(ctx).take(clientPortKey));
    },
  };
}
