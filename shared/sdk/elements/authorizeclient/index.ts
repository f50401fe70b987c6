// authorize (client; sdk.md §3.5): the reply of the next hop must satisfy every policy over the
// whole returned path, with the server's TLS identity as the peer (next_token_signed: the server
// signed its own segment). A denied reply is closed downstream again, so nothing stays half-made.
// Close is checked first with the peer remembered for the connection and not sent when denied.
// The gRPC client edge reports the server's identity through the call peer slot in the context;
// a reply that did not come over gRPC (no report) is not checked.
import type { Connection } from '@nsm/api';
import type { Clock } from '../../core/clock';
import { realClock } from '../../core/clock';
import { createKey } from '../../core/context';
import { clientMeta, hasMetadata } from '../../core/metadata';
import { undoDownstream, NetworkServiceElement } from '../../core/networkservice';
import { clientPolicies } from '../../policy/builtin';
import { enforce, Policy, policyInput } from '../../policy';
import { callPeerSlotKey, TransportPeer } from '../../spiffe/peer';
import { StatusError } from '../../core/errors';

export interface AuthorizeClientOptions {
  /** Default: upstream's client set. Pass a longer list to add policies. */
  policies?: readonly Policy[];
  clock?: Clock;
}

/** What the last reply of this connection came with: the server's identity (undefined: plaintext). */
interface Remembered {
  peer?: TransportPeer;
}
const rememberedKey = createKey<Remembered>('authorizeclient.peer');

export function authorizeClient(opts: AuthorizeClientOptions = {}): NetworkServiceElement {
  const policies = opts.policies ?? clientPolicies;
  const clock = opts.clock ?? realClock;
  // Without the metadata element (bare test chains) the last reply is remembered per element.
  let fallback: Remembered | undefined;
  const check = (conn: Connection, r: Remembered) =>
    enforce(policies, policyInput(conn.path?.pathSegments ?? [], conn.path?.index ?? 0, r.peer, clock.now()));
  return {
    async request(ctx, req, next) {
      const slot: { called?: boolean; peer?: TransportPeer } = {};
      const out = await next.request(ctx.with(callPeerSlotKey, slot), req);
      if (!slot.called) return out;
      const r: Remembered = { peer: slot.peer };
      try {
        check(out, r);
      } catch (err) {
        await undoDownstream(ctx, next, out);
        throw StatusError.wrap(err, 'the reply of the next hop is not authorized');
      }
      if (hasMetadata(ctx)) clientMeta(ctx).set(rememberedKey, r);
      else fallback = r;
      return out;
    },
    async close(ctx, conn, next) {
      const r = hasMetadata(ctx) ? clientMeta(ctx).get(rememberedKey) : fallback;
      if (r) check(conn, r);
      return next.close(ctx, conn);
    },
  };
}
