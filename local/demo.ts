// `make demo`: the Kernel2Kernel use case on one node, shown step by step, up until Ctrl-C.
import { execFileSync } from 'node:child_process';
import { LocalMesh } from './mesh';
import type { MeshPaths } from './paths';
import type { Topology } from './topology';

const KERNEL2KERNEL: Partial<Topology> = {
  nodes: [{ name: 'node1', forwarder: 'ovs', env: {} }],
  pods: [
    { name: 'nse-kernel', node: 'node1', command: 'nse-icmp-responder', env: { NSM_SERVICE_NAMES: 'icmp-responder', NSM_CIDR_PREFIX: '172.16.1.100/31' } },
    { name: 'nsc-kernel', node: 'node1', command: 'nsc', env: { NSM_NETWORK_SERVICES: 'kernel://icmp-responder/nsm-1' } },
  ],
};

function sh(ns: string, argv: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function until(what: string, check: () => boolean, ms = 30_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function runDemo(paths: MeshPaths, log: (msg: string, f?: object) => void): Promise<void> {
  const mesh = new LocalMesh(paths, () => undefined);
  const say = (s: string) => process.stdout.write(`\n== ${s}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('stopping: closing connections and removing every namespace');
    await mesh.down();
    say('done; nothing left behind');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  try {
    say('starting registry, nsmgr and forwarder-ovs on node1, then the NSE and NSC pods');
    await mesh.apply(KERNEL2KERNEL);
    const nsc = paths.netns('nsc-kernel');
    const nse = paths.netns('nse-kernel');
    await until('nsm-1 in the client pod', () => {
      try {
        return sh(nsc, ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1']).includes('172.16.1.101');
      } catch {
        return false;
      }
    });
    say('identities (SPIFFE ID and Workload API socket of each component and pod; every hop is mutual TLS)');
    for (const i of mesh.status().identities) process.stdout.write(`  ${i.name.padEnd(16)} ${i.spiffeId}  ${i.workloadApiSocket}\n`);
    say(`client pod (${nsc}): interface nsm-1`);
    process.stdout.write(sh(nsc, ['ip', 'addr', 'show', 'dev', 'nsm-1']) + sh(nsc, ['ip', 'route']));
    say('ping the endpoint from the client: 172.16.1.100');
    process.stdout.write(sh(nsc, ['ping', '-c', '3', '-W', '2', '172.16.1.100']));
    say('ping the client from the endpoint: 172.16.1.101');
    process.stdout.write(sh(nse, ['ping', '-c', '3', '-W', '2', '172.16.1.101']));
    // The default datapath joins the two host-side veths in the kernel (README: the datapath).
    const node = paths.netns('node1');
    const ends = sh(node, ['ip', '-o', 'link', 'show'])
      .split('\n')
      .map((l) => /^\d+: (tap(?:src|dst)-[^:@]+)/.exec(l)?.[1])
      .filter((d): d is string => !!d);
    say(`the cross-connect on node1: tc redirects between ${ends.join(' and ')} (no Open vSwitch rule)`);
    for (const dev of ends) process.stdout.write(`${dev}:\n${sh(node, ['tc', 'filter', 'show', 'dev', dev, 'ingress'])}`);
    say(`the mesh is up; logs in ${paths.logs}; press Ctrl-C to stop`);
  } catch (err) {
    log('demo failed', { err: (err as Error).message });
    process.stdout.write(`demo failed: ${(err as Error).message}\nlogs: ${paths.logs}\n`);
    await stop();
  }
}
