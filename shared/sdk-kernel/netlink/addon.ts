// Finds and loads the native part (addon/nsm_netlink.c, built by tools/build-addon.mjs).
//
// Looked for, in order: $NSM_NETLINK_ADDON; nsm_netlink.node beside the running bundle (how images
// ship it: cmd-*/dist/ holds the bundle and the .node); the build output in the source tree (tests,
// `node --import register-ts`). process.dlopen rather than require: the bundler must not try to
// follow it, and the path is only known at run time.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Code, StatusError } from '@nsm/sdk/core/errors';

export interface NetlinkAddon {
  /** A netlink socket (bound, receive timeout set) created inside the namespace at nsPath (null: ours). */
  open(nsPath: string | null, protocol: number, timeoutMs: number): number;
  close(fd: number): void;
  /** Sends a batch of messages and resolves with every reply to them, once each has its ACK/DONE. */
  request(fd: number, batch: Buffer): Promise<Buffer>;
  /** request(), on the calling thread (blocks it for the kernel's work; the receive timeout bounds it). */
  requestSync(fd: number, batch: Buffer): Buffer;
  /** Reads (value null) or writes a file under /proc/sys/net/ as seen from inside the namespace. */
  sysctl(nsPath: string | null, file: string, value: string | null): Promise<string>;
  /** SO_PEERCRED of a connected unix socket: the peer process (pid 0 when it is outside our PID namespace). */
  peercred(fd: number): { pid: number; uid: number; gid: number };
}

export const ADDON_FILE = 'nsm_netlink.node';

function candidates(): string[] {
  const list: string[] = [];
  if (process.env.NSM_NETLINK_ADDON) list.push(resolve(process.env.NSM_NETLINK_ADDON));
  if (require.main?.filename) list.push(join(resolve(require.main.filename, '..'), ADDON_FILE));
  list.push(join(__dirname, ADDON_FILE));
  list.push(join(__dirname, 'addon', 'build', ADDON_FILE));
  return list;
}

let loaded: NetlinkAddon | undefined;

export function addon(): NetlinkAddon {
  if (loaded) return loaded;
  const tried = candidates();
  const file = tried.find((f) => existsSync(f));
  if (!file) {
    throw new StatusError(Code.FAILED_PRECONDITION, `netlink addon ${ADDON_FILE} not found (looked in ${tried.join(', ')}); build it with: node tools/build-addon.mjs`);
  }
  const mod = { exports: {} as NetlinkAddon };
  process.dlopen(mod, file);
  loaded = mod.exports;
  return loaded;
}
