// WIREGUARD remote mechanism (dataplane.md §6) with wireguard-go: one device per connection and side,
// with its own X25519 key pair (reused across refreshes) and its own UDP port (from the configured
// base, 51820, upward: wireguard-go devices cannot share a port). One peer per device: the other
// side's key, endpoint and the pod /32s (/128s) as allowed IPs, keepalive 10 s. WireGuard carries IP
// only, so the cross-connect with the local veth is L3 routing in the node's kernel (routing.ts):
// the element marks the connection `routed`, and the kernel elements keep their veth out of OVS.
//
// Client side (payload IP only): offers WIREGUARD first with src_ip/src_port/src_public_key/MTU;
// when selected, creates its device, sets the peer and waits for the handshake before answering.
// Server side: sets dst_ip/dst_port, lowers MTU, forwards, then creates its device, sets the peer
// and returns dst_public_key.
import { Mechanism, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { createKey } from '@nsm/sdk/core/context';
import { invalidArgument, resourceExhausted, unavailable } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOrUndo, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { clientUrlKey } from '@nsm/sdk/elements/clienturl';
import { isUnixUrl } from '@nsm/sdk/grpc/urls';
import { deriveIfName } from '@nsm/sdk-kernel';
import { generateKeyPair, keyToHex, WgDevice, WgKeyPair } from '@nsm/sdk-wireguard';
import { log } from '@nsm/sdk/log';
import { clientPortKey, once, PortRecord, routedKey, serverPortKey } from './state';
import { clampContextMtu, clampMtu, hostPort, hostPrefixes, TunnelOptions } from './tunnel';

export const WG_OVERHEAD = 80;
export const WG_DEV_PREFIX = 'nsmwg';
export const WG_KEEPALIVE_SEC = 10;

export interface WireguardOptions extends TunnelOptions {
  /** First UDP port for devices (default 51820). */
  basePort: number;
  /** How long the client side waits for the handshake before failing the Request. */
  handshakeTimeoutMs?: number;
}

/** Per-forwarder UDP port pool. */
export class PortPool {
  private readonly used = new Set<number>();
  constructor(private readonly base: number) {}
  take(): number {
    for (let p = this.base; p < 65536; p++) {
      if (!this.used.has(p)) {
        this.used.add(p);
        return p;
      }
    }
    throw resourceExhausted('no free WireGuard port');
  }
  give(p: number): void {
    this.used.delete(p);
  }
}

interface Side {
  ifName: string;
  keys: WgKeyPair;
  port: number;
  dev?: WgDevice;
  /** Peer as last configured: "key endpoint allowed". */
  peer?: string;
  record?: PortRecord;
}

const clientWgKey = createKey<Side>('ovs.wg.client');
const serverWgKey = createKey<Side>('ovs.wg.server');

/** Device names go into /var/run/wireguard, which every node on one host shares: the tunnel IP is part of the hash. */
export const wgDevName = (tunnelIp: string, connId: string, side: 'src' | 'dst') => deriveIfName(`${WG_DEV_PREFIX}${side === 'src' ? 's' : 'd'}`, `${tunnelIp}/${connId}`);

async function releaseSide(s: Side, ports: PortPool): Promise<void> {
  try {
    await s.dev?.stop();
  } finally {
    ports.give(s.port);
  }
}

async function ensureDevice(s: Side, mtu: number, peer: { publicKey: string; endpoint: string; allowedIps: string[] }, ports: PortPool): Promise<PortRecord> {
  if (!s.dev) s.dev = await WgDevice.start({ ifName: s.ifName, privateKey: s.keys.privateKey, listenPort: s.port, mtu });
  const sig = `${peer.publicKey} ${peer.endpoint} ${peer.allowedIps.join(',')}`;
  if (s.peer !== sig) {
    await s.dev.setPeer({ ...peer, keepaliveSec: WG_KEEPALIVE_SEC });
    s.peer = sig;
  }
  s.record ??= { name: s.ifName, ofport: 0, routed: {}, release: once(() => releaseSide(s, ports)) };
  return s.record;
}

/** What Close releases of a side: its device (once made) or at least its port; a failure is only logged. */
function releaseOnClose(s: Side | undefined, ports: PortPool): (() => Promise<unknown>) | undefined {
  if (!s) return undefined;
  return () => (s.record ? s.record.release() : releaseSide(s, ports)).catch((e) => log.warn({ dev: s.ifName, err: String(e) }, 'removing WireGuard device failed'));
}

function checkKey(k: string | undefined, what: string): string {
  try {
    keyToHex(k ?? '');
    return k!;
  } catch {
    throw invalidArgument(`WIREGUARD mechanism has no valid ${what} (base64 of 32 bytes): "${k ?? ''}"`);
  }
}

export function wireguardClient(o: WireguardOptions, ports: PortPool = new PortPool(o.basePort)): NetworkServiceElement {
  const mtuMax = o.underlayMtu - WG_OVERHEAD;
  return {
    async request(ctx, req, next) {
      const url = ctx.get(clientUrlKey);
      // Only IP payload, and only toward a remote next hop (filtermechanisms drops REMOTE ones for unix URLs).
      if (req.connection?.payload !== Payload.IP || (url && isUnixUrl(url))) return next.request(ctx, req);
      const meta = clientMeta(ctx);
      let s = meta.get(clientWgKey);
      const fresh = !s;
      if (!s) {
        s = { ifName: wgDevName(o.tunnelIp, req.connection.id, 'dst'), keys: generateKeyPair(), port: ports.take() };
        meta.set(clientWgKey, s);
      }
      const forget = async () => {
        if (fresh || !s!.dev) {
          meta.delete(clientWgKey);
          await releaseSide(s!, ports);
        }
      };
      if (!req.mechanismPreferences.some((m) => m.type === MechanismType.WIREGUARD)) {
        req.mechanismPreferences.unshift(
          Mechanism.fromPartial({
            cls: MechanismClass.REMOTE,
            type: MechanismType.WIREGUARD,
            parameters: { [Param.srcIp]: o.tunnelIp, [Param.srcPort]: String(s.port), [Param.srcPublicKey]: s.keys.publicKey, [Param.mtu]: String(mtuMax) },
          }),
        );
      }
      // A refresh pins the agreed mechanism: keep our side's parameters on it.
      if (req.connection.mechanism?.type === MechanismType.WIREGUARD) {
        Object.assign(req.connection.mechanism.parameters, { [Param.srcIp]: o.tunnelIp, [Param.srcPort]: String(s.port), [Param.srcPublicKey]: s.keys.publicKey });
      }
      let out;
      try {
        out = await next.request(ctx, req);
      } catch (err) {
        await forget();
        throw err;
      }
      if (out.mechanism?.type !== MechanismType.WIREGUARD) {
        await forget();
        return out;
      }
      const side = s;
      const p = out.mechanism.parameters;
      await makeOrUndo(
        ctx,
        next,
        out,
        async () => {
          const peerKey = checkKey(p[Param.dstPublicKey], Param.dstPublicKey);
          if (!p[Param.dstIp] || !Number(p[Param.dstPort])) throw invalidArgument('WIREGUARD answer has no dst_ip/dst_port');
          const mtu = Math.min(Number(p[Param.mtu]) || mtuMax, mtuMax);
          clampContextMtu(out, mtu);
          const hadPeer = side.peer;
          const record = await ensureDevice(side, mtu, { publicKey: peerKey, endpoint: hostPort(p[Param.dstIp], p[Param.dstPort]), allowedIps: hostPrefixes(out.context?.ipContext?.dstIpAddrs ?? []) }, ports);
          if (side.peer !== hadPeer && !(await side.dev!.waitHandshake(o.handshakeTimeoutMs ?? 5000))) {
            throw unavailable(`no WireGuard handshake with ${hostPort(p[Param.dstIp], p[Param.dstPort])} within ${o.handshakeTimeoutMs ?? 5000} ms`);
          }
          meta.set(clientPortKey, record);
          serverMeta(ctx).set(routedKey, true);
        },
        {
          forget: async (err) => {
            log.warn({ id: out.id, dev: side.ifName, err: String(err) }, 'WireGuard client side failed');
            meta.delete(clientWgKey);
            await releaseSide(side, ports).catch(() => undefined);
          },
        },
      );
      return out;
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, releaseOnClose(clientMeta(ctx).take(clientWgKey), ports));
    },
  };
}

