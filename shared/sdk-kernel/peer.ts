// Who is at the other end of a unix socket, on this host: the peer process's pid (SO_PEERCRED, through
// the netlink addon) and its network namespace as inode://<dev>/<ino>. The nsmgr learns a client's
// namespace so from the connection it accepted; the forwarder learns an endpoint's from the socket
// the endpoint listens on. Both need the host's PID namespace to read /proc/<pid> of a pod's process.
import { connect } from 'node:net';
import { addon } from './netlink/addon';
import { identityOf } from './nsinode';

export interface SocketPeer {
  pid: number;
  /** inode://<dev>/<ino> of the peer's network namespace; undefined when it cannot be read (pid 0: outside our PID namespace). */
  netns?: string;
}

/** The peer of a connected unix socket, by its descriptor. */
export function peerOfSocket(fd: number): SocketPeer {
  const { pid } = addon().peercred(fd);
  const id = pid > 0 ? identityOf(`/proc/${pid}/ns/net`) : undefined;
  return id ? { pid, netns: `inode://${id.dev}/${id.ino}` } : { pid };
}

/**
 * The process listening on the unix socket at `path` (SO_PEERCRED of a connected client socket names
 * the process that called listen()), learnt over a connection of its own that is closed at once.
 */
export async function listenerOf(path: string, timeoutMs = 2000): Promise<SocketPeer> {
  const sock = connect(path);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${path} within ${timeoutMs} ms`)), timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0) throw new Error(`no descriptor for the connection to ${path}`);
    return peerOfSocket(fd);
  } finally {
    sock.destroy();
  }
}

/** Listeners learnt, by socket path: the socket file they were learnt through, and the answer. */
const learnt = new Map<string, { dev: number; ino: number; peer: SocketPeer }>();
const MAX_LEARNT = 1024;

/**
 * listenerOf, remembered: while `path` is the same socket file (device and inode) and the listener's
 * pid still has the namespace it had, the answer is the same, and the probe connection (a connect
 * and close on the endpoint's gRPC socket, which its server has to accept and drop) is not made
 * again. A socket file made anew, or a listener gone, is probed again.
 */
export async function listenerOfKnown(path: string, timeoutMs = 2000): Promise<SocketPeer> {
  const file = identityOf(path);
  const known = learnt.get(path);
  if (file && known && known.dev === file.dev && known.ino === file.ino && known.peer.netns) {
    const now = identityOf(`/proc/${known.peer.pid}/ns/net`);
    if (now && `inode://${now.dev}/${now.ino}` === known.peer.netns) return known.peer;
  }
  const peer = await listenerOf(path, timeoutMs);
  if (file) {
    learnt.delete(path);
    if (learnt.size >= MAX_LEARNT) learnt.delete(learnt.keys().next().value!);
    learnt.set(path, { dev: file.dev, ino: file.ino, peer });
  }
  return peer;
}
