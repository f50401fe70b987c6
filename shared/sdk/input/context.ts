// The connection context (api.md §9): addresses, routes, prefixes, neighbours, policies, DNS, Ethernet,
// extra context and MTU, parsed and bounded. A client sends one (excluded prefixes, extra context) and
// an endpoint answers with one that forwarders program into pod namespaces, so both directions go
// through here.
import type { ConnectionContext, DNSConfig, IPContext, PolicyRoute, Route } from '@nsm/api';
import { invalidArgument } from '../core/errors';
import { isAddress, isCidr, isDecimal, isDnsName, isIpLiteral, isMac, isPortRange } from './formats';
import { Limits } from './limits';
import { checkFormat, checkText, entries, keyPath, list, malformed } from './text';

const cidrWhat = 'a prefix (address/length)';
const addressWhat = 'an address (with or without /length)';

function checkRoutes(field: string, routes: Route[] | undefined, max: number): void {
  list(field, routes, max).forEach((r, i) => {
    const f = `${field}[${i}]`;
    if (!r || typeof r !== 'object') throw invalidArgument(`${f} is not a route`);
    checkFormat(`${f}.prefix`, r.prefix, isAddress, addressWhat);
    if (r.nextHop) checkFormat(`${f}.nextHop`, r.nextHop, isIpLiteral, 'an IP address');
  });
}

function checkPolicy(field: string, p: PolicyRoute): void {
  if (!p || typeof p !== 'object') throw invalidArgument(`${field} is not a policy route`);
  if (p.from) checkFormat(`${field}.from`, p.from, isAddress, addressWhat);
  if (p.proto) checkFormat(`${field}.proto`, p.proto, (v) => isDecimal(v, 0, 255), 'an IP protocol number (0-255)');
  if (p.srcPort) checkFormat(`${field}.src_port`, p.srcPort, isPortRange, 'a port or port range (N or N-M)');
  if (p.dstPort) checkFormat(`${field}.dst_port`, p.dstPort, isPortRange, 'a port or port range (N or N-M)');
  checkRoutes(`${field}.routes`, p.routes, Limits.routes);
}

function checkIpContext(field: string, ip: IPContext): void {
  const addrs = (name: string, v: string[] | undefined, max: number, ok: (s: string) => boolean, what: string) =>
    list(`${field}.${name}`, v, max).forEach((a, i) => checkFormat(`${field}.${name}[${i}]`, a, ok, what));
  addrs('src_ip_addrs', ip.srcIpAddrs, Limits.addresses, isAddress, addressWhat);
  addrs('dst_ip_addrs', ip.dstIpAddrs, Limits.addresses, isAddress, addressWhat);
  addrs('excluded_prefixes', ip.excludedPrefixes, Limits.prefixes, isCidr, cidrWhat);
  addrs('extra_prefixes', ip.extraPrefixes, Limits.prefixes, isCidr, cidrWhat);
  checkRoutes(`${field}.src_routes`, ip.srcRoutes, Limits.routes);
  checkRoutes(`${field}.dst_routes`, ip.dstRoutes, Limits.routes);
  list(`${field}.ip_neighbors`, ip.ipNeighbors, Limits.neighbors).forEach((n, i) => {
    const f = `${field}.ip_neighbors[${i}]`;
    if (!n || typeof n !== 'object') throw invalidArgument(`${f} is not a neighbour`);
    checkFormat(`${f}.ip`, n.ip, isIpLiteral, 'an IP address');
    checkFormat(`${f}.hardware_address`, n.hardwareAddress, isMac, 'a MAC address');
  });
  list(`${field}.extra_prefix_request`, ip.extraPrefixRequest, Limits.extraPrefixRequests).forEach((r, i) => {
    const f = `${field}.extra_prefix_request[${i}]`;
    if (!r || typeof r !== 'object') throw invalidArgument(`${f} is not a prefix request`);
    const family = r.addrFamily?.family ?? 0;
    if (family !== 0 && family !== 1) throw malformed(`${f}.addr_family.family`, String(family), 'is not IPV4 (0) or IPV6 (1)');
    const width = family === 1 ? 128 : 32;
    if (!Number.isInteger(r.prefixLen) || r.prefixLen < 0 || r.prefixLen > width) throw malformed(`${f}.prefix_len`, String(r.prefixLen), `is not a prefix length (0-${width})`);
    for (const [name, n] of [['required_number', r.requiredNumber], ['requested_number', r.requestedNumber]] as const) {
      if (!Number.isInteger(n) || n < 0 || n > Limits.prefixes) throw malformed(`${f}.${name}`, String(n), `is not a number of prefixes (0-${Limits.prefixes})`);
    }
  });
  list(`${field}.policies`, ip.policies, Limits.policies).forEach((p, i) => checkPolicy(`${field}.policies[${i}]`, p));
}

/**
 * Checks DNS configs (the endpoint's, in a reply; or a command's own setting): servers are IP literals,
 * search domains DNS names, every list bounded. `field` is the list's path, e.g.
 * `connection.context.dns_context.configs`. What a resolver file may hold beyond that is the DNS
 * client's own check (dnscontext/files.ts).
 */
export function checkDnsConfigs(field: string, configs: DNSConfig[] | undefined): void {
  list(field, configs, Limits.dnsConfigs).forEach((d, i) => {
    const f = `${field}[${i}]`;
    if (!d || typeof d !== 'object') throw invalidArgument(`${f} is not a DNS config`);
    list(`${f}.dns_server_ips`, d.dnsServerIps, Limits.dnsServers).forEach((a, j) => checkFormat(`${f}.dns_server_ips[${j}]`, a, isIpLiteral, 'an IP address'));
    list(`${f}.search_domains`, d.searchDomains, Limits.searchDomains).forEach((s, j) => checkFormat(`${f}.search_domains[${j}]`, s, isDnsName, 'a domain name'));
  });
}

/** Checks a ConnectionContext; `field` is its path, e.g. `connection.context`. */
export function checkContext(field: string, c: ConnectionContext | undefined): void {
  if (c === undefined || c === null) return;
  if (typeof c !== 'object') throw invalidArgument(`${field} is not a connection context`);
  if (c.ipContext) checkIpContext(`${field}.ip_context`, c.ipContext);
  checkDnsConfigs(`${field}.dns_context.configs`, c.dnsContext?.configs);
  const eth = c.ethernetContext;
  if (eth) {
    const f = `${field}.ethernet_context`;
    if (eth.srcMac) checkFormat(`${f}.src_mac`, eth.srcMac, isMac, 'a MAC address');
    if (eth.dstMac) checkFormat(`${f}.dst_mac`, eth.dstMac, isMac, 'a MAC address');
    if (!Number.isInteger(eth.vlanTag) || eth.vlanTag < 0 || eth.vlanTag > 4094) throw malformed(`${f}.vlan_tag`, String(eth.vlanTag), 'is not a VLAN tag (0-4094)');
  }
  for (const [k, v] of entries(`${field}.extra_context`, c.extraContext, Limits.extraContext)) {
    checkText(`${field}.extra_context key`, k, Limits.extraContextKeyBytes, { required: true, noSpace: true });
    checkText(keyPath(`${field}.extra_context`, k), v, Limits.extraContextValueBytes);
  }
  const mtu = c.MTU ?? 0;
  if (!Number.isInteger(mtu) || (mtu !== 0 && (mtu < 68 || mtu > 65535))) throw malformed(`${field}.MTU`, String(mtu), 'is not an MTU (68-65535, or 0 = unset)');
}
