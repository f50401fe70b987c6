// The multi-cluster runtime's generated configuration: the NAT ruleset, the address map file, the DNS
// server's zones, and what the proxies are given. Checked as text here; test/e2e/clusters.test.ts
// runs them for real (nft, dnsmasq, queries from the nodes).
import { proxyEnv } from './clusters';
import { dnsmasqConf, externalIp, mapIpYaml, natRuleset } from './internet';

test('1:1 NAT per node and the load balancer’s ports, as one replaceable table', () => {
  const rules = natRuleset(2, [['10.233.0.11', '198.18.2.11'], ['10.233.0.12', '198.18.2.12']]);
  expect(rules).toContain('delete table ip nsm-nat');
  expect(rules).toContain('ip daddr 198.18.2.1 tcp dport { 5002, 5004 } dnat to 10.233.0.1;');
  // The same DNAT for what the gateway sends itself (its proxies dialling their own cluster's address).
  expect(rules.split('chain output')[1]).toContain('ip daddr 198.18.2.1 tcp dport { 5002, 5004 } dnat to 10.233.0.1;');
  expect(rules).toContain('ip daddr 198.18.2.12 dnat to 10.233.0.12;');
  expect(rules).toContain('oifname "inet0" ip saddr 10.233.0.11 snat to 198.18.2.11;');
  expect(externalIp(3, '10.233.0.14')).toBe('198.18.3.14');
});

test('the address map in upstream’s map file format', () => {
  expect(mapIpYaml([['10.233.0.1', '198.18.1.1'], ['10.233.0.11', '198.18.1.11']])).toBe('"10.233.0.1": "198.18.1.1"\n"10.233.0.11": "198.18.1.11"\n');
});

test('DNS zones: registry and nsmgr-proxy SRV and A records per domain; none forwarded', () => {
  const conf = dnsmasqConf(
    [
      { domain: 'my.cluster1', address: '198.18.1.1', nsmgrProxy: true },
      { domain: 'my.cluster3', address: '198.18.3.1', nsmgrProxy: false },
    ],
    '/run/x.pid',
  );
  expect(conf.split('\n')).toEqual(
    expect.arrayContaining([
      'no-resolv',
      'listen-address=198.18.0.53',
      'local=/my.cluster1/',
      'srv-host=_registry.nsm-system._tcp.my.cluster1,registry.nsm-system.my.cluster1,5002',
      'host-record=registry.nsm-system.my.cluster1,198.18.1.1',
      'srv-host=_nsmgr-proxy.nsm-system._tcp.my.cluster1,nsmgr-proxy.nsm-system.my.cluster1,5004',
      'host-record=nsmgr-proxy.nsm-system.my.cluster1,198.18.1.1',
      'srv-host=_registry.nsm-system._tcp.my.cluster3,registry.nsm-system.my.cluster3,5002',
    ]),
  );
  expect(conf).not.toContain('nsmgr-proxy.nsm-system.my.cluster3');
});

test('the proxies’ settings: upstream names at the cluster gateway’s addresses, extra env last', () => {
  const env = proxyEnv({ name: 'cluster1', domain: 'my.cluster1', proxyEnv: { NSM_LOG_LEVEL: 'DEBUG' } }, '/tmp/m/clusters/cluster1');
  expect(env['cmd-nsmgr-proxy']).toEqual({
    // Unique across clusters: the two proxies are adjacent segments of an interdomain path.
    NSM_NAME: 'nsmgr-proxy-cluster1',
    NSM_LISTEN_ON: 'tcp://10.233.0.1:5004',
    NSM_REGISTRY_URL: 'tcp://10.233.0.1:5002',
    NSM_PROXY_REGISTRY_URL: 'tcp://10.233.0.1:5003',
    NSM_MAP_IP_FILE_PATH: '/tmp/m/clusters/cluster1/map-ip.yaml',
    NSM_LOG_LEVEL: 'DEBUG',
  });
  expect(env['cmd-registry-proxy-dns']).toMatchObject({ NSM_LISTEN_ON: 'tcp://10.233.0.1:5003', NSM_DNS_SERVERS: '198.18.0.53:53' });
});
