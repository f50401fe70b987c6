// `nsm-local get nse`: the endpoints a registry holds, as `kubectl get networkserviceendpoints` lists
// them in a cluster. A Find at the registry's own socket with the registry's identity, so that what
// is shown is what the registry keeps (a floating registry too), not what one nsmgr sees.
import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { findAll } from '@nsm/sdk/core/registry';
import { nseRegistryClient } from '@nsm/sdk/grpc/registry';
import { WorkloadApiClient } from '@nsm/sdk/spiffe/client';
import { columns } from './kube/table';

/** Every endpoint registered at the registry listening on `socket`, asked with the identity at `workloadApiSocket`. */
export async function registeredEndpoints(socket: string, workloadApiSocket: string): Promise<NetworkServiceEndpoint[]> {
  const source = new WorkloadApiClient({ address: `unix://${workloadApiSocket}` });
  const registry = nseRegistryClient(`unix://${socket}`, source);
  const { ctx, cancel } = Context.background().withTimeout(15_000);
  try {
    await source.ready(10_000);
    const found = await findAll(registry, ctx, NetworkServiceEndpoint.fromPartial({}));
    return found.map((f) => f.item).sort((a, b) => a.name.localeCompare(b.name));
  } finally {
    cancel();
    registry.close();
    source.close();
  }
}

export function endpointTable(items: NetworkServiceEndpoint[]): string {
  const rows = [['NAME', 'SERVICES', 'URL', 'EXPIRES']];
  for (const e of items) {
    const exp = e.expirationTime ? new Date(Number(e.expirationTime.seconds) * 1000).toISOString() : '-';
    rows.push([e.name, e.networkServiceNames.join(',') || '-', e.url || '-', exp]);
  }
  return columns(rows);
}
