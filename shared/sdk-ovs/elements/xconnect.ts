// The cross-connect: joins the two devices the mechanism elements made, one of three ways.
//  * tc: both sides are plain kernel devices (veth host ends, VXLAN devices) and NSM_DATAPATH is
//    auto or tc: a tc redirect each way between them (sdk-kernel/netlink/tc.ts). Frames never leave
//    the kernel: a vWire runs at veth speed, offloads stay on, the first packet passes at once.
//  * ovs: a side is a bridge port shared with other connections (a VLAN trunk toward an endpoint,
//    the VLAN breakout uplink), or NSM_DATAPATH=ovs: the devices become OVS ports (added here, in one
//    transaction) and two OpenFlow rules join them under a cookie derived from the connection; the
//    pod ends stop offloading (the userspace datapath needs it, see sdk-kernel/ethtool.ts).
//  * routed: a side is an L3 device (WireGuard): kernel policy routing between the veth and the
//    tunnel (routing.ts), whatever NSM_DATAPATH says.
// Which one a connection took is logged (`datapath`) when it is made.
import type { Connection } from '@nsm/api';
import { Context, createKey } from '@nsm/sdk/core/context';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { failedPrecondition, internal } from '@nsm/sdk/core/errors';
import { makeOrUndo, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { disableOffloads } from '@nsm/sdk-kernel';
import { addRedirects, removeRedirects } from '@nsm/sdk-kernel/netlink';
import { log } from '@nsm/sdk/log';
import { crossConnectFlows, flowCookie, vlanFlows } from '../flows';
import { addRouted, allocTable, delRouted, freeTable } from './routing';
import { clientPortKey, ConnectionPath, DatapathMode, EXT_CONN, EXT_SIDE, OvsBridge, PortRecord, serverPortKey } from './state';

/** What was made, for which two sides (the records themselves: a side remade under the same name is another). */
type Made = { a: PortRecord; b: PortRecord } & (
  | { kind: 'ovs'; cookie: string; vlan?: number; ports: string[]; undo?: () => Promise<void> }
  | { kind: 'tc' }
  | { kind: 'routed'; table: number; veth: string; tunnel: string; sig: string }
);
const madeKey = createKey<Made>('ovs.xconnect');

/** What a side needs Open vSwitch for, if anything (a bridge port it shares with other connections). */
function ovsOnly(p: PortRecord): string | undefined {
  if (p.crossConnect) return `${p.name} is a VLAN breakout uplink`;
  if (p.vlan !== undefined) return `${p.name} is a VLAN trunk`;
  if (p.ofport > 0) return `${p.name} is a shared bridge port`;
  return undefined;
}

/** Which way two sides are joined under `mode` (see the header); FAILED_PRECONDITION when tc cannot do it. */
export function choosePath(mode: DatapathMode, a: PortRecord, b: PortRecord): ConnectionPath {
  if (a.routed || b.routed) return 'routed';
  const why = ovsOnly(a) ?? ovsOnly(b);
  if (why) {
    if (mode === 'tc') throw failedPrecondition(`this connection needs Open vSwitch (${why}), and this forwarder joins connections in the kernel only (NSM_DATAPATH=tc)`);
    return 'ovs';
  }
  return mode === 'ovs' ? 'ovs' : 'tc';
}

/** Undoes the join; `closing`: the devices go right after, and a tc join goes with them. */
async function unmake(br: OvsBridge, m: Made | undefined, closing = false): Promise<void> {
  if (!m) return;
  if (m.kind === 'ovs') {
    if (m.undo) await m.undo();
    else await br.ovs.delFlows(br.bridge, { cookie: m.cookie });
    if (m.ports.length) await br.ovs.delPorts(br.bridge, m.ports);
  } else if (m.kind === 'tc') {
    // A refresh that changed one side keeps the other device: its redirect must go.
    if (!closing) await removeRedirects(undefined, [m.a.name, m.b.name]);
  } else {
    await delRouted({ table: m.table, veth: m.veth, tunnel: m.tunnel });
    freeTable(m.table);
  }
}

/** The veth side's pod addresses: the caller's (src) for the server half, the endpoint's (dst) for the client half. */
function routedSpec(conn: Connection, a: PortRecord, b: PortRecord) {
  const vethIsA = !!a.routed?.podMac;
  const veth = vethIsA ? a : b;
  const tunnel = vethIsA ? b : a;
  if (!veth.routed?.podMac) throw internal('cannot cross-connect two routed tunnel devices');
  const ipc = conn.context?.ipContext;
  const podAddrs = (vethIsA ? ipc?.srcIpAddrs : ipc?.dstIpAddrs) ?? [];
  return { veth: veth.name, tunnel: tunnel.name, podMac: veth.routed.podMac, podAddrs };
}

/**
 * Rules whose match other connections used before with other outputs (a VLAN from the uplink or a
 * trunk: same port, same tag): the datapath's cached flows follow them only once OVS's revalidators
 * have run, and a frame in between (the first ARP reply) goes to the old port. Waits for that, at
 * most REVALIDATE_WAIT_MS: the pass our change started takes a few milliseconds, and when it has
 * already ended before we ask, revalidator/wait would wait for the next periodic pass (up to half a
 * second here) for nothing. A failure only costs that frame (and the kernel's one-second ARP retry),
 * so it is logged.
 */
const REVALIDATE_WAIT_MS = 25;

async function revalidated(br: OvsBridge): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const capped = new Promise<void>((r) => (timer = setTimeout(r, REVALIDATE_WAIT_MS)));
  const wait = br.ovs.waitDatapathRevalidated().catch((err) => log.warn({ err: String(err) }, 'waiting for the datapath to follow the new rules failed'));
  await Promise.race([wait, capped]);
  clearTimeout(timer);
}

