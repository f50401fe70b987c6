// Interdomain names (sdk.md §4.10, §4.11): `service@domain` and `nse@domain` name a network service or
// an endpoint of another domain (a cluster, or a floating registry). The part after the last "@"
// routes the call; which hop strips or re-appends it is the elements' business. A domain is a DNS
// name (what the registry proxy resolves through SRV and address records) or, as upstream allows,
// an `ip:port` that names the domain's registry directly. Checked here before it reaches a resolver.
import { invalidArgument } from '../core/errors';
import { isDecimal, isDnsName, isIpLiteral } from './formats';
import { malformed } from './text';

export interface DomainName {
  /** The name without its domain. */
  name: string;
  /** The domain, "" when the name has none. */
  domain: string;
}

export const isInterdomain = (name: string | undefined): boolean => !!name && name.includes('@');

/** Splits at the last "@" (a name part may itself hold one; the domain never does). */
export function splitDomain(full: string): DomainName {
  const at = full.lastIndexOf('@');
  return at < 0 ? { name: full, domain: '' } : { name: full.slice(0, at), domain: full.slice(at + 1) };
}

export const withDomain = (name: string, domain: string): string => (domain ? `${name}@${domain}` : name);

/** `ip:port` (IPv6 in brackets), the form that needs no DNS. */
export function parseHostPortDomain(domain: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(domain);
  if (!m) return undefined;
  const host = m[1] ?? m[2];
  if (!isIpLiteral(host) || !isDecimal(m[3], 1, 65535)) return undefined;
  return { host, port: Number(m[3]) };
}

/** The domain of an interdomain name, checked: a DNS name or ip:port; throws INVALID_ARGUMENT naming `field`. */
export function checkDomain(field: string, full: string): DomainName {
  const parts = splitDomain(full);
  if (!parts.name) throw malformed(field, full, 'has nothing before "@"');
  if (!parts.domain) throw invalidArgument(`${field}: domain cannot be empty ("${parts.name}@")`);
  if (!isDnsName(parts.domain) && !parseHostPortDomain(parts.domain)) {
    throw malformed(field, full, 'has a domain that is neither a DNS name nor ip:port');
  }
  return parts;
}
