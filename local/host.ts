// The stand-ins for machines and the cluster network: network namespaces, a bridge in a "fabric"
// namespace, and a veth from each node to it.
import { exec } from '@nsm/sdk-kernel';

export const FABRIC_IP = '10.233.0.1';
export const nodeIp = (index: number) => `10.233.0.${10 + index}`;
export const FABRIC_PREFIX = 24;
/** Locally administered, from FABRIC_IP. */
export const FABRIC_MAC = '02:00:0a:e9:00:01';

export async function netnsList(): Promise<string[]> {
  const { stdout } = await exec(['ip', 'netns', 'list']);
  return stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
}

export async function createNetns(name: string): Promise<void> {
  if ((await netnsList()).includes(name)) await deleteNetns(name);
  await exec(['ip', 'netns', 'add', name]);
  await exec(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

/** Kills whatever still runs in the namespace, then removes it. */
export async function deleteNetns(name: string): Promise<void> {
  const { stdout } = await exec(['ip', 'netns', 'pids', name]).catch(() => ({ stdout: '' }));
  for (const pid of stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await exec(['ip', 'netns', 'del', name]).catch(() => undefined);
}

export async function createFabric(ns: string): Promise<void> {
  await createNetns(ns);
  // A fixed MAC: a Linux bridge otherwise takes the lowest MAC of its ports and changes it as ports
  // are added, leaving nodes with a stale neighbour entry for the registry's address (their traffic
  // then goes to whichever port owned that MAC).
  await exec(['ip', '-n', ns, 'link', 'add', 'nsmbr0', 'address', FABRIC_MAC, 'type', 'bridge']);
  await exec(['ip', '-n', ns, 'addr', 'add', `${FABRIC_IP}/${FABRIC_PREFIX}`, 'dev', 'nsmbr0']);
  await exec(['ip', '-n', ns, 'link', 'set', 'nsmbr0', 'up']);
}

/** The node's second NIC, on the same fabric without an address: the uplink for VLAN breakout (NSM_VLAN_UPLINK). */
export const NODE_UPLINK = 'uplink0';

/**
 * A veth from the fabric bridge (port `port`) to `dev` in `ns`, both up. `l2only`: a port that carries
 * frames but is no interface of the namespace's own: its kernel must not answer ARP for the
 * namespace's addresses on it (Linux answers on any interface by default; peers would then send the
 * node's traffic to the uplink, where rp_filter drops it), nor use it for IPv6.
 */
async function plug(fabricNs: string, port: string, ns: string, dev: string, l2only = false): Promise<void> {
  await exec(['ip', '-n', fabricNs, 'link', 'add', port.slice(0, 15), 'type', 'veth', 'peer', 'name', dev, 'netns', ns]);
  if (l2only) {
    await exec(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv4.conf.${dev}.arp_ignore=8`, `net.ipv6.conf.${dev}.disable_ipv6=1`]);
  }
  await exec(['ip', '-n', fabricNs, 'link', 'set', port.slice(0, 15), 'master', 'nsmbr0', 'up']);
  await exec(['ip', '-n', ns, 'link', 'set', dev, 'up']);
}

/** Plugs a node namespace into the fabric bridge as eth0 with its node address, and uplink0 without one. */
export async function attachNode(fabricNs: string, nodeNs: string, node: string, ip: string): Promise<void> {
  await plug(fabricNs, `n-${node}`, nodeNs, 'eth0');
  await exec(['ip', '-n', nodeNs, 'addr', 'add', `${ip}/${FABRIC_PREFIX}`, 'dev', 'eth0']);
  await plug(fabricNs, `u-${node}`, nodeNs, NODE_UPLINK, true);
}

/** Plugs an external network's namespace into the fabric bridge as eth0 (its VLAN trunk). */
export async function attachExternal(fabricNs: string, extNs: string, name: string): Promise<void> {
  await plug(fabricNs, `x-${name}`, extNs, 'eth0', true);
}

/**
 * Kernel sockets on a VPP node's tunnel ports that take the node's copy of each tunnel packet and drop
 * it. VPP holds a copy of the node's address on eth0 and takes its VXLAN and WireGuard packets off
 * the link through af_packet; the node's kernel sees the same packets and, with nothing listening on
 * those ports, would answer each with an ICMP "port unreachable" (upstream's design has the same
 * echo; its ACLs only guard VPP). A vxlan device per port, with a VNI no tunnel uses, is such a
 * socket: VXLAN packets of other VNIs and WireGuard packets (not VXLAN at all) are dropped quietly.
 */
export async function absorbTunnelPorts(ns: string, ip: string, ports: number[]): Promise<void> {
  for (const port of [...new Set(ports)]) {
    const dev = `nsmsink${port}`.slice(0, 15);
    await exec(['ip', '-n', ns, 'link', 'add', dev, 'type', 'vxlan', 'id', '16777215', 'local', ip, 'dstport', String(port), 'nolearning']);
    await exec(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }
}
