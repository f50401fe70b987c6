import { Connection, NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { checkNetworkService, checkNetworkServiceEndpoint, checkRequest } from './index';
import { Code } from '../core/errors';
import { checkDomain, isInterdomain, parseHostPortDomain, splitDomain, withDomain } from './interdomain';

test('splits at the last "@" and puts the domain back', () => {
  expect(splitDomain('icmp-responder@my.cluster2')).toEqual({ name: 'icmp-responder', domain: 'my.cluster2' });
  expect(splitDomain('a@b@c.d')).toEqual({ name: 'a@b', domain: 'c.d' });
  expect(splitDomain('local')).toEqual({ name: 'local', domain: '' });
  expect(withDomain('x', 'd.e')).toBe('x@d.e');
  expect(withDomain('x', '')).toBe('x');
  expect([isInterdomain('a@b'), isInterdomain('a'), isInterdomain(undefined)]).toEqual([true, false, false]);
});

test('a domain is a DNS name or ip:port', () => {
  expect(checkDomain('f', 'svc@my.cluster2')).toEqual({ name: 'svc', domain: 'my.cluster2' });
  expect(checkDomain('f', 'svc@10.0.0.1:5002').domain).toBe('10.0.0.1:5002');
  expect(parseHostPortDomain('[fd00::1]:5002')).toEqual({ host: 'fd00::1', port: 5002 });
  expect(parseHostPortDomain('10.0.0.1:0')).toBeUndefined();
  expect(parseHostPortDomain('my.cluster2')).toBeUndefined();
});

test.each([
  ['svc@', /domain cannot be empty/],
  ['@my.cluster2', /nothing before "@"/],
  ['svc@bad domain', /neither a DNS name nor ip:port/],
  ['svc@-x.example', /neither a DNS name nor ip:port/],
  ['svc@10.0.0.1:99999', /neither a DNS name nor ip:port/],
  ['svc@a/b', /neither a DNS name nor ip:port/],
])('%j is refused, naming the field', (name, why) => {
  let err: { code?: number; message?: string } = {};
  try {
    checkDomain('connection.network_service', name);
  } catch (e) {
    err = e as typeof err;
  }
  expect(err.code).toBe(Code.INVALID_ARGUMENT);
  expect(err.message).toMatch(/connection\.network_service/);
  expect(err.message).toMatch(why);
});

test('Requests and registry records with a bad domain are refused at the door, naming the field', () => {
  const request = (networkService: string) => ({ connection: Connection.fromPartial({ id: 'c', networkService }), mechanismPreferences: [] });
  expect(() => checkRequest(request('icmp-responder@my.cluster2'))).not.toThrow();
  expect(() => checkRequest(request('icmp-responder@my_cluster!'))).toThrow(/connection\.network_service: .*neither a DNS name/);
  const nse = (p: Partial<NetworkServiceEndpoint>) => NetworkServiceEndpoint.fromPartial({ name: 'nse', url: 'tcp://10.0.0.1:5001', networkServiceNames: ['svc'], ...p });
  expect(() => checkNetworkServiceEndpoint('nse', nse({ name: 'nse@floating.example' }), 'record')).not.toThrow();
  expect(() => checkNetworkServiceEndpoint('nse', nse({ name: 'nse@' }), 'record')).toThrow(/nse\.name: domain cannot be empty/);
  expect(() => checkNetworkServiceEndpoint('nse', nse({ networkServiceNames: ['svc@x..y'] }), 'record')).toThrow(/network_service_names\[0\]/);
  expect(() => checkNetworkService('ns', NetworkService.fromPartial({ name: 'svc@-bad' }), 'template')).toThrow(/ns\.name/);
});
