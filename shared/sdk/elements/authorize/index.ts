// authorize (server; sdk.md §3.5): a Request or Close that came over gRPC must satisfy every policy
// over the left side of its path (segments 0..index, after updatepath/updatetoken stamped the
// caller's and this hop's tokens) and the TLS peer. In-process and timer-driven calls (no transport
// peer in the context) are not checked. A failing policy is PERMISSION_DENIED naming it; nothing
// downstream is called.
//
// Close is checked without tokens_expired (upstream checks it on Close too): a hop closes a
// connection exactly when its caller's token expired, and that Close must still reach the hops
// after it; otherwise each of them would keep the connection until its own lease ran out. Signature
// and chain are still checked, so only the identities on the path can close it.
import type { Connection } from '@nsm/api';
import type { Clock } from '../../core/clock';
import { realClock } from '../../core/clock';
import type { Context } from '../../core/context';
import type { NetworkServiceElement } from '../../core/networkservice';
import { serverPolicies, withoutExpiry } from '../../policy/builtin';
import { enforce, Policy, policyInput } from '../../policy';
import type { TransportPeer } from '../../spiffe/peer';
import { peerKey } from '../../grpc/keys';

/** What the gRPC edge tells about a call: present = it came over gRPC; peer = its TLS identity, if any. */
export type CallPeer = { peer?: TransportPeer } | undefined;

export interface AuthorizeOptions {
  /** Default: upstream's server set. Pass a longer list to add policies. */
  policies?: readonly Policy[];
  /** What Close must satisfy; default `policies` without tokens_expired. */
  closePolicies?: readonly Policy[];
  clock?: Clock;
  /** How the call's transport peer is found; default the gRPC edge's peer in the context. */
  peerOf?: (ctx: Context) => CallPeer;
}

/** The gRPC edge's peer (id and, with TLS, certificate); undefined for in-process calls. */
export function edgePeer(ctx: Context): CallPeer {
  const p = ctx.get(peerKey);
  if (!p) return undefined;
  return { peer: p.id && p.certificate ? { id: p.id, certificate: p.certificate, trustDomains: p.trustDomains } : undefined };
}

export function authorize(opts: AuthorizeOptions = {}): NetworkServiceElement {
  const policies = opts.policies ?? serverPolicies;
  const closePolicies = opts.closePolicies ?? withoutExpiry(policies);
  const clock = opts.clock ?? realClock;
  const peerOf = opts.peerOf ?? edgePeer;
  const check = (ctx: Context, conn: Connection | undefined, policies: readonly Policy[]) => {
    const call = peerOf(ctx);
    if (!call) return;
    const path = conn?.path;
    const index = path?.index ?? 0;
    const left = (path?.pathSegments ?? []).slice(0, index + 1);
    enforce(policies, policyInput(left, index, call.peer, clock.now()));
  };
  return {
    async request(ctx, req, next) {
      check(ctx, req.connection, policies);
      return next.request(ctx, req);
    },
    async close(ctx, conn, next) {
      check(ctx, conn, closePolicies);
      return next.close(ctx, conn);
    },
  };
}
