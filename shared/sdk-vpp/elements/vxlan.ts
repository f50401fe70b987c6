// VXLAN remote mechanism in the VPP forwarder (dataplane.md §5). The client half offers VXLAN for
// Ethernet payload with src_ip = this node's tunnel IP, src_port = the configured port and the MTU its
// uplink leaves; the server half answers dst_ip/dst_port, picks the VNI (odd or even by which IP is
// smaller, so the two directions between two nodes never collide) and lowers the MTU to its own. Each
// side then makes one tunnel per connection with both UDP ports set to its own configured port, so
// the two nodes must agree on it (a mismatch is refused by name, as the OVS forwarder does: the same
// wire format, so an OVS node and a VPP node meet on VXLAN). A refresh naming another peer or VNI (the
// other forwarder restarted) makes the tunnel again. Close deletes it after the path is closed.
import { randomInt } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { Connection, Mechanism, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { failedPrecondition, invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOrUndo, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { ip4Bytes, ip6Bytes } from '../addresses';
import { connTag, makeForSig, releaseAll } from './common';
import { clampContextMtu, clampMtu, tunnelMtu, VXLAN_OVERHEAD } from './mtu';
import { clientIfKey, serverIfKey, VppDataplane, VppInterfaceRecord } from './state';

export const DEFAULT_VXLAN_PORT = 4789;

/** 16-byte form (IPv4 mapped as ::ffff:a.b.c.d) for the byte-wise comparison of the VNI rule. */
const ip16 = (ip: string) => (isIPv4(ip) ? Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), ip4Bytes(ip)]) : ip6Bytes(ip));

async function tunnel(dp: VppDataplane, connId: string, remote: string, vni: number, port: number): Promise<VppInterfaceRecord> {
  const t = { src: dp.tunnelIp, dst: remote, vni, srcPort: port, dstPort: port };
  const sw = await dp.api.vxlanTunnel(t, true);
  const rec: VppInterfaceRecord = {
    swIfIndex: sw,
    // Ethernet inside: an IP connection from an OVS node (always VXLAN) resolves addresses across it.
    l2Path: true,
    describe: `vxlan ${dp.tunnelIp}->${remote} vni ${vni}`,
    release: () => releaseAll(rec.describe, [() => dp.api.setInterfaceState(sw, false), () => dp.api.vxlanTunnel(t, false)]),
  };
  try {
    await dp.api.tagInterface(sw, connTag(connId));
    await dp.api.setInterfaceState(sw, true);
  } catch (err) {
    await rec.release();
    throw err;
  }
  return rec;
}

function param(conn: Connection, key: string): string {
  const v = conn.mechanism?.parameters[key];
  if (!v) throw invalidArgument(`VXLAN mechanism has no ${key} parameter`);
  return v;
}

function vniOf(conn: Connection): number {
  const raw = param(conn, Param.vni);
  const vni = Number(raw);
  if (!/^\d+$/.test(raw) || vni < 1 || vni > 0xffffff) throw invalidArgument(`VXLAN ${Param.vni} "${raw}" is not a VNI (1-16777215)`);
  return vni;
}

function remoteIp(conn: Connection, key: string): string {
  const ip = param(conn, key);
  if (!(isIPv4(ip) || /^[0-9a-f:]+$/i.test(ip))) throw invalidArgument(`VXLAN ${key} "${ip}" is not an IP address`);
  return ip;
}

function samePort(conn: Connection, key: string, port: number, dp: VppDataplane, who: string): void {
  const theirs = Number(conn.mechanism?.parameters[key] || DEFAULT_VXLAN_PORT);
  if (theirs !== port) {
    throw failedPrecondition(`VXLAN port mismatch: ${who} ${conn.mechanism?.parameters[key === Param.srcPort ? Param.srcIp : Param.dstIp]} uses UDP port ${theirs}, this node (${dp.tunnelIp}) uses ${port}; set the same NSM_VXLAN_PORT on both`);
  }
}

