// What of the filesystem is a pod's own. A pod's processes share the host's filesystem (commands run
// from it; the NSM socket and Workload API folders are shared as hostPath mounts would be), but a
// pod's resolver file is its own, as a kubelet gives every pod one: the client rewrites it with the
// endpoint's DNS context, and that must never reach the node's or the host's /etc/resolv.conf.
//
// This is the one place that decides how a pod's process is started in its filesystem view: the pod
// isolation work (own PID/mount/UTS/IPC namespaces per pod) replaces `podArgv` and keeps the pod's
// resolver file where `podResolvConf` says.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MeshPaths } from './paths';
import { repoRoot } from './paths';

const HOST_RESOLV_CONF = '/etc/resolv.conf';

/** The pod's resolver file on the host (in the pod's folder, gone with the pod). */
export const podResolvConf = (paths: MeshPaths, pod: string): string => join(paths.podDir(pod), 'etc', 'resolv.conf');

/**
 * Where a client pod's CoreDNS Corefile goes (NSM_COREFILE_PATH): a folder of the pod, as the webhook's
 * `coredns` emptyDir is, never the host's /etc/coredns. Nothing makes the folder: without a sidecar
 * there is none, and the client's `auto` DNS mode picks the resolver file.
 */
export const podCorefile = (paths: MeshPaths, pod: string): string => join(paths.podDir(pod), 'coredns', 'Corefile');

/** Gives a new pod its resolver file: the node's, as a kubelet does for dnsPolicy Default. */
export function preparePodFiles(paths: MeshPaths, pod: string): void {
  const file = podResolvConf(paths, pod);
  mkdirSync(dirname(file), { recursive: true });
  if (existsSync(HOST_RESOLV_CONF)) copyFileSync(HOST_RESOLV_CONF, file);
  else writeFileSync(file, '');
}

/** Whether `name` is a pod that has its own files (nodes and externals have none). */
export const hasPodFiles = (paths: MeshPaths, name: string): boolean => existsSync(podResolvConf(paths, name));

/**
 * argv that runs `argv` as a process of the pod, inside the pod's network namespace (the caller's
 * `ip netns exec` puts it there): in a mount namespace of its own where the pod's resolver file is
 * bind-mounted over /etc/resolv.conf. It is a slave of the host's: mounts the host makes later still
 * show in it, as under `ip netns exec`, and none made in it leaks out. Every element stays one
 * argument; no shell reads them as text.
 */
export function podArgv(paths: MeshPaths, pod: string, argv: string[]): string[] {
  return ['unshare', '--mount', '--propagation', 'slave', '--', 'sh', join(repoRoot(), 'local', 'pod-mounts.sh'), podResolvConf(paths, pod), ...argv];
}
