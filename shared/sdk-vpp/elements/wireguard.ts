// WIREGUARD remote mechanism in the VPP forwarder (dataplane.md §6), IP payload only. The client half
// makes a fresh Curve25519 key per connection and offers src_public_key/src_ip/src_port; the server
// half answers dst_ip/dst_port, and once the endpoint accepted makes its interface and key (written
// back as dst_public_key) and adds the client's node as peer (allowed IPs: the client's addresses).
// The client half then makes its own interface and adds the server's node as peer (allowed IPs: the
// endpoint's addresses). One interface and key pair per connection, port 51820, keepalive 10 s.
// Close removes the peer and then the interface.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { Connection, Mechanism, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOnce, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { createKey } from '@nsm/sdk/core/context';
import { releaseAll } from './common';
import { clientIfKey, serverIfKey, VppDataplane, VppInterfaceRecord } from './state';

export const WIREGUARD_PORT = 51820;
export const WIREGUARD_KEEPALIVE = 10;

export interface WgKey {
  privateKey: Buffer;
  publicKey: Buffer;
}

export function generateWgKey(): WgKey {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    privateKey: Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'),
    publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'),
  };
}

/** Public key of a raw 32-byte private key. */
export function wgPublicKey(privateKey: Buffer): Buffer {
  const pk = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: privateKey.toString('base64url'), x: '' }, format: 'jwk' });
  return Buffer.from(createPublicKey(pk).export({ format: 'jwk' }).x!, 'base64url');
}

function param(conn: Connection, key: string): string {
  const v = conn.mechanism?.parameters[key];
  if (!v) throw invalidArgument(`WIREGUARD mechanism has no ${key} parameter`);
  return v;
}

function decodeKey(conn: Connection, key: string): Buffer {
  const b = Buffer.from(param(conn, key), 'base64');
  if (b.length !== 32) throw invalidArgument(`WIREGUARD ${key} is not a base64 32-byte key`);
  return b;
}

async function wgInterface(dp: VppDataplane, key: WgKey, local: { ip: string; port: number }, peer: { key: Buffer; ip: string; port: number; allowed: string[] }): Promise<VppInterfaceRecord> {
  const { api } = dp;
  const sw = await api.wireguardInterfaceCreate({ privateKey: key.privateKey, port: local.port, srcIp: local.ip });
  let peerIndex: number | undefined;
  const rec: VppInterfaceRecord = {
    swIfIndex: sw,
    l3: true,
    describe: `wireguard ${local.ip}:${local.port} peer ${peer.ip}:${peer.port}`,
    release: () =>
      releaseAll(rec.describe, [
        async () => peerIndex !== undefined && api.wireguardPeerRemove(peerIndex),
        () => api.setInterfaceState(sw, false),
        () => api.wireguardInterfaceDelete(sw),
      ]),
  };
  try {
    peerIndex = await api.wireguardPeerAdd({ swIfIndex: sw, publicKey: peer.key, endpoint: peer.ip, port: peer.port, persistentKeepalive: WIREGUARD_KEEPALIVE, allowedIps: peer.allowed });
    await api.setInterfaceState(sw, true);
  } catch (err) {
    await rec.release();
    throw err;
  }
  return rec;
}

/** Server half (under the mechanisms switch for WIREGUARD). */
export function wireguardServer(dp: VppDataplane): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const p = req.connection!.mechanism!.parameters;
      p[Param.dstIp] = dp.tunnelIp;
      p[Param.dstPort] = String(WIREGUARD_PORT);
      const out = await next.request(ctx, req);
      return makeOnce(ctx, next, out, serverMeta(ctx), serverIfKey, async () => {
        const key = generateWgKey();
        const rec = await wgInterface(dp, key, { ip: dp.tunnelIp, port: WIREGUARD_PORT }, {
          key: decodeKey(out, Param.srcPublicKey),
          ip: param(out, Param.srcIp),
          port: Number(param(out, Param.srcPort)),
          allowed: out.context?.ipContext?.srcIpAddrs ?? [],
        });
        out.mechanism!.parameters[Param.dstPublicKey] = key.publicKey.toString('base64');
        return rec;
      });
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, serverMeta(ctx).take(serverIfKey));
    },
  };
}

const keyOfConn = createKey<WgKey>('vpp.wireguardClientKey');

/** Client half: offers WIREGUARD for IP payload with a fresh key; builds its end after the answer. */
export function wireguardClient(dp: VppDataplane): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const meta = clientMeta(ctx);
      const key = meta.get(keyOfConn) ?? generateWgKey();
      meta.set(keyOfConn, key);
      if (req.connection?.payload === Payload.IP && !req.mechanismPreferences.some((m) => m.type === MechanismType.WIREGUARD)) {
        req.mechanismPreferences.push(
          Mechanism.fromPartial({
            cls: MechanismClass.REMOTE,
            type: MechanismType.WIREGUARD,
            parameters: { [Param.srcIp]: dp.tunnelIp, [Param.srcPort]: String(WIREGUARD_PORT), [Param.srcPublicKey]: key.publicKey.toString('base64') },
          }),
        );
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.WIREGUARD) return out;
      return makeOnce(ctx, next, out, meta, clientIfKey, () =>
        wgInterface(dp, key, { ip: dp.tunnelIp, port: WIREGUARD_PORT }, {
          key: decodeKey(out, Param.dstPublicKey),
          ip: param(out, Param.dstIp),
          port: Number(param(out, Param.dstPort)),
          allowed: out.context?.ipContext?.dstIpAddrs ?? [],
        }),
      );
    },
    async close(ctx, conn, next) {
      const meta = clientMeta(ctx);
      const rec = meta.take(clientIfKey);
      meta.take(keyOfConn);
      await closeThenRelease(ctx, next, conn, rec);
    },
  };
}
