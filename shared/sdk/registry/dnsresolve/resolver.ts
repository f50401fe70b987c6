// How the registry proxy finds another domain's registry and nsmgr-proxy (sdk.md §4.11): a domain
// written as ip:port names the service directly; otherwise DNS. As upstream's resolver asks it (Go's
// LookupSRV(service, "tcp", domain) then LookupIPAddr(service.domain)): the port from the first SRV
// record of `_<service>._tcp.<domain>` (a zone that serves the record as `<service>.<domain>` is
// accepted too), the address from the first A/AAAA record of `<service>.<domain>` (or, when that name
// has none, of the SRV record's target). The DNS servers come from a setting, so the local runtime
// can point the proxy at its own DNS server.
import { Resolver } from 'node:dns/promises';
import { Code, StatusError } from '../../core/errors';
import { parseHostPortDomain } from '../../input/interdomain';
import { isDecimal, isIpLiteral } from '../../input/formats';

/** Upstream's SRV service names (sdk.md §6.1). */
export const REGISTRY_SERVICE = 'registry.nsm-system';
export const NSMGR_PROXY_SERVICE = 'nsmgr-proxy.nsm-system';

export interface DomainResolver {
  /** tcp://ip:port of `service` in `domain`; rejects with a StatusError that names both. */
  resolve(service: string, domain: string): Promise<string>;
}

export interface DnsResolverOptions {
  /** DNS servers, `ip` or `ip:port` ([v6]:port); empty: the system's (/etc/resolv.conf). */
  servers?: string[];
  /** Per query; default 2 s. */
  timeoutMs?: number;
}

/** A DNS server as setServers takes it; undefined when it is not one. */
export function dnsServerError(s: string): string | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)|([0-9A-Fa-f:]+))(?::(\d{1,5}))?$/.exec(s);
  if (!m) return 'is not ip or ip:port';
  const ip = m[1] ?? m[2] ?? m[3];
  if (!isIpLiteral(ip)) return 'is not an IP address';
  if (m[4] !== undefined && (m[3] !== undefined || !isDecimal(m[4], 1, 65535))) return 'has a bad port';
  return undefined;
}

const urlOf = (ip: string, port: number) => `tcp://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;

export function dnsResolver(opts: DnsResolverOptions = {}): DomainResolver {
  const r = new Resolver({ timeout: opts.timeoutMs ?? 2000, tries: 2 });
  for (const s of opts.servers ?? []) {
    const err = dnsServerError(s);
    if (err) throw new Error(`DNS server "${s}" ${err}`);
  }
  if (opts.servers?.length) r.setServers(opts.servers);
  const fail = (what: string, err: unknown) => {
    const code = (err as { code?: string }).code ?? '';
    const missing = code === 'ENOTFOUND' || code === 'ENODATA' || code === 'NXDOMAIN';
    return new StatusError(missing ? Code.NOT_FOUND : Code.UNAVAILABLE, `${what}: ${code || (err as Error).message}`);
  };
  const firstIp = async (name: string): Promise<string | undefined> => {
    for (const lookup of [(n: string) => r.resolve4(n), (n: string) => r.resolve6(n)]) {
      const ips = await lookup(name).catch(() => [] as string[]);
      if (ips.length > 0) return ips[0];
    }
    return undefined;
  };
  return {
    async resolve(service, domain) {
      const direct = parseHostPortDomain(domain);
      if (direct) return urlOf(direct.host, direct.port);
      const name = `${service}.${domain}`;
      let lastErr: unknown;
      let srv: { name: string; port: number } | undefined;
      for (const q of [`_${service}._tcp.${domain}`, name]) {
        try {
          const records = await r.resolveSrv(q);
          if (records.length > 0) {
            srv = records[0];
            break;
          }
        } catch (err) {
          lastErr = err;
        }
      }
      if (!srv) throw fail(`cannot resolve domain "${domain}": no SRV record _${service}._tcp.${domain} or ${name}`, lastErr ?? { code: 'ENODATA' });
      const ip = (await firstIp(name)) ?? (srv.name && srv.name !== name ? await firstIp(srv.name) : undefined);
      if (!ip) throw fail(`cannot resolve domain "${domain}": no A/AAAA record for ${name}${srv.name ? ` or ${srv.name}` : ''}`, { code: 'ENODATA' });
      return urlOf(ip, srv.port);
    },
  };
}
