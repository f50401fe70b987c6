// VXLAN remote mechanism in the VPP forwarder (dataplane.md §5). The client half offers VXLAN for
// Ethernet payload with src_ip = this node's tunnel IP and src_port = the configured port; the server
// half answers dst_ip/dst_port and picks the VNI (odd or even by which IP is smaller, so the two
// directions between two nodes never collide). Each side then makes one tunnel per connection with
// both UDP ports set to its own configured port, and Close deletes it after the path is closed.
import { randomInt } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { Connection, Mechanism, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOnce, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { ip4Bytes, ip6Bytes } from '../addresses';
import { releaseAll } from './common';
import { clientIfKey, serverIfKey, VppDataplane, VppInterfaceRecord } from './state';

export const DEFAULT_VXLAN_PORT = 4789;

/** 16-byte form (IPv4 mapped as ::ffff:a.b.c.d) for the byte-wise comparison of the VNI rule. */
const ip16 = (ip: string) => (isIPv4(ip) ? Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), ip4Bytes(ip)]) : ip6Bytes(ip));

async function tunnel(dp: VppDataplane, local: string, remote: string, vni: number, port: number): Promise<VppInterfaceRecord> {
  const t = { src: local, dst: remote, vni, srcPort: port, dstPort: port };
  const sw = await dp.api.vxlanTunnel(t, true);
  const rec: VppInterfaceRecord = {
    swIfIndex: sw,
    // Ethernet inside: an IP connection from an OVS node (always VXLAN) resolves addresses across it.
    l2Path: true,
    describe: `vxlan ${local}->${remote} vni ${vni}`,
    release: () => releaseAll(rec.describe, [() => dp.api.setInterfaceState(sw, false), () => dp.api.vxlanTunnel(t, false)]),
  };
  try {
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

/** Server half (under the mechanisms switch for VXLAN). */
export function vxlanServer(dp: VppDataplane, port = DEFAULT_VXLAN_PORT): NetworkServiceElement {
  const used = new Set<string>();
  return {
    async request(ctx, req, next) {
      const mech = req.connection!.mechanism!;
      const p = mech.parameters;
      p[Param.dstIp] = dp.tunnelIp;
      p[Param.dstPort] = String(port);
      if (!(Number(p[Param.vni]) > 0 && p[Param.srcIp])) {
        const src = ip16(p[Param.origSrcIp] || param(req.connection!, Param.srcIp));
        const dst = ip16(p[Param.origDstIp] || dp.tunnelIp);
        const odd = Buffer.compare(src, dst) > 0 ? 1 : 0;
        let vni: number;
        do vni = (2 * randomInt(0, 0x800000) + odd) & 0xffffff;
        while (vni === 0 || used.has(`${p[Param.srcIp]}/${vni}`));
        p[Param.vni] = String(vni);
      }
      const out = await next.request(ctx, req);
      return makeOnce(ctx, next, out, serverMeta(ctx), serverIfKey, async () => {
        const vni = Number(param(out, Param.vni));
        const rec = await tunnel(dp, dp.tunnelIp, param(out, Param.srcIp), vni, port);
        used.add(`${param(out, Param.srcIp)}/${vni}`);
        return rec;
      });
    },
    async close(ctx, conn, next) {
      const rec = serverMeta(ctx).take(serverIfKey);
      await closeThenRelease(ctx, next, conn, async () => {
        if (rec) used.delete(`${conn.mechanism?.parameters[Param.srcIp]}/${conn.mechanism?.parameters[Param.vni]}`);
        await rec?.release();
      });
    },
  };
}

/** Client half: offers VXLAN for Ethernet payload; builds its end once the remote side answered. */
export function vxlanClient(dp: VppDataplane, port = DEFAULT_VXLAN_PORT): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const payload = req.connection?.payload;
      if ((payload === Payload.ETHERNET || !payload) && !req.mechanismPreferences.some((m) => m.type === MechanismType.VXLAN)) {
        req.mechanismPreferences.push(
          Mechanism.fromPartial({ cls: MechanismClass.REMOTE, type: MechanismType.VXLAN, parameters: { [Param.srcIp]: dp.tunnelIp, [Param.srcPort]: String(port) } }),
        );
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.VXLAN) return out;
      return makeOnce(ctx, next, out, clientMeta(ctx), clientIfKey, () => tunnel(dp, dp.tunnelIp, param(out, Param.dstIp), Number(param(out, Param.vni)), port));
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, clientMeta(ctx).take(clientIfKey));
    },
  };
}
