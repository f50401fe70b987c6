// One netlink socket per network namespace, reused, so that a steady-state operation costs one round
// trip and no setns().
//
// Keyed by the namespace's identity (device and inode of its file), not by path: a pod's namespace
// reached as /proc/<pid>/ns/net and as /var/run/netns/<name> is one namespace. The path is stat()ed
// on every lookup (microseconds), so a path that now names another namespace never reaches a stale
// socket.
//
// A socket holds a reference on its namespace: while it is open, the namespace (and every
// interface in it) outlives the pod that owned it. So sockets are closed when idle (default 5 s),
// when their namespace file no longer names the same namespace, on release(), when the last hold()
// on the namespace is let go (its last connection closed), when the namespace's last process has gone
// (../nsinode.ts notices), and on closeAll().
import { statSync } from 'node:fs';
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { NETLINK_GENERIC, NETLINK_ROUTE } from './consts';
import { describeNetns, NetnsRef } from '../netns';
import { onNamespaceReleased } from '../nsinode';
import { DEFAULT_TIMEOUT_MS, NetlinkSocket } from './socket';

export interface NetlinkCacheOptions {
  /** Close a namespace's sockets after this long unused (default 5000 ms). */
  idleMs?: number;
  /** Per-exchange receive timeout (default 10 s). */
  timeoutMs?: number;
}

interface Entry {
  key: string;
  path: string | undefined;
  route?: NetlinkSocket;
  /** Deletions only (link.ts deleteLinks): their ack waits for RCU, which must not hold up the others. */
  teardown?: NetlinkSocket;
  generic?: NetlinkSocket;
  lastUsed: number;
}

const SELF = '/proc/self/ns/net';

/** This process's namespace never changes (nothing here setns()es the main thread): read once. */
let selfKey: string | undefined;

/** The identity of the namespace `ns` names now; NOT_FOUND when its file has gone. */
export function netnsKey(ns: NetnsRef): string {
  if (!ns) return (selfKey ??= statKey(SELF));
  return statKey(ns.path, ns);
}

function statKey(path: string, ns?: NetnsRef): string {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    throw new StatusError(Code.NOT_FOUND, `netns ${describeNetns(ns)} does not exist`);
  }
}

export class NetlinkCache {
  private readonly entries = new Map<string, Entry>();
  private readonly holds = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  readonly idleMs: number;
  readonly timeoutMs: number;

  constructor(opts: NetlinkCacheOptions = {}) {
    this.idleMs = opts.idleMs ?? 5000;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // A pod that died: its sockets here are what would keep its namespace (and interfaces) alive.
    onNamespaceReleased((key) => {
      const e = this.entries.get(key);
      if (e) this.drop(e);
    });
  }

  /** The rtnetlink socket for `ns` (undefined: this process's namespace); a pod's runs even its dumps on the calling thread. */
  route(ns: NetnsRef): NetlinkSocket {
    const e = this.entry(ns);
    e.route ??= new NetlinkSocket(NETLINK_ROUTE, e.path, describeNetns(ns), this.timeoutMs, e.path === undefined ? 'changes' : 'all');
    return e.route;
  }

  /**
   * A second rtnetlink socket for `ns`, for deletions: the kernel acknowledges a deletion only after
   * its RCU waits (15–30 ms here), long after the links have gone, and a socket carries one exchange
   * at a time; on the route socket, set-ups queued behind would wait for that too.
   */
  teardown(ns: NetnsRef): NetlinkSocket {
    const e = this.entry(ns);
    e.teardown ??= new NetlinkSocket(NETLINK_ROUTE, e.path, describeNetns(ns), this.timeoutMs);
    return e.teardown;
  }

  /** The generic-netlink socket for `ns` (ethtool). */
  generic(ns: NetnsRef): NetlinkSocket {
    const e = this.entry(ns);
    e.generic ??= new NetlinkSocket(NETLINK_GENERIC, e.path, describeNetns(ns), this.timeoutMs, 'changes');
    return e.generic;
  }

  private entry(ns: NetnsRef): Entry {
    const key = netnsKey(ns);
    let e = this.entries.get(key);
    if (!e) {
      // Our own namespace needs no setns: its sockets are opened with no path.
      const path = ns && key !== netnsKey(undefined) ? ns.path : undefined;
      e = { key, path, lastUsed: 0 };
      this.entries.set(key, e);
    } else if (ns && e.path !== undefined) {
      e.path = ns.path; // the latest name is the most likely to still exist at the next sweep
    }
    e.lastUsed = Date.now();
    this.arm();
    return e;
  }

  /** Open sockets (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const e of this.entries.values()) n += (e.route ? 1 : 0) + (e.teardown ? 1 : 0) + (e.generic ? 1 : 0);
    return n;
  }

  /** Closes the sockets of `ns` now (e.g. after the last connection into a pod closed). */
  release(ns: NetnsRef): void {
    let key: string;
    try {
      key = netnsKey(ns);
    } catch {
      this.sweep(Date.now());
      return;
    }
    const e = this.entries.get(key);
    if (e) this.drop(e);
  }

  /**
   * Marks `ns` as in use by one more connection; the returned function lets go of it, and closes the
   * namespace's sockets when nobody holds it any more, so that a pod's namespace is not kept alive
   * after its last connection closed. Holding is by identity, taken now: the function works after the
   * namespace's file has gone. Our own namespace is never closed this way.
   */
  hold(ns: NetnsRef): () => void {
    if (!ns) return () => undefined;
    const key = netnsKey(ns);
    this.holds.set(key, (this.holds.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.holds.get(key) ?? 1) - 1;
      if (n > 0) {
        this.holds.set(key, n);
        return;
      }
      this.holds.delete(key);
      const e = this.entries.get(key);
      if (e) this.drop(e);
    };
  }

  /** Namespaces held (for tests and metrics). */
  get held(): number {
    return this.holds.size;
  }

  closeAll(): void {
    for (const e of [...this.entries.values()]) this.drop(e);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private drop(e: Entry): void {
    e.route?.close();
    e.teardown?.close();
    e.generic?.close();
    this.entries.delete(e.key);
  }

  /** Closes what is idle or whose namespace file has gone or changed. */
  sweep(now: number): void {
    for (const e of [...this.entries.values()]) {
      const busy = (e.route?.pending ?? 0) + (e.teardown?.pending ?? 0) + (e.generic?.pending ?? 0) > 0;
      if (busy) continue;
      let gone = false;
      if (e.path !== undefined) {
        try {
          const st = statSync(e.path);
          gone = `${st.dev}:${st.ino}` !== e.key;
        } catch {
          gone = true;
        }
      }
      if (gone || now - e.lastUsed >= this.idleMs) this.drop(e);
    }
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(Date.now()), Math.max(100, Math.floor(this.idleMs / 2)));
    // Never what keeps a process alive.
    this.timer.unref();
  }
}

let shared: NetlinkCache | undefined;

/** The process-wide cache every operation uses unless given another. */
export function defaultNetlink(): NetlinkCache {
  shared ??= new NetlinkCache();
  return shared;
}
