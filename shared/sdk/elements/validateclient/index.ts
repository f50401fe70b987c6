// validateclient: the reply of the next hop is input like any other. An endpoint or a remote forwarder
// answers with a mechanism whose parameters (names, namespaces, tunnel addresses, ports, keys) this
// hop's dataplane is about to use, and with a context it is about to program into a pod; a hostile
// or broken one must not get further than a Request from a caller would. Sits right above the RPC, so
// everything on the way back sees a checked connection. A refused reply is closed downstream again,
// so nothing stays half-made, and the caller gets the check's code (INVALID_ARGUMENT or
// RESOURCE_EXHAUSTED) with the field named.
import { StatusError } from '../../core/errors';
import { undoDownstream, type NetworkServiceElement } from '../../core/networkservice';
import { checkConnection } from '../../input';

export function validateClient(): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      try {
        checkConnection('connection', out);
      } catch (err) {
        if (out && typeof out === 'object') await undoDownstream(ctx, next, out);
        throw StatusError.wrap(err, 'the reply of the next hop is refused');
      }
      return out;
    },
  };
}