/** Lets both pods resolve their peers at once (PortRecord.settle); a failure only costs that second. */
async function settle(a: PortRecord, b: PortRecord): Promise<void> {
  await Promise.all([a.settle?.(), b.settle?.()]).catch((err) => log.debug({ err: String(err) }, 'clearing neighbour entries failed'));
}

/** The ports of both sides, which the mechanism elements made further down the chain. */
function bothSides(ctx: Context): [PortRecord, PortRecord] {
  const a = serverMeta(ctx).get(serverPortKey);
  const b = clientMeta(ctx).get(clientPortKey);
  if (!a || !b) throw internal(`cannot cross-connect: ${!a ? 'caller' : 'next hop'} side has no port`);
  return [a, b];
}


async function joinRouted(conn: Connection, a: PortRecord, b: PortRecord): Promise<Made> {
  const spec = routedSpec(conn, a, b);
  const table = allocTable();
  try {
    await addRouted({ table, ...spec });
  } catch (e) {
    await delRouted({ table, veth: spec.veth, tunnel: spec.tunnel }).catch(() => undefined);
    freeTable(table);
    throw e;
  }
  return { kind: 'routed', table, a, b, veth: spec.veth, tunnel: spec.tunnel, sig: routedSig(spec) };
}

const routedSig = (s: ReturnType<typeof routedSpec>) => `${s.veth} ${s.tunnel} ${s.podMac} ${s.podAddrs.join(',')}`;

async function joinTc(br: OvsBridge, connId: string, a: PortRecord, b: PortRecord): Promise<Made> {
  // Adopted devices of a predecessor that ran with NSM_DATAPATH=ovs are still bridge ports: leave OVS first.
  const adopted = [a, b].filter((p) => p.existed).map((p) => p.name);
  if (adopted.length) {
    await br.ovs.delFlows(br.bridge, { cookie: flowCookie(connId) }).catch(() => undefined);
    await br.ovs.delPorts(br.bridge, adopted).catch(() => undefined);
  }
  const known = new Map([a, b].flatMap((p) => (p.index ? [[p.name, p.index] as const] : [])));
  await addRedirects(
    undefined,
    [
      { from: a.name, to: b.name },
      { from: b.name, to: a.name },
    ],
    undefined,
    known,
  );
  return { kind: 'tc', a, b };
}

