// dnscontext server (sdk.md §3.26): adds the endpoint's DNS configs to every connection. Unlike v1.1.1
// a refresh does not add them again.
import { DNSConfig } from '@nsm/api';
import type { NetworkServiceElement } from '../../core/networkservice';
import { checkDnsConfigs } from '../../input';

/** Parses NSM_DNS_CONFIGS: a JSON array of {dns_server_ips, search_domains}. */
export function parseDnsConfigs(json: string): DNSConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json || '[]');
  } catch (err) {
    throw new Error(`DNS configs are not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new Error('DNS configs must be a JSON array');
  const configs = raw.map((c, i) => {
    const o = c as Record<string, unknown>;
    const ips = (o.dns_server_ips ?? o.dnsServerIps) as unknown;
    if (!Array.isArray(ips) || ips.length === 0) throw new Error(`DNS config ${i} needs dns_server_ips`);
    return DNSConfig.fromPartial({ dnsServerIps: ips.map(String), searchDomains: ((o.search_domains ?? o.searchDomains ?? []) as unknown[]).map(String) });
  });
  // What every client would refuse is refused here, at start.
  try {
    checkDnsConfigs('DNS configs', configs);
  } catch (err) {
    throw new Error((err as { details?: string }).details ?? (err as Error).message);
  }
  return configs;
}

export function dnsContext(configs: DNSConfig[]): NetworkServiceElement {
  if (configs.length === 0) return {};
  return {
    async request(ctx, req, next) {
      const c = (req.connection!.context ??= { ipContext: undefined, dnsContext: undefined, ethernetContext: undefined, extraContext: {}, MTU: 0 });
      const dns = (c.dnsContext ??= { configs: [] });
      for (const cfg of configs) {
        if (!dns.configs.some((x) => JSON.stringify(x) === JSON.stringify(cfg))) dns.configs.push(cfg);
      }
      return next.request(ctx, req);
    },
  };
}
