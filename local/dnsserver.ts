// A pod's DNS server: dnsmasq (Debian's dnsmasq-base) beside the pod's command, as a second container,
// the way upstream's DNS example runs CoreDNS beside its endpoint. It answers for the given names on
// every address the pod has, also the ones its connections bring later (--bind-dynamic), reads no
// configuration of the host (no /etc/dnsmasq.conf, /etc/hosts or resolv.conf), forwards nothing
// (other names: REFUSED, so a client's resolver asks its next server), logs every query to its log.
import { existsSync } from 'node:fs';

export interface DnsServerSpec {
  /** name -> address, each checked by the topology parser. */
  hosts: Record<string, string>;
}

const dnsmasqBinary = (): string => ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq', '/sbin/dnsmasq'].find((p) => existsSync(p)) ?? 'dnsmasq';

export function dnsServerArgv(spec: DnsServerSpec): string[] {
  return [
    dnsmasqBinary(),
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--bind-dynamic',
    '--pid-file',
    '--log-facility=-',
    '--log-queries',
    '--user=nobody',
    '--group=nogroup',
    ...Object.entries(spec.hosts).map(([name, ip]) => `--host-record=${name},${ip}`),
  ];
}
