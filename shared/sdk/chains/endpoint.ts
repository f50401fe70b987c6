// The endpoint server chain (sdk.md §5.1): the head every NSE, forwarder and nsmgr shares, followed by
// the product's own elements. The order is fixed here and nowhere else. Authorization is on by
// default (upstream's constructors default to allow-all and its commands install the default
// policies; here the chain does): every Request and Close that came over gRPC must pass `policies`
// before anything after updatetoken runs. A deployment adds its own policy by passing a longer list.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock';
import { realClock } from '../core/clock';
import { chain, handler, NetworkServiceElement, NetworkServiceHandler } from '../core/networkservice';
import { metadata } from '../core/metadata';
import { authorize } from '../elements/authorize';
import { Begin, beginServer } from '../elements/begin';
import { MonitorOptions, MonitorServer, monitor } from '../elements/monitor';
import { timeout } from '../elements/timeout';
import { trimPathServer } from '../elements/trimpath';
import { updatePath } from '../elements/updatepath';
import { updateToken } from '../elements/updatetoken';
import { validate } from '../elements/validate';
import { monitorRegistration, networkServiceRegistration } from '../grpc/services';
import type { ServiceRegistration } from '../grpc/server';
import type { Policy } from '../policy';
import type { TokenGenerator } from '../token';

export interface EndpointOptions {
  name?: string;
  tokens: TokenGenerator;
  clock?: Clock;
  /** Server policies of the default authorize element; default upstream's server set (policy/builtin). */
  policies?: readonly Policy[];
  /** Replaces the authorize element altogether (tests of the chain without identities pass `{}`). */
  authorize?: NetworkServiceElement;
  additional?: NetworkServiceElement[];
  /** Options of the monitor element. */
  monitor?: MonitorOptions;
}

export interface Endpoint {
  readonly name: string;
  readonly handler: NetworkServiceHandler;
  readonly monitor: MonitorServer;
  readonly begin: Begin;
  services(): ServiceRegistration[];
}

export function endpoint(opts: EndpointOptions): Endpoint {
  const name = opts.name ?? `endpoint-${randomUUID()}`;
  const clock = opts.clock ?? realClock;
  const monitorServer = new MonitorServer();
  const begin = beginServer();
  const elements: NetworkServiceElement[] = [
    validate(),
    updatePath(name),
    begin,
    updateToken(opts.tokens),
    opts.authorize ?? authorize({ policies: opts.policies, clock }),
    metadata(),
    timeout(clock),
    monitor(monitorServer, opts.monitor),
    trimPathServer(),
    ...(opts.additional ?? []),
  ];
  const h = handler(chain(...elements));
  return {
    name,
    handler: h,
    monitor: monitorServer,
    begin,
    services: () => [networkServiceRegistration(h), monitorRegistration(monitorServer)],
  };
}
