// KERNEL mechanism in the OVS forwarder: a veth pair per side, the pod end (named as the mechanism
// asks) in the pod's namespace with its addresses and routes, the host end in the forwarder's
// namespace for the xconnect element to join (tc redirect, or an OVS port and rules).
// Server side (toward the client) acts after the downstream answered, so the IP context is known;
// client side (toward the endpoint) acts when the endpoint has answered with its namespace and name.
// Everything here is netlink: no process is started per connection.
import { Mechanism, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { failedPrecondition, invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOrUndo, makeOnce, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { applyIpContext, createVethPair, getMac, hostIfName, netnsFromUrl } from '@nsm/sdk-kernel';
import { applyIpContextIndex, defaultNetlink, deleteLinksTogether, flushNeighbors, setLink } from '@nsm/sdk-kernel/netlink';
import type { Connection, NetworkServiceRequest } from '@nsm/api';
import type { Netns } from '@nsm/sdk-kernel/netns';
import type { VethPair } from '@nsm/sdk-kernel/veth';
import { ipSpecFor, Side } from '@nsm/sdk-kernel/connectioncontext';
import { clientPortKey, once, OvsBridge, PortRecord, routedKey, serverPortKey } from './state';
import { TrunkPorts } from './trunk';

/** The host end's alias: which connection it belongs to, for people and for a restarted forwarder. */
export const VETH_ALIAS_PREFIX = 'nsm-connection:';
export const vethAlias = (connId: string) => `${VETH_ALIAS_PREFIX}${Buffer.from(connId).subarray(0, 200).toString()}`;

/** One side's veth pair, under way: its names, and the creation (started before or after the answer). */
interface Pair {
  netns: Netns;
  podName: string;
  hostName: string;
  url: string;
  mtu: number | undefined;
  made: Promise<VethPair>;
}

/** Starts making the pair the mechanism asks for (validated here: names, the namespace URL). */
function startPair(mech: Mechanism, side: Side, connId: string, mtu: number | undefined, offThread = false): Pair {
  const url = mech.parameters[Param.inodeURL];
  const podName = mech.parameters[Param.name];
  if (!url) throw invalidArgument(`KERNEL mechanism of the ${side === 'src' ? 'client' : 'endpoint'} side has no ${Param.inodeURL} parameter`);
  if (!podName) throw invalidArgument(`KERNEL mechanism of the ${side === 'src' ? 'client' : 'endpoint'} side has no ${Param.name} parameter`);
  const netns = netnsFromUrl(url);
  const hostName = hostIfName(connId, side);
  // The pod end comes up with its IP context, in the same batch.
  const made = createVethPair({ hostName, peerName: podName, peerNetns: netns, mtu, alias: vethAlias(connId), peerUp: false, offThread });
  made.catch(() => undefined); // awaited (and reported) by whoever finishes or discards it
  return { netns, podName, hostName, url, mtu, made };
}

/**
 * The client side's pair, started while the Request goes on to the endpoint: the kernel makes it on
 * a threadpool thread while this thread and the rest of the path work, instead of after the answer.
 * Undefined when the mechanism is unusable (plugVeth reports that after the answer, as before).
 */
function startEarly(req: NetworkServiceRequest): Pair | undefined {
  const c = req.connection;
  if (!c?.mechanism || c.mechanism.type !== MechanismType.KERNEL) return undefined;
  try {
    return startPair(c.mechanism, 'src', c.id, c.context?.MTU || undefined, true);
  } catch {
    return undefined;
  }
}

/** An early pair the answer did not use (the path failed, or it answered another mechanism): it goes. */
async function discard(p: Pair): Promise<void> {
  const pair = await p.made.catch(() => undefined);
  if (pair && !pair.existed) await deleteLinksTogether(undefined, [p.hostName]).catch(() => undefined);
}

/**
 * Makes (or finishes, when `early` was started for the same mechanism) the veth pair of one side.
 * The host end is joined later by the xconnect element. When the connection is `routed` (an L3
 * tunnel on the other side), the pod gets static neighbours for its peer's addresses (the host end's
 * MAC), so that no ARP/ND has to be answered.
 */
async function plugVeth(conn: Connection, mech: Mechanism, side: Side, connId: string, adopt: OvsBridge['adopt'], routed = false, early?: Pair): Promise<PortRecord> {
  const mtu = conn.context?.MTU || undefined;
  let p: Pair;
  if (early && early.url === mech.parameters[Param.inodeURL] && early.podName === mech.parameters[Param.name] && early.hostName === hostIfName(connId, side)) {
    p = early;
  } else {
    if (early) await discard(early);
    p = startPair(mech, side, connId, mtu);
  }
  const { netns, podName, hostName } = p;
  const pair = await p.made;
  if (pair.existed) adopt?.(hostName);
  // The pod's netlink socket is kept while a connection goes into the pod, and closed with the last.
  const letGo = defaultNetlink().hold(netns);
  const release = once(async () => {
    try {
      await deleteLinksTogether(undefined, [hostName]);
    } finally {
      letGo();
    }
  });
  try {
    // The answer changed the MTU after the pair was started: the host end follows (the pod end gets it with its IP context).
    if (mtu !== undefined && mtu !== p.mtu && !pair.existed) await setLink(undefined, hostName, { mtu });
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
    let podIndex: number | undefined;
    if (!pair.existed) {
      const spec = ipSpecFor(side, conn.context);
      // An Ethernet payload with no addresses still gets an interface that is up.
      podIndex = await applyIpContextIndex(netns, podName, conn.payload === Payload.ETHERNET && !spec.addrs?.length ? { up: true } : spec, undefined, pair.peerIndex);
    }
    const settle = pair.existed ? undefined : async () => void (await flushNeighbors(netns, podName, undefined, podIndex));
    return { name: hostName, index: pair.hostIndex, ofport: 0, side, pod: { netns, name: podName }, existed: pair.existed, release, settle };
  } catch (err) {
    await release();
    throw err;
  }
}

export function kernelServer(br: OvsBridge): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const meta = serverMeta(ctx);
      // A first Request: the client's pair is made while the rest of the path works (startEarly).
      const early = meta.get(serverPortKey) ? undefined : startEarly(req);
      let out: Connection;
      try {
        out = await next.request(ctx, req);
      } catch (err) {
        if (early) await discard(early);
        throw err;
      }
      return makeOnce(ctx, next, out, meta, serverPortKey, () => plugVeth(out, out.mechanism!, 'src', out.id, br.adopt, !!meta.get(routedKey), early));
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

async function plugTrunk(br: OvsBridge, trunks: TrunkPorts, mech: Mechanism, vlan: number): Promise<PortRecord> {
  if (br.datapath === 'tc') throw failedPrecondition(`the endpoint answered with VLAN ${vlan} on a trunk, which needs Open vSwitch; this forwarder joins connections in the kernel only (NSM_DATAPATH=tc)`);
  const url = mech.parameters[Param.inodeURL];
  const podName = mech.parameters[Param.name];
  if (!url || !podName) throw invalidArgument(`KERNEL mechanism of the endpoint side has no ${!url ? Param.inodeURL : Param.name} parameter`);
  return trunks.acquire(netnsFromUrl(url), podName, vlan);
}

export function kernelClient(br: OvsBridge): NetworkServiceElement {
  const trunks = new TrunkPorts(br);
  return {
    async request(ctx, req, next) {
      // Our side can trunk (through OVS): an endpoint that terminates VLANs itself may answer with a `vlan` (§4.6).
      if (!req.mechanismPreferences.some((m) => m.type === MechanismType.KERNEL)) {
        const parameters: Record<string, string> = br.datapath === 'tc' ? {} : { [Param.supportsVlan]: 'true' };
        req.mechanismPreferences.push(Mechanism.fromPartial({ cls: MechanismClass.LOCAL, type: MechanismType.KERNEL, parameters }));
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
            meta.set(clientPortKey, await plugTrunk(br, trunks, mech, vlan));
            await had.release();
            return;
          }
          if (had) {
            meta.delete(clientPortKey);
            await had.release();
          }
          meta.set(clientPortKey, vlan ? await plugTrunk(br, trunks, mech, vlan) : await plugVeth(out, mech, 'dst', out.id, br.adopt, !!serverMeta(ctx).get(routedKey)));
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
