// Who is at the other end of a call that came over a unix socket: the process that connected (its
// pid and network namespace, from SO_PEERCRED as the server accepted the connection). A server that
// is given a way to learn it (ServerOptions.unixPeer) accepts its unix sockets itself and hands each
// connection to grpc-js; the connection is tagged with an address of its own that grpc-js reports
// as the call's peer (call.getPeer()), by which the boundary finds what was learnt here. Nothing a
// caller sends can make that tag: over TCP the peer is an ip:port, and tags are only made here.
import { createKey } from '../core/context';

export interface UnixPeer {
  /** The connecting process, in the server's PID namespace (0: outside it). */
  pid: number;
  /** Its network namespace as inode://<dev>/<ino>, when it could be read at accept. */
  netns?: string;
}

/** The unix-socket peer of a call, put in the context by the boundary; absent for TCP and in-process calls. */
export const unixPeerKey = createKey<UnixPeer>('grpc.unixPeer');

const TAG = 'nsm-unix-peer#';
const peers = new Map<string, UnixPeer>();
let next = 0;

/** Registers a connection's peer; returns its tag and the function that forgets it (on close). */
export function tagUnixPeer(peer: UnixPeer): { tag: string; forget: () => void } {
  const tag = `${TAG}${++next}`;
  peers.set(tag, peer);
  return { tag, forget: () => peers.delete(tag) };
}

/** The peer of a call by grpc-js's peer string, when it came over a tagged unix connection. */
export function unixPeerOf(getPeer: string | undefined): UnixPeer | undefined {
  return getPeer?.startsWith(TAG) ? peers.get(getPeer) : undefined;
}
