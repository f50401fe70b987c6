// What a forwarder finds of its predecessor: OVS ports carrying NSM external-ids, their veth pairs and
// the flows. Nothing of it is adopted: the clients' heal re-requests, which rebuilds it all; removing
// it first means no stale interface blocks the rebuild and nothing leaks.
import { deleteLink } from '@nsm/sdk-kernel';
import { log } from '@nsm/sdk/log';
import { EXT_CONN, OvsBridge } from '@nsm/sdk-ovs/elements/state';

export async function cleanupStale(br: OvsBridge): Promise<number> {
  const ports = (await br.ovs.listPorts(br.bridge)).filter((p) => p.externalIds[EXT_CONN]);
  if (ports.length > 0) {
    await br.ovs.delPorts(br.bridge, ports.map((p) => p.name));
    for (const p of ports) if (p.type === '') await deleteLink(undefined, p.name);
    log.info({ ports: ports.map((p) => p.name) }, 'removed dataplane state left by a previous forwarder');
  }
  await br.ovs.delFlows(br.bridge);
  return ports.length;
}
