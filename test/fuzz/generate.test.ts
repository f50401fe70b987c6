// The generator's own promises, without a mesh: a seed always makes the same cases, and every
// structured case is malformed somewhere (the shared/sdk/input checks refuse it), so a live run may
// demand a refusal for each; only garbage bytes may decode into something harmless.
import { Connection, MonitorScopeSelector, NetworkService, NetworkServiceEndpoint, NetworkServiceEndpointQuery, NetworkServiceQuery, NetworkServiceRequest } from '@nsm/api';
import { Code } from '@nsm/sdk/core/errors';
import { checkClose, checkNetworkService, checkNetworkServiceEndpoint, checkRequest, checkSelector, checkTokenMetadata, checkWire, MAX_MESSAGE_BYTES, WireMessage } from '@nsm/sdk/input';
import { FuzzCase, generate, M } from './generate';

const ctx = { netnsUrl: 'file:///var/run/netns/fz-nsc' };

const TYPES: Record<string, WireMessage> = {
  [M.request]: 'NetworkServiceRequest',
  [M.close]: 'Connection',
  [M.monitor]: 'MonitorScopeSelector',
  [M.nseRegister]: 'NetworkServiceEndpoint',
  [M.nseUnregister]: 'NetworkServiceEndpoint',
  [M.nsRegister]: 'NetworkService',
  [M.nsUnregister]: 'NetworkService',
  [M.nseFind]: 'NetworkServiceEndpointQuery',
  [M.nsFind]: 'NetworkServiceQuery',
};

/** The code the server's checks give `c` (OK when they accept it). */
function verdict(c: FuzzCase): Code {
  const named = <T extends { name: string }>(x: T) => {
    if (!x.name) throw Object.assign(new Error('no name'), { code: Code.INVALID_ARGUMENT });
    return x;
  };
  try {
    if (c.body.length > MAX_MESSAGE_BYTES) return Code.RESOURCE_EXHAUSTED;
    checkWire(TYPES[c.method], c.body);
    const md = () => checkTokenMetadata(c.metadata, 'nsm-client-token', 'nsm-client-token-expires');
    switch (c.method) {
      case M.request:
        checkRequest(NetworkServiceRequest.decode(c.body));
        md();
        break;
      case M.close:
        checkClose(Connection.decode(c.body));
        md();
        break;
      case M.monitor:
        checkSelector(MonitorScopeSelector.decode(c.body));
        break;
      case M.nseRegister:
        checkNetworkServiceEndpoint('r', NetworkServiceEndpoint.decode(c.body), 'record');
        break;
      case M.nsRegister:
        checkNetworkService('r', NetworkService.decode(c.body), 'record');
        break;
      case M.nseUnregister:
        checkNetworkServiceEndpoint('r', named(NetworkServiceEndpoint.decode(c.body)), 'template');
        break;
      case M.nsUnregister:
        checkNetworkService('r', named(NetworkService.decode(c.body)), 'template');
        break;
      case M.nseFind:
        checkNetworkServiceEndpoint('r', NetworkServiceEndpointQuery.decode(c.body).networkServiceEndpoint ?? NetworkServiceEndpoint.fromPartial({}), 'template');
        break;
      case M.nsFind:
        checkNetworkService('r', NetworkServiceQuery.decode(c.body).networkService ?? NetworkService.fromPartial({}), 'template');
        break;
    }
    return Code.OK;
  } catch (err) {
    return (err as { code?: Code }).code ?? Code.UNKNOWN;
  }
}

test('the same seed makes the same cases (token expiries aside: they follow the clock)', () => {
  const same = (c: FuzzCase) => [c.family, c.target, c.body.toString('base64'), Object.keys(c.metadata), c.metadata['nsm-client-token']];
  const a = generate(42, 200, ctx);
  expect(generate(42, 200, ctx).map(same)).toEqual(a.map(same));
  expect(generate(43, 200, ctx).map(same)).not.toEqual(a.map(same));
});

test('every structured case is refused by the checks, with a clear code', () => {
  const cases = generate(7, 2000, ctx).filter((c) => !c.raw);
  const accepted = cases.filter((c) => ![Code.INVALID_ARGUMENT, Code.RESOURCE_EXHAUSTED].includes(verdict(c)));
  expect(accepted.map((c) => `#${c.n} ${c.family}`)).toEqual([]);
  expect(cases.length).toBeGreaterThan(1500);
});
