// The stand-ins for machines and the cluster network: network namespaces, a bridge in a "fabric"
// namespace, and a veth from each node to it.
import { exec } from '@nsm/sdk-kernel';

export const FABRIC_IP = '10.233.0.1';
export const nodeIp = (index: number) => `10.233.0.${10 + index}`;
export const FABRIC_PREFIX = 24;

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
  await exec(['ip', '-n', ns, 'link', 'add', 'nsmbr0', 'type', 'bridge']);
  await exec(['ip', '-n', ns, 'addr', 'add', `${FABRIC_IP}/${FABRIC_PREFIX}`, 'dev', 'nsmbr0']);
  await exec(['ip', '-n', ns, 'link', 'set', 'nsmbr0', 'up']);
}

/** Plugs a node namespace into the fabric bridge as eth0 with its node address. */
export async function attachNode(fabricNs: string, nodeNs: string, node: string, ip: string): Promise<void> {
  const port = `n-${node}`.slice(0, 15);
  await exec(['ip', '-n', fabricNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nodeNs]);
  await exec(['ip', '-n', fabricNs, 'link', 'set', port, 'master', 'nsmbr0', 'up']);
  await exec(['ip', '-n', nodeNs, 'addr', 'add', `${ip}/${FABRIC_PREFIX}`, 'dev', 'eth0']);
  await exec(['ip', '-n', nodeNs, 'link', 'set', 'eth0', 'up']);
}
