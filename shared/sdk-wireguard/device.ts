// wireguard-go processes: one per interface, started as a child of this process (same process group,
// so a supervisor that stops the group stops them too), in this process's network namespace. The TUN
// device lives as long as the process; deleting the device also makes wireguard-go exit.
import { ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { internal, unavailable } from '@nsm/sdk/core/errors';
import { deleteLink, getLink, ip } from '@nsm/sdk-kernel';
import { keyToHex } from './keys';
import { socketPath, uapiGet, uapiSet, UapiPeer, WG_SOCKET_DIR } from './uapi';

export const WG_BINARY = process.env.NSM_WIREGUARD_GO ?? 'wireguard-go';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface WgPeerSpec {
  /** base64 public key */
  publicKey: string;
  /** "ip:port" or "[ip6]:port" */
  endpoint?: string;
  allowedIps: string[];
  keepaliveSec?: number;
}

export interface WgDeviceSpec {
  ifName: string;
  /** base64 private key */
  privateKey: string;
  listenPort: number;
  mtu?: number;
}

export class WgDevice {
  private exited = false;

  private constructor(
    readonly ifName: string,
    private readonly child: ChildProcess,
  ) {
    child.once('exit', () => (this.exited = true));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts wireguard-go, waits for its UAPI socket, sets key and port, brings the device up. */
  static async start(spec: WgDeviceSpec, timeoutMs = 5000): Promise<WgDevice> {
    rmSync(socketPath(spec.ifName), { force: true });
    let stderr = '';
    const child = spawn(WG_BINARY, ['-f', spec.ifName], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LOG_LEVEL: process.env.NSM_WIREGUARD_LOG_LEVEL ?? 'error' },
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    const dev = new WgDevice(spec.ifName, child);
    let spawnErr: Error | undefined;
    child.once('error', (e) => (spawnErr = e));
    try {
      const deadline = Date.now() + timeoutMs;
      while (!existsSync(socketPath(spec.ifName))) {
        if (spawnErr) throw internal(`cannot start ${WG_BINARY}: ${spawnErr.message}`, spawnErr);
        if (dev.exited) throw internal(`${WG_BINARY} ${spec.ifName} exited: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
        if (Date.now() > deadline) throw unavailable(`${WG_BINARY} ${spec.ifName} made no UAPI socket within ${timeoutMs} ms`);
        await sleep(5);
      }
      // The socket file appears at bind(), a moment before wireguard-go listens on it.
      for (;;) {
        try {
          await uapiSet(spec.ifName, { privateKey: keyToHex(spec.privateKey), listenPort: spec.listenPort });
          break;
        } catch (e) {
          if (!/ECONNREFUSED|ENOENT/.test(String(e)) || Date.now() > deadline || dev.exited) throw e;
          await sleep(5);
        }
      }
      await ip(undefined, `link set dev ${spec.ifName}${spec.mtu ? ` mtu ${spec.mtu}` : ''} up`);
      return dev;
    } catch (e) {
      await dev.stop();
      throw e;
    }
  }

  /** Replaces the peer set with this one peer (one connection = one peer). */
  async setPeer(p: WgPeerSpec): Promise<void> {
    const peer: UapiPeer = { publicKey: keyToHex(p.publicKey), endpoint: p.endpoint, allowedIps: p.allowedIps, replaceAllowedIps: true, persistentKeepalive: p.keepaliveSec };
    await uapiSet(this.ifName, { replacePeers: true, peers: [peer] });
  }

  /** Waits until the peer completed a handshake; false on timeout. */
  async waitHandshake(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await uapiGet(this.ifName);
      if (st.peers.some((p) => p.lastHandshakeSec > 0)) return true;
      if (Date.now() > deadline) return false;
      await sleep(10);
    }
  }

  state() {
    return uapiGet(this.ifName);
  }

  /** Removes the device (wireguard-go exits with it) and the process; idempotent. */
  async stop(): Promise<void> {
    await deleteLink(undefined, this.ifName).catch(() => undefined);
    if (!this.exited && this.child.exitCode === null) {
      const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      await Promise.race([gone, sleep(1000)]);
      if (!this.exited) this.child.kill('SIGKILL');
    }
    rmSync(socketPath(this.ifName), { force: true });
  }
}

/**
 * Removes WireGuard devices named with `prefix` in this namespace (a predecessor's): deleting the TUN
 * makes its wireguard-go exit. Their UAPI sockets are removed too. Returns the names removed.
 */
export async function cleanupDevices(prefix: string): Promise<string[]> {
  let names: string[] = [];
  try {
    names = readdirSync(WG_SOCKET_DIR)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.sock'))
      .map((f) => f.slice(0, -'.sock'.length));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    // The socket directory is shared by every namespace on the host: only devices that exist here are
    // ours. A socket nobody listens on (its wireguard-go was killed) is stale whoever made it.
    if (!(await getLink(undefined, n).catch(() => undefined))) {
      if (!(await listening(socketPath(n)))) rmSync(socketPath(n), { force: true });
      continue;
    }
    await deleteLink(undefined, n).catch(() => undefined);
    rmSync(socketPath(n), { force: true });
    removed.push(n);
  }
  return removed;
}

/** Whether a process accepts connections on this unix socket. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
