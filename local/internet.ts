// The "internet" between the clusters of a multi-cluster mesh, built like a real setup: a namespace
// with a bridge (198.18.0.0/16) that each cluster's gateway joins, and nothing else. A cluster's
// gateway is its fabric namespace (the node network's router): it holds the cluster's load-balancer
// address 198.18.<k>.1 (the registry and the nsmgr-proxy behind it, by DNAT) and, for each node, an
// external address 198.18.<k>.<node's last octet> that is NATed 1:1 to the node (what the address map
// for the proxies says). Nodes reach other clusters only through those routable addresses; their own
// addresses (10.233.0.0/24, the same in every cluster) stay inside. The DNS server of the internet
// (dnsmasq, 198.18.0.53) serves each cluster's domain; every namespace of the mesh uses it through
// /etc/netns/<namespace>/resolv.conf, which `ip netns exec` mounts over /etc/resolv.conf.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '@nsm/sdk-kernel';
import { createNetns, FABRIC_IP } from './host';

export const INTERNET_PREFIX = 16;
/** The internet's DNS server. */
export const DNS_IP = '198.18.0.53';
const INTERNET_BRIDGE = 'inetbr0';
/** The gateway's leg on the internet. */
export const GATEWAY_UPLINK = 'inet0';
/** Ports the cluster's load-balancer address forwards to the gateway's internal address. */
export const REGISTRY_PORT = 5002;
export const NSMGR_PROXY_PORT = 5004;
export const REGISTRY_PROXY_DNS_PORT = 5003;
/** DNS SRV service names of upstream's dnsresolve (sdk.md §4.11): _<service>._tcp.<domain>. */
export const REGISTRY_SERVICE = 'registry.nsm-system';
export const NSMGR_PROXY_SERVICE = 'nsmgr-proxy.nsm-system';

/** Cluster k's load-balancer address (k from 1). */
export const loadBalancerIp = (k: number) => `198.18.${k}.1`;
/** The external address of an internal one in cluster k: the same host part in the cluster's /24. */
export const externalIp = (k: number, internal: string) => `198.18.${k}.${internal.split('.')[3]}`;

export async function createInternet(ns: string): Promise<void> {
  await createNetns(ns);
  await exec(['ip', '-n', ns, 'link', 'add', INTERNET_BRIDGE, 'type', 'bridge']);
  await exec(['ip', '-n', ns, 'addr', 'add', `${DNS_IP}/${INTERNET_PREFIX}`, 'dev', INTERNET_BRIDGE]);
  await exec(['ip', '-n', ns, 'link', 'set', INTERNET_BRIDGE, 'up']);
}

