// The cross-platform WireGuard configuration protocol (wireguard-go's UAPI): line-based key=value over
// the unix socket /var/run/wireguard/<if>.sock. A "set=1" block is answered with "errno=N"; "get=1"
// with the device's and peers' state.
import { connect } from 'node:net';
import { join } from 'node:path';
import { internal, unavailable } from '@nsm/sdk/core/errors';

export const WG_SOCKET_DIR = '/var/run/wireguard';
export const socketPath = (ifName: string) => join(WG_SOCKET_DIR, `${ifName}.sock`);

function talk(ifName: string, request: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath(ifName));
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(unavailable(`wireguard UAPI of ${ifName}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      // An answer ends with an empty line.
      if (buf.endsWith('\n\n')) {
        clearTimeout(timer);
        sock.end();
        resolve(buf);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(unavailable(`wireguard UAPI of ${ifName}: ${e.message}`, e));
    });
    sock.write(request);
  });
}

export interface UapiPeer {
  /** hex public key */
  publicKey: string;
  endpoint?: string;
  persistentKeepalive?: number;
  allowedIps: string[];
  /** Drop all existing allowed IPs of this peer first. */
  replaceAllowedIps?: boolean;
  remove?: boolean;
}

export interface UapiSet {
  /** hex private key */
  privateKey?: string;
  listenPort?: number;
  replacePeers?: boolean;
  peers?: UapiPeer[];
}

export function setLines(s: UapiSet): string[] {
  const l: string[] = [];
  if (s.privateKey !== undefined) l.push(`private_key=${s.privateKey}`);
  if (s.listenPort !== undefined) l.push(`listen_port=${s.listenPort}`);
  if (s.replacePeers) l.push('replace_peers=true');
  for (const p of s.peers ?? []) {
    l.push(`public_key=${p.publicKey}`);
    if (p.remove) {
      l.push('remove=true');
      continue;
    }
    if (p.endpoint) l.push(`endpoint=${p.endpoint}`);
    if (p.replaceAllowedIps) l.push('replace_allowed_ips=true');
    for (const a of p.allowedIps) l.push(`allowed_ip=${a}`);
    // Last: setting a keepalive on a running device sends one at once, which starts the handshake.
    if (p.persistentKeepalive !== undefined) l.push(`persistent_keepalive_interval=${p.persistentKeepalive}`);
  }
  return l;
}

export async function uapiSet(ifName: string, s: UapiSet): Promise<void> {
  const answer = await talk(ifName, `set=1\n${setLines(s).join('\n')}\n\n`);
  const m = /errno=(-?\d+)/.exec(answer);
  if (!m || m[1] !== '0') throw internal(`wireguard UAPI of ${ifName} refused the configuration: ${answer.trim()}`);
}

export interface UapiState {
  listenPort?: number;
  peers: { publicKey: string; endpoint?: string; lastHandshakeSec: number; rxBytes: number; txBytes: number; allowedIps: string[] }[];
}

export async function uapiGet(ifName: string): Promise<UapiState> {
  const answer = await talk(ifName, 'get=1\n\n');
  const st: UapiState = { peers: [] };
  let peer: UapiState['peers'][number] | undefined;
  for (const line of answer.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1);
    if (k === 'listen_port') st.listenPort = Number(v);
    else if (k === 'public_key') st.peers.push((peer = { publicKey: v, lastHandshakeSec: 0, rxBytes: 0, txBytes: 0, allowedIps: [] }));
    else if (peer && k === 'endpoint') peer.endpoint = v;
    else if (peer && k === 'last_handshake_time_sec') peer.lastHandshakeSec = Number(v);
    else if (peer && k === 'rx_bytes') peer.rxBytes = Number(v);
    else if (peer && k === 'tx_bytes') peer.txBytes = Number(v);
    else if (peer && k === 'allowed_ip') peer.allowedIps.push(v);
  }
  return st;
}
