// The client chain (sdk.md §5.2): used by the NSC, and inside nsmgr and forwarders (through connect)
// to reach the next hop. The order is fixed here and nowhere else. Its channels present the SVID of
// `source`; `authorize` is where a client checks the reply of its next hop (authorizeClient).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock';
import { realClock } from '../core/clock';
import { chain, NetworkServiceElement } from '../core/networkservice';
import { metadata } from '../core/metadata';
import { beginClient } from '../elements/begin';
import { clientUrl } from '../elements/clienturl';
import { connectClient } from '../elements/connect/client';
import { dial } from '../elements/dial';
import { refresh } from '../elements/refresh';
import { trimPathClient } from '../elements/trimpath';
import { updatePath } from '../elements/updatepath';
import { validateClient } from '../elements/validateclient';
import type { X509Source } from '../spiffe/source';
import type { TokenGenerator } from '../token';

export interface ClientOptions {
  name?: string;
  tokens: TokenGenerator;
  /** The identity this client presents to its next hops (mutual TLS). */
  source: X509Source;
  clock?: Clock;
  /** Fixed next hop; without it the URL chosen earlier in the chain (discovery) is used. */
  url?: string;
  /** Only the NSC refreshes; pass-through hops are built without. */
  refresh?: boolean;
  heal?: NetworkServiceElement;
  authorize?: NetworkServiceElement;
  dialTimeoutMs?: number;
  additional?: NetworkServiceElement[];
}

export function client(opts: ClientOptions): NetworkServiceElement {
  const clock = opts.clock ?? realClock;
  return chain(
    updatePath(opts.name ?? `client-${randomUUID()}`),
    beginClient(),
    metadata(),
    opts.refresh === false ? {} : refresh(clock),
    clientUrl(opts.url),
    opts.heal ?? {},
    dial({ source: opts.source, dialTimeoutMs: opts.dialTimeoutMs }),
    ...(opts.additional ?? []),
    opts.authorize ?? {},
    trimPathClient(),
    // Right above the RPC: every element above sees the next hop's reply only once it is checked.
    validateClient(),
    connectClient(opts.tokens),
  );
}
