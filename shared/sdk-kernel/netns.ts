// Network namespace references and how to run a command inside one.
//
// NSM hands a forwarder a namespace as a URL (`inodeURL`). Two forms are accepted (netnsFromUrl):
// inode://<dev>/<ino>, upstream's, which names the namespace by identity and works across PID
// namespaces (./nsinode.ts finds it); and file:///var/run/netns/<name>, a named namespace (tests,
// tools). file:///proc/<pid>/... is refused: a pid means another process in another PID namespace.
// Neither form may name the forwarder's own namespace (the node's) or the host's. The forwarder's
// own operations reach a namespace through netlink sockets the addon opens inside it
// (./netlink/handles.ts); commands
// (start-up work, daemons, tests) are child processes that enter the namespace first:
//  * a namespace named under /var/run/netns runs `ip -n NAME ...` (iproute2 opens it itself);
//  * any other namespace file runs `nsenter --net=PATH ip ...`: nsenter setns()es and then execs
//    the command, so it costs no extra process, needs no state, and cannot leak anything if we
//    crash. Bind-mounting /proc paths under /var/run/netns to get a name would need a mount per
//    connection, a unique name, and cleanup after a crash, for no speed gain (measured: both
//    forms cost ~3 ms per call).
// Non-`ip` tools (ethtool, sysctl, the OVS daemons) always go through nsenter, except that the
// OVS daemons in a named namespace use `ip netns exec`, which also mounts that namespace's /sys.
import { readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { invalidArgument, notFound, permissionDenied } from '@nsm/sdk/core/errors';
import { identityOf, parseInodeUrl, pathOfNamespace, type NsIdentity } from './nsinode';

export interface Netns {
  /** The namespace file: /var/run/netns/<name>, /proc/<pid>/ns/net, /proc/<pid>/fd/<n>, ... */
  readonly path: string;
  /** Set when the file lives in /var/run/netns, so `ip -n name` can be used. */
  readonly name?: string;
  /** What to call it in error messages (the URL it came from, or the path). */
  readonly label: string;
}

/** `undefined` everywhere in this package means the calling process's own namespace. */
export type NetnsRef = Netns | undefined;

export const NETNS_RUN_DIR = '/var/run/netns';

/**
 * Parses and resolves an NSM `inodeURL` from a peer: inode://<dev>/<ino> or
 * file:///var/run/netns/<name>; refuses /proc paths and the forwarder's own and the host's namespaces.
 */
export function netnsFromUrl(url: string): Netns {
  if (url.startsWith('inode://')) {
    const id = parseInodeUrl(url);
    if (id.dev !== nsfsDev()) throw invalidArgument(`netns ${url}: device ${id.dev} is not the namespace file system's (${nsfsDev()})`);
    refuseOwn(id, url);
    return inodeNetns(id, url);
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidArgument(`netns ${url} is not a URL`);
  }
  if (u.protocol !== 'file:') throw invalidArgument(`netns ${url} must be an inode://<dev>/<ino> or file:///var/run/netns/<name> URL`);
  const path = decodeURIComponent(u.pathname);
  if (!path || path === '/') throw invalidArgument(`netns ${url} has an empty path`);
  if (path.startsWith('/proc/')) {
    throw invalidArgument(`netns ${url}: a /proc path names a process of the sender's PID namespace, which is not ours; send the namespace as inode://<dev>/<ino> (stat of /proc/self/ns/net)`);
  }
  if (namedNetns(path) === undefined) throw invalidArgument(`netns ${url} must be an inode://<dev>/<ino> or file:///var/run/netns/<name> URL`);
  const ns = netnsFromPath(path, url);
  const id = identityOf(path);
  if (id) refuseOwn(id, url);
  return ns;
}

/** The namespaces no peer may name: the forwarder's own (the node's, with host networking) and the host's. */
function refuseOwn(id: NsIdentity, url: string): void {
  for (const [path, what] of [
    ['/proc/self/ns/net', "the forwarder's own (the node's) network namespace"],
    ['/proc/1/ns/net', "the host's network namespace"],
  ] as const) {
    const own = identityOf(path);
    if (own && own.dev === id.dev && own.ino === id.ino) throw permissionDenied(`netns ${url} names ${what}; a Request may only name its sender's own namespace`);
  }
}

/** A namespace found by identity; its path (a descriptor of ours) is looked up on every use. */
function inodeNetns(id: NsIdentity, label: string): Netns {
  pathOfNamespace(id, label); // NOT_FOUND now rather than at first use
  return {
    label,
    get path() {
      return pathOfNamespace(id, label);
    },
  };
}

/** A namespace created with `ip netns add NAME`. */
export function netnsByName(name: string): Netns {
  if (!name || name.includes('/') || name === '.' || name === '..') {
    throw invalidArgument(`invalid netns name "${name}"`);
  }
  return netnsFromPath(`${NETNS_RUN_DIR}/${name}`, name);
}

export function netnsFromPath(path: string, label = `file://${path}`): Netns {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw notFound(`netns ${label} does not exist`);
    throw invalidArgument(`netns ${label} cannot be read: ${(e as Error).message}`);
  }
  // All namespace files live on the single nsfs superblock, so a matching device number tells a
  // namespace file (or a bind mount of one) from an ordinary file, e.g. a stale /var/run/netns entry
  // whose mount has gone.
  if (st.isDirectory() || st.dev !== nsfsDev()) {
    throw invalidArgument(`netns ${label} is not a network namespace`);
  }
  // /proc/<pid>/ns/* and /proc/<pid>/fd/* are magic links; for a namespace they read "<type>:[inode]"
  // (an fd opened on a bind mount reads as that mount's path instead, and the device check above holds).
  if (path.startsWith('/proc/')) {
    let target = '';
    try {
      target = readlinkSync(path);
    } catch {
      // not a link: nothing more to learn
    }
    const m = /^([a-z_]+):\[\d+\]$/.exec(target);
    if (m && m[1] !== 'net') {
      throw invalidArgument(`netns ${label} is not a network namespace (${target})`);
    }
  }
  const name = namedNetns(path);
  return name === undefined ? { path, label } : { path, name, label };
}

