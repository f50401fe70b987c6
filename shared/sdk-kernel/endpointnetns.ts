// endpointNetns: the forwarder's check of an endpoint's answer. A local endpoint answers the KERNEL
// mechanism with the namespace its interface goes into; it may only name its own. The forwarder
// dials the endpoint's unix socket itself, so it learns who serves that socket (SO_PEERCRED of a
// probe connection: the process that listens; its /proc/<pid>/ns/net, host PID namespace) and
// refuses an answer that names another namespace, before its dataplane uses it, closing the
// endpoint's side again. A next hop reached over TCP (another node) may not answer with a local
// mechanism that names a namespace at all. Limits: the probe is a second connection to the same
// path, so a process that can replace the endpoint's socket file between the two (it lives in the
// endpoint's own folder) could pass the check; and a listener's pid is read once, not pinned. The
// answer is kept while the socket file and the listener's namespace stay the same (peer.ts).
import { MechanismClass, MechanismType, Param } from '@nsm/api';
import { permissionDenied } from '@nsm/sdk/core/errors';
import { undoDownstream, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { clientUrlKey } from '@nsm/sdk/elements/clienturl';
import { parseUrl } from '@nsm/sdk/grpc/urls';
import { identityOf } from './nsinode';
import { listenerOfKnown } from './peer';

const NAMED = /^file:\/\/\/(?:var\/)?run\/netns\/([^/]+)$/;

async function verify(nextUrl: string | undefined, answer: string): Promise<void> {
  const what = `the endpoint's ${MechanismType.KERNEL} ${Param.inodeURL} "${answer}"`;
  if (!nextUrl || parseUrl(nextUrl).scheme !== 'unix') {
    throw permissionDenied(`${what}: a next hop on another node (${nextUrl ?? 'unknown'}) may not name a local namespace`);
  }
  const listener = await listenerOfKnown(parseUrl(nextUrl).address).catch((err: Error) => {
    throw permissionDenied(`${what}: cannot learn who serves ${nextUrl} (${err.message})`);
  });
  if (!listener.netns) throw permissionDenied(`${what}: the namespace of the process serving ${nextUrl} (pid ${listener.pid}) cannot be read`);
  const named = NAMED.exec(answer);
  const id = named ? identityOf(`/var/run/netns/${named[1]}`) : undefined;
  const claimed = named ? (id ? `inode://${id.dev}/${id.ino}` : undefined) : answer;
  if (claimed !== listener.netns) {
    throw permissionDenied(`${what} is not the namespace of the process serving ${nextUrl} (${listener.netns}): an endpoint may only name its own namespace`);
  }
}

export function endpointNetns(): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      const m = out.mechanism;
      const answer = m?.parameters?.[Param.inodeURL];
      if (m?.cls === MechanismClass.LOCAL && m.type === MechanismType.KERNEL && answer) {
        try {
          await verify(ctx.get(clientUrlKey), answer);
        } catch (err) {
          await undoDownstream(ctx, next, out);
          throw err;
        }
      }
      return out;
    },
  };
}
