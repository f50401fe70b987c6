import { ConnectionContext } from '@nsm/api';
import { Code } from '../core/errors';
import { checkContext } from './context';

const ctx = (p: object) => ConnectionContext.fromPartial(p);
const ip = (p: object) => ctx({ ipContext: p });
const many = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));
const OK = undefined;
const BAD = Code.INVALID_ARGUMENT;
const BIG = Code.RESOURCE_EXHAUSTED;

type Case = [string, ConnectionContext, Code | undefined, RegExp | undefined];

// One line per case: the context, the code it gets (none: accepted), what the message says.
const cases: Case[] = [
  ['what point-to-point IPAM answers', ip({ srcIpAddrs: ['172.16.1.101/32'], dstIpAddrs: ['172.16.1.100/32'], srcRoutes: [{ prefix: '172.16.1.100/32' }], dstRoutes: [{ prefix: '172.16.1.101/32' }] }), OK, undefined],
  ['IPv6 and a gateway', ip({ srcIpAddrs: ['fd00::1/64'], srcRoutes: [{ prefix: '::/0', nextHop: 'fd00::2' }] }), OK, undefined],
  ['excluded prefixes', ip({ excludedPrefixes: ['10.96.0.0/12', '10.244.0.0/16'] }), OK, undefined],
  ['an address with a command', ip({ srcIpAddrs: ['10.0.0.1/32\naddr flush dev eth0'] }), BAD, /ip_context\.src_ip_addrs\[0\]: "10\.0\.0\.1\/32\\naddr flush dev eth0" is not an address/],
  ['a route prefix with words after it', ip({ dstRoutes: [{ prefix: '10.0.0.0/8 table 254' }] }), BAD, /ip_context\.dst_routes\[0\]\.prefix/],
  ['a next hop that is a name', ip({ srcRoutes: [{ prefix: '10.0.0.0/8', nextHop: 'gateway' }] }), BAD, /src_routes\[0\]\.nextHop: "gateway" is not an IP address/],
  ['an excluded prefix without length', ip({ excludedPrefixes: ['10.0.0.1'] }), BAD, /excluded_prefixes\[0\]: "10\.0\.0\.1" is not a prefix/],
  ['a prefix length of 33', ip({ extraPrefixes: ['10.0.0.0/33'] }), BAD, /extra_prefixes\[0\]/],
  ['a neighbour with a bad MAC', ip({ ipNeighbors: [{ ip: '10.0.0.1', hardwareAddress: 'aa:bb:cc:dd:ee:ff lladdr x' }] }), BAD, /ip_neighbors\[0\]\.hardware_address/],
  ['a policy route', ip({ policies: [{ from: '172.16.0.0/24', proto: '6', dstPort: '8080-8090', srcPort: '', routes: [{ prefix: '0.0.0.0/0' }] }] }), OK, undefined],
  ['a policy with a bad port range', ip({ policies: [{ dstPort: '90-80' }] }), BAD, /policies\[0\]\.dst_port/],
  ['a policy with protocol 256', ip({ policies: [{ proto: '256' }] }), BAD, /policies\[0\]\.proto/],
  ['an extra prefix request', ip({ extraPrefixRequest: [{ addrFamily: { family: 1 }, prefixLen: 64, requiredNumber: 1, requestedNumber: 2 }] }), OK, undefined],
  ['an extra prefix request of /129', ip({ extraPrefixRequest: [{ addrFamily: { family: 1 }, prefixLen: 129 }] }), BAD, /prefix_len/],
  ['a bogus address family', ip({ extraPrefixRequest: [{ addrFamily: { family: 7 } }] }), BAD, /addr_family\.family: "7"/],
  ['33 addresses', ip({ srcIpAddrs: many(33, (i) => `10.0.0.${i}/32`) }), BIG, /src_ip_addrs: 33 entries, at most 32/],
  ['257 routes', ip({ dstRoutes: many(257, (i) => ({ prefix: `10.0.${i >> 8}.${i & 255}/32` })) }), BIG, /dst_routes: 257 entries, at most 256/],
  ['DNS', ctx({ dnsContext: { configs: [{ dnsServerIps: ['10.96.0.10'], searchDomains: ['svc.cluster.local'] }] } }), OK, undefined],
  ['a search domain with a newline', ctx({ dnsContext: { configs: [{ dnsServerIps: ['10.96.0.10'], searchDomains: ['a.local\nnameserver 6.6.6.6'] }] } }), BAD, /search_domains\[0\]/],
  ['a DNS server name', ctx({ dnsContext: { configs: [{ dnsServerIps: ['dns.google'] }] } }), BAD, /dns_server_ips\[0\]/],
  ['17 DNS configs', ctx({ dnsContext: { configs: many(17, () => ({ dnsServerIps: ['1.1.1.1'] })) } }), BIG, /configs: 17 entries/],
  ['MACs and a VLAN tag', ctx({ ethernetContext: { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', vlanTag: 100 } }), OK, undefined],
  ['a VLAN tag of 5000', ctx({ ethernetContext: { vlanTag: 5000 } }), BAD, /vlan_tag: "5000"/],
  ['a bad source MAC', ctx({ ethernetContext: { srcMac: 'zz:00:00:00:00:01' } }), BAD, /ethernet_context\.src_mac/],
  ['extra context', ctx({ extraContext: { note: 'from the endpoint' } }), OK, undefined],
  ['extra context key with a space', ctx({ extraContext: { 'a b': 'v' } }), BAD, /extra_context key: "a b"/],
  ['extra context value of 5000 bytes', ctx({ extraContext: { k: 'v'.repeat(5000) } }), BIG, /extra_context\["k"\]: 5000 bytes long/],
  ['65 extra context entries', ctx({ extraContext: Object.fromEntries(many(65, (i) => [`k${i}`, 'v'])) }), BIG, /extra_context: 65 entries/],
  ['MTU 9000', ctx({ MTU: 9000 }), OK, undefined],
  ['MTU 0 (unset)', ctx({ MTU: 0 }), OK, undefined],
  ['MTU 67', ctx({ MTU: 67 }), BAD, /MTU: "67"/],
  ['MTU 70000', ctx({ MTU: 70000 }), BAD, /MTU: "70000"/],
];

test.each(cases)('%s', (...[, c, code, message]: Case) => {
  const run = () => checkContext('connection.context', c);
  if (code === undefined) return expect(run).not.toThrow();
  expect(run).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/^connection\.context/) }));
  if (message) expect(run).toThrow(message);
});