let cachedNsfsDev: number | undefined;
function nsfsDev(): number {
  cachedNsfsDev ??= statSync('/proc/self/ns/net').dev;
  return cachedNsfsDev;
}

/** The name `ip -n` understands, when `path` is a file directly in /var/run/netns. */
function namedNetns(path: string): string | undefined {
  try {
    if (realpathSync(dirname(path)) !== realpathSync(NETNS_RUN_DIR)) return undefined;
  } catch {
    return undefined;
  }
  return basename(path);
}

export function describeNetns(ns: NetnsRef): string {
  return ns ? ns.label : 'the forwarder netns';
}

/** argv for `ip ARGS...` run inside `ns`. */
export function ipArgv(ns: NetnsRef, ...args: string[]): string[] {
  if (!ns) return ['ip', ...args];
  if (ns.name !== undefined) return ['ip', '-n', ns.name, ...args];
  return ['nsenter', `--net=${ns.path}`, 'ip', ...args];
}

/** argv that runs any command inside `ns` (network namespace only; the mount namespace is ours). */
export function inNetnsArgv(ns: NetnsRef, argv: readonly string[]): string[] {
  return ns ? ['nsenter', `--net=${ns.path}`, ...argv] : [...argv];
}

/**
 * argv for a long-running daemon inside `ns`. For a named namespace `ip netns exec` is used because
 * it also mounts that namespace's /sys, which daemons such as ovs-vswitchd read interface details from.
 */
export function daemonInNetnsArgv(ns: NetnsRef, argv: readonly string[]): string[] {
  if (!ns) return [...argv];
  if (ns.name !== undefined) return ['ip', 'netns', 'exec', ns.name, ...argv];
  return ['nsenter', `--net=${ns.path}`, ...argv];
}

/** The argument for `ip link ... netns X`: always the file path, since iproute2 opens any value containing '/' as a file. */
export function ipNetnsArg(ns: Netns): string {
  return ns.path;
}
