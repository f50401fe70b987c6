// wireguard-go processes: one per interface, started as a child of this process (same process group,
// so a supervisor that stops the group stops them too), in this process's network namespace. The TUN
// device lives as long as the process; deleting the device also makes wireguard-go exit. Starting one
// is the expensive part (a process, its UAPI socket): pool.ts keeps some started ahead of need, and
// configure()/reset() reuse a device for another connection over the UAPI and netlink alone.
import { ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { internal, unavailable } from '@nsm/sdk/core/errors';
import { formats } from '@nsm/sdk/input';
import { deleteLink, listLinks } from '@nsm/sdk-kernel';
import { setLink } from '@nsm/sdk-kernel/netlink';
import { generateKeyPair, keyToHex } from './keys';
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
  /** base64 private key; a random one when omitted (a pooled device gets its real key when used). */
  privateKey?: string;
  listenPort: number;
  mtu?: number;
  /** Bring the device up once configured (default true; a pooled device waits down). */
  up?: boolean;
}

export class WgDevice {
  private exited = false;
  private name: string;

  private constructor(
    /** The name it was started under: its UAPI socket keeps that name when the device is renamed. */
    readonly uapiName: string,
    readonly listenPort: number,
    private readonly child: ChildProcess,
  ) {
    this.name = uapiName;
    child.once('exit', () => (this.exited = true));
  }

  /** The interface's name now. */
  get ifName(): string {
    return this.name;
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
    const dev = new WgDevice(spec.ifName, spec.listenPort, child);
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
          await uapiSet(spec.ifName, { privateKey: keyToHex(spec.privateKey ?? generateKeyPair().privateKey), listenPort: spec.listenPort });
          break;
        } catch (e) {
          if (!/ECONNREFUSED|ENOENT/.test(String(e)) || Date.now() > deadline || dev.exited) throw e;
          await sleep(5);
        }
      }
      if (spec.up ?? true) await setLink(undefined, spec.ifName, { up: true, ...(spec.mtu ? { mtu: spec.mtu } : {}) });
      return dev;
    } catch (e) {
      await dev.stop();
      throw e;
    }
  }

  /** Whether the wireguard-go process is still running. */
  get alive(): boolean {
    return !this.exited && this.child.exitCode === null;
  }

  /**
   * Gives a started device (down) its key, and its name, MTU and up state: one UAPI exchange, one
   * netlink request (the kernel renames before it brings the device up).
   */
  async configure(c: { privateKey: string; mtu?: number; name?: string }): Promise<void> {
    await uapiSet(this.uapiName, { privateKey: keyToHex(c.privateKey), replacePeers: true });
    await this.setLink({ up: true, ...(c.mtu ? { mtu: c.mtu } : {}), ...(c.name ? { name: c.name } : {}) });
  }

  /**
   * Makes a used device anonymous again: down, renamed (when `name` is given), no peers, a fresh
   * random key (sessions of the old key die with it).
   */
  async reset(name?: string): Promise<void> {
    await this.setLink({ up: false });
    if (name) await this.setLink({ name });
    await uapiSet(this.uapiName, { privateKey: keyToHex(generateKeyPair().privateKey), replacePeers: true });
  }

  /**
   * A rename also names the UAPI socket after the interface (a symlink to the first name's socket),
   * so that tools such as `wg show <interface>` find it, as they look it up by interface name.
   */
  private async setLink(change: { up?: boolean; mtu?: number; name?: string }): Promise<void> {
    await setLink(undefined, this.name, change);
    if (!change.name || change.name === this.name) return;
    if (this.name !== this.uapiName) rmSync(socketPath(this.name), { force: true });
    this.name = change.name;
    if (this.name !== this.uapiName) {
      rmSync(socketPath(this.name), { force: true });
      symlinkSync(basename(socketPath(this.uapiName)), socketPath(this.name));
    }
  }

  /** Replaces the peer set with this one peer (one connection = one peer). */
  async setPeer(p: WgPeerSpec): Promise<void> {
    const peer: UapiPeer = { publicKey: keyToHex(p.publicKey), endpoint: p.endpoint, allowedIps: p.allowedIps, replaceAllowedIps: true, persistentKeepalive: p.keepaliveSec };
    await uapiSet(this.uapiName, { replacePeers: true, peers: [peer] });
  }

  /** Waits until the peer completed a handshake; false on timeout. */
  async waitHandshake(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await uapiGet(this.uapiName);
      if (st.peers.some((p) => p.lastHandshakeSec > 0)) return true;
      if (Date.now() > deadline) return false;
      await sleep(10);
    }
  }

  state() {
    return uapiGet(this.uapiName);
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
    rmSync(socketPath(this.uapiName), { force: true });
    if (this.name !== this.uapiName) rmSync(socketPath(this.name), { force: true });
  }
}

/**
 * Removes WireGuard devices whose names start with one of `prefixes` in this namespace (a
 * predecessor's): deleting the TUN makes its wireguard-go exit. Then UAPI sockets with those prefixes
 * that nobody listens on are removed (the directory is shared by every namespace on the host, and a
 * renamed device keeps its socket's first name, so sockets are judged by whether they answer).
 * Returns the names of the devices removed.
 */
export async function cleanupDevices(prefixes: readonly string[]): Promise<string[]> {
  const ours = (n: string) => prefixes.some((p) => n.startsWith(p));
  const removed: string[] = [];
  for (const l of await listLinks(undefined)) {
    if (l.kind !== 'tun' || !ours(l.name)) continue;
    await deleteLink(undefined, l.name).catch(() => undefined);
    removed.push(l.name);
  }
  let sockets: string[] = [];
  try {
    sockets = readdirSync(WG_SOCKET_DIR)
      .filter((f) => ours(f) && f.endsWith('.sock'))
      // Anything else in the shared folder is not a device's socket (and socketPath refuses it).
      .filter((f) => formats.isIfName(f.slice(0, -'.sock'.length)));
  } catch {
    return removed;
  }
  for (const f of sockets) {
    const path = `${WG_SOCKET_DIR}/${f}`;
    if (!(await listening(path))) rmSync(path, { force: true });
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
