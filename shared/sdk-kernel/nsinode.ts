// Network namespaces named by identity: `inode://<dev>/<ino>`, upstream NSM's form.
//
// A client or endpoint in a container is PID 1 of its own PID namespace, so a path it builds from its
// own pid (/proc/<pid>/ns/net) means another process, or the node, to a forwarder in the host's PID
// namespace. What is the same everywhere is the namespace's identity: the nsfs device and inode that
// stat(/proc/self/ns/net) reports. The forwarder (host PID namespace, as its DaemonSet runs) finds a
// process whose /proc/<pid>/ns/net has that identity, opens it and keeps the descriptor, and uses
// /proc/<own pid>/fd/<n> from then on: once opened, the descriptor names that namespace whatever
// happens to the pid (exit, reuse). What is opened is checked again with fstat.
//
// Descriptors are kept while they are used and closed after a minute without a lookup, so a pod's
// namespace is not held alive after its connections have gone; a later lookup opens it again (the
// Netns's path is looked up on each use), or fails with NOT_FOUND, never names another namespace.
// A descriptor is also closed as soon as no process is left in its namespace (the pod died): held
// open, it would keep the dead pod's interfaces and addresses up, answering pings for an endpoint
// that is gone (a data-path check could not tell), until the minute is over. That is checked every
// second through the process the namespace was found by (one stat), and at once when a caller has
// reason to think a pod died (releaseDeadNamespaces, e.g. the endpoint's monitor stream broke).
// Whoever keeps other references on a namespace (netlink sockets) hears of the release
// (onNamespaceReleased) and lets go of them too.
import { closeSync, fstatSync, openSync, readdirSync, statSync } from 'node:fs';
import { invalidArgument, notFound } from '@nsm/sdk/core/errors';

export interface NsIdentity {
  dev: number;
  ino: number;
}

const IDLE_MS = 60_000;

/** How often open descriptors are checked for a namespace that no process is in any more. */
const DEAD_CHECK_MS = 1000;

interface Open {
  fd: number;
  lastUsed: number;
  /** A process found in the namespace (the latest seen): while it is there, the namespace is alive. */
  pid: string;
}

const opened = new Map<string, Open>();
let sweeper: NodeJS.Timeout | undefined;
const releasedListeners = new Set<(key: string) => void>();

/**
 * Calls `listener` with the identity (`<dev>:<ino>`) of each namespace whose descriptor is closed
 * because no process is left in it; returns the function that unsubscribes.
 */
export function onNamespaceReleased(listener: (key: string) => void): () => void {
  releasedListeners.add(listener);
  return () => releasedListeners.delete(listener);
}

const keyOf = (id: NsIdentity) => `${id.dev}:${id.ino}`;

/** Parses `inode://<dev>/<ino>` (decimal numbers, as upstream's clients format st_dev and st_ino). */
export function parseInodeUrl(url: string): NsIdentity {
  const m = /^inode:\/\/(\d{1,20})\/(\d{1,20})$/.exec(url);
  if (!m) throw invalidArgument(`netns ${url} is not inode://<dev>/<ino>`);
  const dev = Number(m[1]);
  const ino = Number(m[2]);
  if (!Number.isSafeInteger(dev) || !Number.isSafeInteger(ino)) throw invalidArgument(`netns ${url}: device or inode out of range`);
  return { dev, ino };
}

/** The `inode://` URL of the namespace file at `path` (default: this process's own network namespace). */
export function inodeUrlOf(path = '/proc/self/ns/net'): string {
  const st = statSync(path);
  return `inode://${st.dev}/${st.ino}`;
}

/** The identity of the namespace file at `path`, or undefined when it cannot be read. */
export function identityOf(path: string): NsIdentity | undefined {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/** Whether the descriptor still names `id` (it always does while open; the check is cheap insurance). */
function names(fd: number, id: NsIdentity): boolean {
  try {
    const st = fstatSync(fd);
    return st.dev === id.dev && st.ino === id.ino;
  } catch {
    return false;
  }
}

/** Pids of every process this process can see, from /proc. */
function pids(): string[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e));
}

const inNamespace = (pid: string, id: NsIdentity) => {
  const st = identityOf(`/proc/${pid}/ns/net`);
  return st !== undefined && st.dev === id.dev && st.ino === id.ino;
};

const idOfKey = (key: string): NsIdentity => {
  const [dev, ino] = key.split(':').map(Number);
  return { dev, ino };
};

/**
 * The path of a descriptor of this process open on the namespace `id`, opening one when none is
 * (found through a process that is in it). NOT_FOUND when no visible process is in that namespace.
 */
export function pathOfNamespace(id: NsIdentity, label: string): string {
  const key = keyOf(id);
  const had = opened.get(key);
  if (had && names(had.fd, id)) {
    had.lastUsed = Date.now();
    return `/proc/${process.pid}/fd/${had.fd}`;
  }
  if (had) {
    opened.delete(key);
    closeSync(had.fd);
  }
  for (const pid of pids()) {
    const path = `/proc/${pid}/ns/net`;
    const st = identityOf(path);
    if (!st || st.dev !== id.dev || st.ino !== id.ino) continue;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      continue; // the process has just gone
    }
    // Between the stat and the open the pid may have exited and been reused: check what was opened.
    if (!names(fd, id)) {
      closeSync(fd);
      continue;
    }
    opened.set(key, { fd, lastUsed: Date.now(), pid });
    arm();
    return `/proc/${process.pid}/fd/${fd}`;
  }
  throw notFound(`netns ${label} names no network namespace of a running process on this node`);
}

/** Namespace descriptors open now (tests). */
export function openNamespaceCount(): number {
  return opened.size;
}

/** Closes descriptors unused for `idleMs` (default a minute); all of them with 0. */
export function closeIdleNamespaces(idleMs = IDLE_MS, now = Date.now()): void {
  for (const [key, o] of [...opened]) {
    if (now - o.lastUsed < idleMs) continue;
    opened.delete(key);
    closeSync(o.fd);
  }
  disarmWhenEmpty();
}

/**
 * Closes the descriptors of namespaces no process is in any more, and tells onNamespaceReleased's
 * listeners; returns how many. Costs a stat per descriptor, and a scan of /proc for one whose
 * process has gone (another may still be in it).
 */
export function releaseDeadNamespaces(): number {
  let released = 0;
  let all: string[] | undefined;
  for (const [key, o] of [...opened]) {
    const id = idOfKey(key);
    if (inNamespace(o.pid, id)) continue;
    all ??= pids();
    const other = all.find((pid) => inNamespace(pid, id));
    if (other) {
      o.pid = other;
      continue;
    }
    opened.delete(key);
    closeSync(o.fd);
    released++;
    for (const l of releasedListeners) l(key);
  }
  disarmWhenEmpty();
  return released;
}

function disarmWhenEmpty(): void {
  if (opened.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

function arm(): void {
  if (sweeper) return;
  let ticks = 0;
  sweeper = setInterval(() => {
    releaseDeadNamespaces();
    if (++ticks % (IDLE_MS / 2 / DEAD_CHECK_MS) === 0) closeIdleNamespaces();
  }, DEAD_CHECK_MS);
  sweeper.unref();
}
