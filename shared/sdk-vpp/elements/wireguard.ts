// WIREGUARD remote mechanism in the VPP forwarder (dataplane.md §6), IP payload only. The client half
// makes a fresh Curve25519 key per connection and offers src_public_key/src_ip/src_port and the MTU
// its uplink leaves (80 bytes of headers); the server half answers dst_ip/dst_port and its MTU, and
// once the endpoint accepted makes its interface and key (written back as dst_public_key) and adds the
// client's node as peer (allowed IPs: the client's addresses). The client half then makes its own
// interface, adds the server's node as peer (allowed IPs: the endpoint's addresses) and waits, bounded,
// until VPP reports the handshake done, as upstream does. One interface and key pair per connection,
// port 51820 on every interface (VPP tells them apart by key), keepalive 10 s. A refresh naming
// another peer key or endpoint (the other forwarder restarted) makes the interface again. Close
// removes the peer and then the interface.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { Connection, Mechanism, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { isIPv4, isIPv6 } from 'node:net';
import { invalidArgument, unavailable } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOrUndo, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { createKey } from '@nsm/sdk/core/context';
import { WIREGUARD_PEER_ESTABLISHED } from '../api';
import { connTag, makeForSig, releaseAll } from './common';
import { clampContextMtu, clampMtu, tunnelMtu, WIREGUARD_OVERHEAD } from './mtu';
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

export interface WireguardOptions {
  /** How long the requesting side waits for VPP to report the handshake done before failing the
   *  Request (upstream waits for the peer's ESTABLISHED event); 0: do not wait. Default 5 s. */
  handshakeTimeoutMs?: number;
}

interface Peer {
  key: Buffer;
  ip: string;
  port: number;
  allowed: string[];
}

const peerSig = (p: Peer) => `${p.key.toString('base64')} ${p.ip}:${p.port} ${p.allowed.join(',')}`;

/** Polls VPP until the peer's handshake is done (ESTABLISHED), or fails after `timeoutMs`. */
async function waitHandshake(dp: VppDataplane, peerIndex: number, peer: Peer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = (await dp.api.wireguardPeersDump()).find((x) => x.peerIndex === peerIndex);
    if (p && (p.flags ?? 0) & WIREGUARD_PEER_ESTABLISHED) return;
    if (Date.now() >= deadline) throw unavailable(`no WireGuard handshake with ${peer.ip}:${peer.port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function wgInterface(dp: VppDataplane, connId: string, key: WgKey, mtu: number, peer: Peer, handshakeMs = 0): Promise<VppInterfaceRecord> {
  const { api } = dp;
  const local = { ip: dp.tunnelIp, port: WIREGUARD_PORT };
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
    await api.tagInterface(sw, connTag(connId));
    await api.setMtu(sw, [mtu, 0, 0, 0]);
    peerIndex = await api.wireguardPeerAdd({ swIfIndex: sw, publicKey: peer.key, endpoint: peer.ip, port: peer.port, persistentKeepalive: WIREGUARD_KEEPALIVE, allowedIps: peer.allowed });
    await api.setInterfaceState(sw, true);
    if (handshakeMs > 0) await waitHandshake(dp, peerIndex, peer, handshakeMs);
  } catch (err) {
    await rec.release();
    throw err;
  }
  return rec;
}

function peerOf(conn: Connection, side: 'src' | 'dst'): Peer {
  const p = conn.mechanism!.parameters;
  const ip = param(conn, side === 'src' ? Param.srcIp : Param.dstIp);
  if (!(isIPv4(ip) || isIPv6(ip))) throw invalidArgument(`WIREGUARD ${side}_ip "${ip}" is not an IP address`);
  const rawPort = param(conn, side === 'src' ? Param.srcPort : Param.dstPort);
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) throw invalidArgument(`WIREGUARD ${side}_port "${p[side === 'src' ? Param.srcPort : Param.dstPort]}" is not a UDP port`);
  const ipc = conn.context?.ipContext;
  return { key: decodeKey(conn, side === 'src' ? Param.srcPublicKey : Param.dstPublicKey), ip, port, allowed: (side === 'src' ? ipc?.srcIpAddrs : ipc?.dstIpAddrs) ?? [] };
}

const serverKeyOf = createKey<WgKey>('vpp.wireguardServerKey');

/** Server half (under the mechanisms switch for WIREGUARD). */
export function wireguardServer(dp: VppDataplane): NetworkServiceElement {
  const max = tunnelMtu(dp, WIREGUARD_OVERHEAD);
  return {
    async request(ctx, req, next) {
      const conn = req.connection!;
      const mech = conn.mechanism!;
      // The requester's side first: a bad key or address is refused before anything downstream.
      const theirs = peerOf(conn, 'src');
      mech.parameters[Param.dstIp] = dp.tunnelIp;
      mech.parameters[Param.dstPort] = String(WIREGUARD_PORT);
      const mtu = clampMtu(conn, mech, max);
      const out = await next.request(ctx, req);
      clampContextMtu(out, mtu);
      const meta = serverMeta(ctx);
      const peer = { ...theirs, allowed: out.context?.ipContext?.srcIpAddrs ?? [] };
      await makeForSig(ctx, next, out, meta, serverIfKey, peerSig(peer), async () => {
        const key = generateWgKey();
        const rec = await wgInterface(dp, out.id, key, mtu, peer);
        meta.set(serverKeyOf, key);
        return rec;
      });
      Object.assign(out.mechanism!.parameters, {
        [Param.dstIp]: dp.tunnelIp,
        [Param.dstPort]: String(WIREGUARD_PORT),
        [Param.dstPublicKey]: meta.get(serverKeyOf)!.publicKey.toString('base64'),
        [Param.mtu]: String(mtu),
      });
      return out;
    },
    async close(ctx, conn, next) {
      serverMeta(ctx).take(serverKeyOf);
      await closeThenRelease(ctx, next, conn, serverMeta(ctx).take(serverIfKey));
    },
  };
}

const keyOfConn = createKey<WgKey>('vpp.wireguardClientKey');

/** Client half: offers WIREGUARD for IP payload with a fresh key; builds its end after the answer and
 *  waits for the handshake. */
export function wireguardClient(dp: VppDataplane, o: WireguardOptions = {}): NetworkServiceElement {
  const max = tunnelMtu(dp, WIREGUARD_OVERHEAD);
  const handshakeMs = o.handshakeTimeoutMs ?? 5000;
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
            parameters: { [Param.srcIp]: dp.tunnelIp, [Param.srcPort]: String(WIREGUARD_PORT), [Param.srcPublicKey]: key.publicKey.toString('base64'), [Param.mtu]: String(max) },
          }),
        );
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.WIREGUARD) return out;
      const mtu = Math.min(Number(out.mechanism.parameters[Param.mtu]) || max, max);
      clampContextMtu(out, mtu);
      const peer = await makeOrUndo(ctx, next, out, async () => peerOf(out, 'dst'));
      return makeForSig(ctx, next, out, meta, clientIfKey, peerSig(peer), () => wgInterface(dp, out.id, key, mtu, peer, handshakeMs));
    },
    async close(ctx, conn, next) {
      const meta = clientMeta(ctx);
      const rec = meta.take(clientIfKey);
      meta.take(keyOfConn);
      await closeThenRelease(ctx, next, conn, rec);
    },
  };
}
