// sendernetns: a Request may only name its sender's own network namespace (the nsmgr's check, where a
// client's unix-socket connection is accepted). The KERNEL mechanism's inodeURL tells the forwarder
// where to put the client's interface; without this check any pod could have it put into another
// pod's namespace, the node's, or the forwarder's. The sender is known from its connection
// (grpc/unixpeer.ts: SO_PEERCRED at accept, then /proc/<pid>/ns/net), not from anything it sends.
//  * over the unix socket: each KERNEL inodeURL (preferences and the connection's current mechanism,
//    which a refresh keeps) must be inode://<dev>/<ino> of the sender's namespace, or a named
//    namespace (file:///var/run/netns/<name>) that is the sender's; or any named namespace but the
//    node's if the sender is in the namespace `namedFrom` (the local runtime's own, the host's: its
//    tests and tools act from outside every node; unset in a cluster);
//  * over TCP (another node's nsmgr): no local mechanism may name a namespace or file at all, so a
//    remote peer can never make the local forwarder use a local namespace.
// Refused before anything is made, with the parameter named.
import { statSync } from 'node:fs';
import { Mechanism, MechanismClass, MechanismType, Param } from '@nsm/api';
import { invalidArgument, permissionDenied } from '../../core/errors';
import type { NetworkServiceElement } from '../../core/networkservice';
import type { Context } from '../../core/context';
import { peerKey } from '../../grpc/keys';
import { unixPeerKey, type UnixPeer } from '../../grpc/unixpeer';
import type { NetworkServiceRequest } from '@nsm/api';

export interface SenderNetnsOptions {
  /** inode://<dev>/<ino> of a namespace whose processes may name any named namespace but the node's (local runtime). */
  namedFrom?: string;
}

const NAMED = /^file:\/\/\/(?:var\/)?run\/netns\/([^/]+)$/;

function identity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `inode://${st.dev}/${st.ino}`;
  } catch {
    return undefined;
  }
}

function namedMechanisms(req: NetworkServiceRequest): Mechanism[] {
  const current = req.connection?.mechanism;
  return [...req.mechanismPreferences, ...(current ? [current] : [])].filter((m) => m.parameters?.[Param.inodeURL]);
}

const what = (m: Mechanism) => `mechanism ${m.type} parameter ${Param.inodeURL} "${m.parameters[Param.inodeURL]}"`;

function checkLocal(m: Mechanism, sender: UnixPeer, opts: SenderNetnsOptions): void {
  const url = m.parameters[Param.inodeURL];
  if (!sender.netns) throw permissionDenied(`${what(m)}: the sender's own network namespace could not be learnt (pid ${sender.pid}), so it may name none`);
  if (url.startsWith('inode://')) {
    if (url !== sender.netns) throw permissionDenied(`${what(m)} is not the sender's own network namespace (${sender.netns}): a Request may only name its sender's own namespace`);
    return;
  }
  const named = NAMED.exec(url);
  if (!named) throw invalidArgument(`${what(m)}: send the namespace as inode://<dev>/<ino> (stat of /proc/self/ns/net); file:// may only name /var/run/netns/<name>`);
  const id = identity(`/var/run/netns/${named[1]}`);
  if (id && id === sender.netns) return;
  const trusted = !!opts.namedFrom && sender.netns === opts.namedFrom;
  if (trusted && id && id !== identity('/proc/self/ns/net')) return;
  throw permissionDenied(`${what(m)} is not the sender's own network namespace (${sender.netns}): a Request may only name its sender's own namespace`);
}

function check(ctx: Context, req: NetworkServiceRequest, opts: SenderNetnsOptions): void {
  if (!ctx.get(peerKey)) return; // in-process: not a peer
  const sender = ctx.get(unixPeerKey);
  for (const m of namedMechanisms(req)) {
    if (m.cls !== MechanismClass.LOCAL) continue;
    if (!sender) {
      throw permissionDenied(`${what(m)}: a Request from another node may not name a local namespace or file; the local mechanism's namespace comes only from the local sender`);
    }
    if (m.type === MechanismType.KERNEL) checkLocal(m, sender, opts);
  }
}

export function senderNetns(opts: SenderNetnsOptions = {}): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      check(ctx, req, opts);
      return next.request(ctx, req);
    },
  };
}