export function wireguardServer(o: WireguardOptions, ports: PortPool = new PortPool(o.basePort)): NetworkServiceElement {
  const mtuMax = o.underlayMtu - WG_OVERHEAD;
  return {
    async request(ctx, req, next) {
      const conn = req.connection!;
      const mech = conn.mechanism!;
      const p = mech.parameters;
      const srcKey = checkKey(p[Param.srcPublicKey], Param.srcPublicKey);
      if (!p[Param.srcIp] || !Number(p[Param.srcPort])) throw invalidArgument('WIREGUARD mechanism has no src_ip/src_port');
      const meta = serverMeta(ctx);
      let s = meta.get(serverWgKey);
      const fresh = !s;
      if (!s) {
        s = { ifName: wgDevName(o.tunnelIp, conn.id, 'src'), keys: generateKeyPair(), port: ports.take() };
        meta.set(serverWgKey, s);
      }
      const forget = async () => {
        if (fresh) {
          meta.delete(serverWgKey);
          meta.delete(routedKey);
          await releaseSide(s!, ports);
        }
      };
      p[Param.dstIp] = o.tunnelIp;
      p[Param.dstPort] = String(s.port);
      const mtu = clampMtu(conn, mech, mtuMax);
      // Before forwarding: the kernel client element makes the endpoint's veth during the call.
      meta.set(routedKey, true);
      let out;
      try {
        out = await next.request(ctx, req);
      } catch (err) {
        await forget();
        throw err;
      }
      const side = s;
      await makeOrUndo(
        ctx,
        next,
        out,
        async () => {
          const record = await ensureDevice(side, mtu, { publicKey: srcKey, endpoint: hostPort(p[Param.srcIp], p[Param.srcPort]), allowedIps: hostPrefixes(out.context?.ipContext?.srcIpAddrs ?? []) }, ports);
          if (out.mechanism) Object.assign(out.mechanism.parameters, { [Param.dstIp]: o.tunnelIp, [Param.dstPort]: String(side.port), [Param.dstPublicKey]: side.keys.publicKey, [Param.mtu]: String(mtu) });
          clampContextMtu(out, mtu);
          meta.set(serverPortKey, record);
        },
        {
          forget: async (err) => {
            log.warn({ id: out.id, dev: side.ifName, err: String(err) }, 'WireGuard server side failed');
            meta.delete(serverWgKey);
            meta.delete(routedKey);
            await releaseSide(side, ports).catch(() => undefined);
          },
        },
      );
      return out;
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, releaseOnClose(serverMeta(ctx).take(serverWgKey), ports));
    },
  };
}