/** Server half (under the mechanisms switch for VXLAN). */
export function vxlanServer(dp: VppDataplane, port = DEFAULT_VXLAN_PORT): NetworkServiceElement {
  const used = new Set<string>();
  const max = tunnelMtu(dp, VXLAN_OVERHEAD);
  return {
    async request(ctx, req, next) {
      const conn = req.connection!;
      const mech = conn.mechanism!;
      const p = mech.parameters;
      samePort(conn, Param.srcPort, port, dp, 'the requesting node');
      p[Param.dstIp] = dp.tunnelIp;
      p[Param.dstPort] = String(port);
      if (!(Number(p[Param.vni]) > 0 && p[Param.srcIp])) {
        const src = ip16(p[Param.origSrcIp] || remoteIp(conn, Param.srcIp));
        const dst = ip16(p[Param.origDstIp] || dp.tunnelIp);
        const odd = Buffer.compare(src, dst) > 0 ? 1 : 0;
        let vni: number;
        do vni = (2 * randomInt(0, 0x800000) + odd) & 0xffffff;
        while (vni === 0 || used.has(`${p[Param.srcIp]}/${vni}`));
        p[Param.vni] = String(vni);
      }
      const mtu = clampMtu(conn, mech, max);
      const out = await next.request(ctx, req);
      if (out.mechanism) Object.assign(out.mechanism.parameters, { [Param.dstIp]: dp.tunnelIp, [Param.dstPort]: String(port), [Param.vni]: p[Param.vni], [Param.mtu]: String(mtu) });
      clampContextMtu(out, mtu);
      const [remote, vni] = await makeOrUndo(ctx, next, out, async () => [remoteIp(out, Param.srcIp), vniOf(out)] as const);
      const key = `${remote}/${vni}`;
      const prev = serverMeta(ctx).get(serverIfKey);
      return makeForSig(ctx, next, out, serverMeta(ctx), serverIfKey, key, async () => {
        if (prev?.sig) used.delete(prev.sig);
        const rec = await tunnel(dp, out.id, remote, vni, port);
        used.add(key);
        return rec;
      });
    },
    async close(ctx, conn, next) {
      const rec = serverMeta(ctx).take(serverIfKey);
      await closeThenRelease(ctx, next, conn, async () => {
        if (rec?.sig) used.delete(rec.sig);
        await rec?.release();
      });
    },
  };
}

/** Client half: offers VXLAN for Ethernet payload; builds its end once the remote side answered. */
export function vxlanClient(dp: VppDataplane, port = DEFAULT_VXLAN_PORT): NetworkServiceElement {
  const max = tunnelMtu(dp, VXLAN_OVERHEAD);
  return {
    async request(ctx, req, next) {
      const payload = req.connection?.payload;
      if ((payload === Payload.ETHERNET || !payload) && !req.mechanismPreferences.some((m) => m.type === MechanismType.VXLAN)) {
        req.mechanismPreferences.push(
          Mechanism.fromPartial({ cls: MechanismClass.REMOTE, type: MechanismType.VXLAN, parameters: { [Param.srcIp]: dp.tunnelIp, [Param.srcPort]: String(port), [Param.mtu]: String(max) } }),
        );
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.VXLAN) return out;
      clampContextMtu(out, Math.min(Number(out.mechanism.parameters[Param.mtu]) || max, max));
      const [remote, vni] = await makeOrUndo(ctx, next, out, async () => {
        samePort(out, Param.dstPort, port, dp, 'the answering node');
        return [remoteIp(out, Param.dstIp), vniOf(out)] as const;
      });
      return makeForSig(ctx, next, out, clientMeta(ctx), clientIfKey, `${remote}/${vni}`, () => tunnel(dp, out.id, remote, vni, port));
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, clientMeta(ctx).take(clientIfKey));
    },
  };
}
