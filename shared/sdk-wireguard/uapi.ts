// The cross-platform WireGuard configuration protocol (wireguard-go's UAPI): line-based key=value over
// the unix socket /var/run/wireguard/<if>.sock. A "set=1" block is answered with "errno=N"; "get=1"
// with the device's and peers' state.
//
// A line protocol is a text command: a value with a newline in it is a second command (a peer key
// followed by "allowed_ip=0.0.0.0/0", an endpoint followed by "private_key=..."). The mechanism checks
// at the server edge already refuse such values; here every value is parsed again before it becomes a
// line (hex keys, ip:port endpoints, prefixes, integer ports and intervals, interface names), so
// nothing unparsed is ever written to the socket, whoever calls this.
import { connect } from 'node:net';
import { join } from 'node:path';
import { internal, invalidArgument, unavailable } from '@nsm/sdk/core/errors';
import { formats } from '@nsm/sdk/input';

export const WG_SOCKET_DIR = '/var/run/wireguard';
export const socketPath = (ifName: string) => join(WG_SOCKET_DIR, `${checked('interface name', ifName, formats.isIfName)}.sock`);

/** `value` when `ok` accepts it; INVALID_ARGUMENT otherwise. */
function checked<T>(what: string, value: T, ok: (v: T) => boolean): T {
  if (!ok(value)) throw invalidArgument(`wireguard UAPI: ${JSON.stringify(String(value)).slice(0, 80)} is not a valid ${what}`);
  return value;
}

const isHexKey = (k: string) => /^[0-9a-f]{64}$/.test(k);
const isUint16 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;
/** ip:port, or [ipv6]:port, as wireguard-go parses an endpoint. */
function isEndpoint(e: string): boolean {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(e);
  if (!m || !formats.isPort(m[3])) return false;
  return m[1] !== undefined ? formats.isIpLiteral(m[1]) && formats.ipFamily(m[1]) === 6 : formats.isIpLiteral(m[2]) && formats.ipFamily(m[2]) === 4;
}

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

/** The lines of a "set=1" block; every value is checked first (INVALID_ARGUMENT names the bad one). */
export function setLines(s: UapiSet): string[] {
  const l: string[] = [];
  if (s.privateKey !== undefined) l.push(`private_key=${checked('hex private key', s.privateKey, isHexKey)}`);
  if (s.listenPort !== undefined) l.push(`listen_port=${checked('listen port', s.listenPort, isUint16)}`);
  if (s.replacePeers) l.push('replace_peers=true');
  for (const p of s.peers ?? []) {
    l.push(`public_key=${checked('hex public key', p.publicKey, isHexKey)}`);
    if (p.remove) {
      l.push('remove=true');
      continue;
    }
    if (p.endpoint) l.push(`endpoint=${checked('endpoint (ip:port)', p.endpoint, isEndpoint)}`);
    if (p.replaceAllowedIps) l.push('replace_allowed_ips=true');
    for (const a of p.allowedIps) l.push(`allowed_ip=${checked('allowed IP prefix', a, formats.isCidr)}`);
    // Last: setting a keepalive on a running device sends one at once, which starts the handshake.
    if (p.persistentKeepalive !== undefined) l.push(`persistent_keepalive_interval=${checked('keepalive interval', p.persistentKeepalive, isUint16)}`);
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
