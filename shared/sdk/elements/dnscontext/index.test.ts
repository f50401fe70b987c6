import { DNSConfig } from '@nsm/api';
import { handler } from '../../core/networkservice';
import { bg, conn, req } from '../../testing/elements';
import { dnsContext, parseDnsConfigs } from './index';

describe('parseDnsConfigs', () => {
  test.each([
    ['', []],
    ['[]', []],
    ['[{"dns_server_ips":["10.0.0.1"],"search_domains":["my.svc"]}]', [{ dnsServerIps: ['10.0.0.1'], searchDomains: ['my.svc'] }]],
    ['[{"dnsServerIps":["10.0.0.1","10.0.0.2"]}]', [{ dnsServerIps: ['10.0.0.1', '10.0.0.2'], searchDomains: [] }]],
  ])('%s', (json, want) => expect(parseDnsConfigs(json)).toEqual(want.map((w) => DNSConfig.fromPartial(w))));

  test.each([
    ['{', /not valid JSON/],
    ['{}', /must be a JSON array/],
    ['[{"search_domains":["a"]}]', /DNS config 0 needs dns_server_ips/],
    ['[{"dns_server_ips":[]}]', /needs dns_server_ips/],
    ['[{"dns_server_ips":["dns.example"]}]', /DNS configs\[0\]\.dns_server_ips\[0\]: "dns.example" is not an IP address/],
    ['[{"dns_server_ips":["10.0.0.1"],"search_domains":["a b"]}]', /search_domains\[0\]: "a b" is not a domain name/],
  ])('rejects %s', (json, msg) => expect(() => parseDnsConfigs(json)).toThrow(msg));
});

describe('dnscontext server', () => {
  const cfg = DNSConfig.fromPartial({ dnsServerIps: ['10.0.0.1'], searchDomains: ['svc'] });

  test('adds the configs once, also across refreshes (we differ from v1.1.1)', async () => {
    const h = handler(dnsContext([cfg]));
    const out = await h.request(bg(), req(conn()));
    expect(out.context!.dnsContext!.configs).toEqual([cfg]);
    const again = await h.request(bg(), req(out));
    expect(again.context!.dnsContext!.configs).toEqual([cfg]);
  });

  test('keeps configs that are already there and does nothing without configs', async () => {
    const other = DNSConfig.fromPartial({ dnsServerIps: ['1.1.1.1'] });
    const c = conn({ context: { ipContext: undefined, ethernetContext: undefined, MTU: 0, extraContext: {}, dnsContext: { configs: [other] } } });
    expect((await handler(dnsContext([cfg])).request(bg(), req(c))).context!.dnsContext!.configs).toEqual([other, cfg]);
    expect((await handler(dnsContext([])).request(bg(), req(conn()))).context).toBeUndefined();
  });
});
