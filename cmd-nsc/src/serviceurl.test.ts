import { parseServiceUrl } from './serviceurl';

describe('parseServiceUrl', () => {
  test.each([
    ['kernel://my-service/nsm-1', { mechanism: 'KERNEL', networkService: 'my-service', interfaceName: 'nsm-1', labels: {} }],
    ['kernel://my-service', { mechanism: 'KERNEL', networkService: 'my-service', interfaceName: '', labels: {} }],
    ['memif://svc/if?app=web&color=red', { mechanism: 'MEMIF', networkService: 'svc', interfaceName: 'if', labels: { app: 'web', color: 'red' } }],
    ['svc', { mechanism: 'KERNEL', networkService: 'svc', interfaceName: '', labels: {} }],
    ['svc?a=1', { mechanism: 'KERNEL', networkService: 'svc', interfaceName: '', labels: { a: '1' } }],
    ['  Kernel://svc/  ', { mechanism: 'KERNEL', networkService: 'svc', interfaceName: '', labels: {} }],
    ['kernel://svc/a/b', { mechanism: 'KERNEL', networkService: 'svc', interfaceName: 'b', labels: {} }],
    ['kernel://my%2Dsvc/nsm%2D1', { mechanism: 'KERNEL', networkService: 'my-svc', interfaceName: 'nsm-1', labels: {} }],
    ['kernel://icmp-responder@my.cluster2/nsm-1', { mechanism: 'KERNEL', networkService: 'icmp-responder@my.cluster2', interfaceName: 'nsm-1', labels: {} }],
    ['kernel://svc/123456789012345', { mechanism: 'KERNEL', networkService: 'svc', interfaceName: '123456789012345', labels: {} }],
  ])('%j', (raw, want) => expect(parseServiceUrl(raw, 'kernel')).toEqual(want));

  test.each([
    ['', /invalid network service URL/],
    ['kernel://', /invalid network service URL/],
    ['kernel://svc@/nsm-1', /domain cannot be empty/],
    ['kernel://svc@bad_-.-x/nsm-1', /neither a DNS name nor ip:port/],
    ['kernel://svc/1234567890123456', /interface name "1234567890123456" is longer than 15 characters/],
  ])('rejects %j', (raw, msg) => expect(() => parseServiceUrl(raw, 'kernel')).toThrow(msg));
});
