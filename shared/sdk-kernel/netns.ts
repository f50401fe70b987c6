// Network namespace references and how to run a command inside one.
//
// NSM hands a forwarder a namespace as a URL (`inodeURL`), e.g. file:///proc/<pid>/fd/<n>,
// file:///proc/<pid>/ns/net or file:///var/run/netns/<name>. Node cannot setns() a thread, so
// every namespace-scoped operation is a child process that enters the namespace first:
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
import { invalidArgument, notFound } from '@nsm/sdk/core/errors';

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

/** Parses and validates an NSM `inodeURL` (scheme `file`, non-empty path, a network namespace file). */
export function netnsFromUrl(url: string): Netns {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidArgument(`netns ${url} is not a URL`);
  }
  if (u.protocol !== 'file:') throw invalidArgument(`netns ${url} must be a file:// URL`);
  const path = decodeURIComponent(u.pathname);
  if (!path || path === '/') throw invalidArgument(`netns ${url} has an empty path`);
  return netnsFromPath(path, url);
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