/** Joins cluster k's gateway (its fabric namespace) to the internet with its load-balancer address. */
export async function attachGateway(internetNs: string, gatewayNs: string, k: number): Promise<void> {
  const port = `g${k}`;
  await exec(['ip', '-n', internetNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', GATEWAY_UPLINK, 'netns', gatewayNs]);
  await exec(['ip', '-n', internetNs, 'link', 'set', port, 'master', INTERNET_BRIDGE, 'up']);
  await exec(['ip', '-n', gatewayNs, 'addr', 'add', `${loadBalancerIp(k)}/${INTERNET_PREFIX}`, 'dev', GATEWAY_UPLINK]);
  await exec(['ip', '-n', gatewayNs, 'link', 'set', GATEWAY_UPLINK, 'up']);
  await exec(['ip', 'netns', 'exec', gatewayNs, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
}

/** A node's traffic to other clusters goes through the gateway. */
export async function routeThroughGateway(nodeNs: string): Promise<void> {
  await exec(['ip', '-n', nodeNs, 'route', 'replace', 'default', 'via', FABRIC_IP]);
}

/** Gives the gateway the external address of a node (ARP answers for it on the internet). */
export async function addExternalAddress(gatewayNs: string, ip: string): Promise<void> {
  await exec(['ip', '-n', gatewayNs, 'addr', 'replace', `${ip}/${INTERNET_PREFIX}`, 'dev', GATEWAY_UPLINK]);
}

/** internal → external address of every node and of the load balancer: the NAT's map. */
export type AddressMap = ReadonlyArray<readonly [internal: string, external: string]>;

/**
 * The gateway's NAT as one nftables table, replaced whole: 1:1 NAT for each node (DNAT of its
 * external address, SNAT of what it sends out), and the load balancer (its ports to the gateway's
 * internal address, where the registry and the proxies listen), also for what the gateway itself sends.
 */
export function natRuleset(k: number, nodes: AddressMap): string {
  const lb = loadBalancerIp(k);
  const dnat = [
    `    ip daddr ${lb} tcp dport { ${REGISTRY_PORT}, ${NSMGR_PROXY_PORT} } dnat to ${FABRIC_IP};`,
    ...nodes.map(([internal, external]) => `    ip daddr ${external} dnat to ${internal};`),
  ];
  const lines = [
    'table ip nsm-nat',
    'delete table ip nsm-nat',
    'table ip nsm-nat {',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat;',
    ...dnat,
    '  }',
    // Hairpin: the gateway's own processes (the proxies) reach their cluster at its external
    // addresses too, as pods reach their own cluster's load balancer.
    '  chain output {',
    '    type nat hook output priority -100;',
    ...dnat,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat;',
    ...nodes.map(([internal, external]) => `    oifname "${GATEWAY_UPLINK}" ip saddr ${internal} snat to ${external};`),
    '  }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

export async function applyNat(gatewayNs: string, ruleset: string): Promise<void> {
  await exec(['ip', 'netns', 'exec', gatewayNs, 'nft', '-f', '-'], { input: ruleset });
}

/** The address map in upstream's map file format (cmd-map-ip-k8s): a YAML map internal: external. */
export function mapIpYaml(map: AddressMap): string {
  return map.map(([i, e]) => `"${i}": "${e}"`).join('\n') + '\n';
}

export interface DnsZone {
  domain: string;
  /** The cluster's load-balancer address. */
  address: string;
  /** Whether the domain has an nsmgr-proxy (a floating domain has only a registry). */
  nsmgrProxy: boolean;
}

/**
 * dnsmasq's configuration: authoritative-style local zones (no upstream servers, nothing forwarded),
 * per domain the SRV and A records upstream's dnsresolve looks up: _registry.nsm-system._tcp.<domain>
 * → registry.nsm-system.<domain>:5002 and _nsmgr-proxy.nsm-system._tcp.<domain> →
 * nsmgr-proxy.nsm-system.<domain>:5004, both names at the cluster's load-balancer address.
 */
export function dnsmasqConf(zones: DnsZone[], pidFile: string): string {
  const lines = [
    '# Written by nsm-local; the internet\'s DNS server.',
    'no-resolv',
    'no-hosts',
    'no-poll',
    'bind-dynamic',
    `listen-address=${DNS_IP}`,
    'port=53',
    'user=root',
    'group=root',
    `pid-file=${pidFile}`,
    'log-queries',
  ];
  for (const z of zones) {
    lines.push(`# ${z.domain}`, `local=/${z.domain}/`);
    const services: [string, number][] = [[REGISTRY_SERVICE, REGISTRY_PORT], ...(z.nsmgrProxy ? [[NSMGR_PROXY_SERVICE, NSMGR_PROXY_PORT] as [string, number]] : [])];
    for (const [service, port] of services) {
      const [svc, ns] = service.split('.');
      lines.push(`srv-host=_${svc}.${ns}._tcp.${z.domain},${service}.${z.domain},${port}`, `host-record=${service}.${z.domain},${z.address}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const dnsmasqArgv = (conf: string) => ['dnsmasq', '--keep-in-foreground', '--log-facility=-', `--conf-file=${conf}`];

const NETNS_ETC = '/etc/netns';

/** Makes `ip netns exec <ns>` see a resolv.conf naming the internet's DNS server. */
export function writeResolvConf(ns: string): void {
  mkdirSync(join(NETNS_ETC, ns), { recursive: true });
  writeFileSync(join(NETNS_ETC, ns, 'resolv.conf'), `# nsm-local: the internet's DNS server\nnameserver ${DNS_IP}\n`);
}

/** Removes the /etc/netns folders of the namespaces whose names start with `prefix`. */
export function removeResolvConfs(prefix: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(NETNS_ETC);
  } catch {
    return;
  }
  for (const e of entries) if (e.startsWith(prefix)) rmSync(join(NETNS_ETC, e), { recursive: true, force: true });
}