async function joinOvs(br: OvsBridge, connId: string, a: PortRecord, b: PortRecord): Promise<Made> {
  const cookie = flowCookie(connId);
  // Adopted devices of a predecessor that joined them in the kernel: their redirects go first.
  const adopted = [a, b].filter((p) => p.existed).map((p) => p.name);
  if (adopted.length) await removeRedirects(undefined, adopted).catch(() => undefined);
  const own = [a, b].filter((p) => p.ofport === 0);
  await Promise.all(own.flatMap((p) => (p.pod && !p.existed ? [disableOffloads(p.pod.netns, p.pod.name)] : [])));
  const ofports = own.length ? await br.ovs.addPorts(br.bridge, own.map((p) => ({ name: p.name, externalIds: { [EXT_CONN]: connId, [EXT_SIDE]: p.side ?? '' } }))) : {};
  const port = (p: PortRecord) => p.ofport || ofports[p.name];
  const ports = own.map((p) => p.name);
  try {
    if (b.crossConnect) {
      // A port shared by several connections knows how to join them itself.
      const undo = await b.crossConnect(port(a), cookie);
      await revalidated(br);
      return { kind: 'ovs', cookie, a, b, vlan: b.vlan, ports, undo };
    }
    // A next hop on a trunk (VLAN trunking to an endpoint): tag toward it, untag from it.
    await br.ovs.addFlows(br.bridge, b.vlan ? vlanFlows(port(b), port(a), b.vlan, cookie) : crossConnectFlows(port(a), port(b), cookie));
    if (b.vlan) await revalidated(br);
    return { kind: 'ovs', cookie, a, b, vlan: b.vlan, ports };
  } catch (e) {
    if (ports.length) await br.ovs.delPorts(br.bridge, ports).catch(() => undefined);
    throw e;
  }
}

/** Whether what was made for the previous request still joins these two sides the same way. */
function unchanged(prev: Made | undefined, path: ConnectionPath, conn: Connection, a: PortRecord, b: PortRecord): boolean {
  if (!prev || prev.kind !== path || prev.a !== a || prev.b !== b) return false;
  if (prev.kind === 'ovs') return prev.vlan === b.vlan;
  if (prev.kind === 'routed') return prev.sig === routedSig(routedSpec(conn, a, b));
  return true;
}

export function xconnect(br: OvsBridge): NetworkServiceElement {
  const mode = br.datapath ?? 'auto';
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      const [a, b] = await makeOrUndo(ctx, next, out, async () => bothSides(ctx));
      const prev = serverMeta(ctx).get(madeKey);
      // A refresh that fails keeps the path it had (the client's heal or the expiry deals with it).
      await makeOrUndo(
        ctx,
        next,
        out,
        async () => {
          const path = choosePath(mode, a, b);
          if (unchanged(prev, path, out, a, b)) return;
          await unmake(br, prev);
          serverMeta(ctx).delete(madeKey);
          const made = path === 'routed' ? await joinRouted(out, a, b) : path === 'tc' ? await joinTc(br, out.id, a, b) : await joinOvs(br, out.id, a, b);
          serverMeta(ctx).set(madeKey, made);
          log.info({ id: out.id, datapath: path, a: a.name, b: b.name, adopted: !!(a.existed || b.existed) }, 'cross-connect made');
          if (path !== 'routed') await settle(a, b);
        },
        { undo: !prev },
      );
      return out;
    },
    async close(ctx, conn, next) {
      const m = serverMeta(ctx).take(madeKey);
      await unmake(br, m, true).catch((err) => log.warn({ id: conn.id, err: String(err) }, 'removing the cross-connect failed'));
      // Both sides' devices go now, together (one kernel batch, sdk-kernel deleteLinksTogether), while
      // the Close goes on downstream; the mechanism elements' own release after it is the same one.
      const released = m ? Promise.all([m.a.release(), m.b.release()]).catch((err) => log.warn({ id: conn.id, err: String(err) }, 'releasing the devices failed')) : undefined;
      try {
        return await next.close(ctx, conn);
      } finally {
        await released;
      }
    },
  };
}
