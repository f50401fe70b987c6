import { Code } from '../../core/errors';
import { Dnsmasq, dnsmasqUnavailable, startDnsmasq } from '../../testing/dnsmasq';
import { dnsResolver, dnsServerError, NSMGR_PROXY_SERVICE, REGISTRY_SERVICE } from './resolver';

const skip = dnsmasqUnavailable();
const maybe = skip ? describe.skip : describe;
if (skip) console.warn(`resolver tests against dnsmasq skipped: ${skip}`);

maybe('against a real DNS server (dnsmasq)', () => {
  let dns: Dnsmasq;
  beforeAll(async () => {
    dns = await startDnsmasq({
      domains: {
        'my.cluster2': [
          { service: REGISTRY_SERVICE, ip: '10.20.0.1', port: 6002 },
          { service: NSMGR_PROXY_SERVICE, ip: '10.20.0.2', port: 6004 },
        ],
        'floating.example': [{ service: REGISTRY_SERVICE, ip: '10.30.0.1', port: 7002 }],
      },
    });
  });
  afterAll(() => dns?.stop());

  test('SRV for the port, A for the address, as upstream asks', async () => {
    const r = dnsResolver({ servers: [dns.server] });
    expect(await r.resolve(REGISTRY_SERVICE, 'my.cluster2')).toBe('tcp://10.20.0.1:6002');
    expect(await r.resolve(NSMGR_PROXY_SERVICE, 'my.cluster2')).toBe('tcp://10.20.0.2:6004');
    expect(await r.resolve(REGISTRY_SERVICE, 'floating.example')).toBe('tcp://10.30.0.1:7002');
  });

  test('a domain without the record is NOT_FOUND, naming what was asked', async () => {
    const r = dnsResolver({ servers: [dns.server] });
    await expect(r.resolve(NSMGR_PROXY_SERVICE, 'floating.example')).rejects.toMatchObject({
      code: Code.NOT_FOUND,
      message: expect.stringMatching(/cannot resolve domain "floating.example": no SRV record _nsmgr-proxy.nsm-system._tcp.floating.example/),
    });
  });

  test('ip:port domains need no DNS', async () => {
    const r = dnsResolver({ servers: [dns.server] });
    expect(await r.resolve(REGISTRY_SERVICE, '10.9.9.9:5002')).toBe('tcp://10.9.9.9:5002');
  });
});

test('a DNS server that does not answer is UNAVAILABLE, not a hang', async () => {
  // 192.0.2.0/24 is TEST-NET-1: nothing answers there.
  const r = dnsResolver({ servers: ['192.0.2.53'], timeoutMs: 200 });
  await expect(r.resolve(REGISTRY_SERVICE, 'my.cluster2')).rejects.toMatchObject({ code: Code.UNAVAILABLE });
});

test.each([
  ['10.0.0.1', undefined],
  ['10.0.0.1:5353', undefined],
  ['[fd00::1]:53', undefined],
  ['fd00::1', undefined],
  ['dns.example', 'is not ip or ip:port'],
  ['10.0.0.1:0', 'has a bad port'],
  ['300.0.0.1', 'is not an IP address'],
])('DNS server %j', (s, err) => {
  expect(dnsServerError(s)).toBe(err);
  if (err) expect(() => dnsResolver({ servers: [s] })).toThrow(err);
});
