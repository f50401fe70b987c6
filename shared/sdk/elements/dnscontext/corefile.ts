// The Corefile of the CoreDNS sidecar that the admission webhook injects beside the client (its
// `coredns` emptyDir at /etc/coredns, `-conf /etc/coredns/Corefile`): one server block per zone. An
// endpoint's search domains go to that endpoint's servers; the root zone goes to the pod's original
// resolvers (and to endpoints that named no domain). A zone that more than one source answers is asked
// of all of them at once (`fanout`, in NSM's CoreDNS image), as upstream's client writes it.
import type { DNSConfig } from '@nsm/api';

const ROOT = '.';

export function renderCorefile(configs: DNSConfig[], originalServers: string[], writer: string): string {
  // zone -> the server lists of every source that answers it
  const zones = new Map<string, string[][]>();
  const add = (zone: string, servers: string[]) => {
    const key = zone === ROOT ? ROOT : zone.replace(/\.$/, '').toLowerCase();
    zones.set(key, [...(zones.get(key) ?? []), servers]);
  };
  if (originalServers.length > 0) add(ROOT, originalServers);
  for (const c of configs) {
    if (c.searchDomains.length === 0) add(ROOT, c.dnsServerIps);
    for (const d of c.searchDomains) add(d, c.dnsServerIps);
  }
  if (!zones.has(ROOT)) zones.set(ROOT, []);
  const blocks = [...zones.keys()].sort().map((zone) => {
    const sources = zones.get(zone)!;
    const servers = [...new Set(sources.flat())].sort();
    const body = [
      ...(servers.length === 0 ? [] : [`${sources.length > 1 ? 'fanout' : 'forward'} . ${servers.join(' ')}`]),
      'cache',
      'log',
      ...(zone === ROOT ? ['reload'] : []),
    ];
    return `${zone} {\n${body.map((l) => `    ${l}`).join('\n')}\n}\n`;
  });
  return `# Written by ${writer} for the DNS contexts of its connections.\n${blocks.join('')}`;
}
