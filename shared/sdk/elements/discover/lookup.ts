// Registry lookups shared by discover and discoverforwarder.
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import type { Context } from '../../core/context';
import { findAll, RegistryHandler } from '../../core/registry';
import { notFound } from '../../core/errors';

export async function findNetworkService(ctx: Context, ns: RegistryHandler<NetworkService>, name: string): Promise<NetworkService> {
  const found = (await findAll(ns, ctx, NetworkService.fromPartial({ name }))).filter((r) => !r.deleted && r.item.name === name);
  if (found.length === 0) throw notFound(`network service "${name}" is not found`);
  return found[0].item;
}

export async function findEndpointByName(ctx: Context, nse: RegistryHandler<NetworkServiceEndpoint>, name: string): Promise<NetworkServiceEndpoint | undefined> {
  const found = await findAll(nse, ctx, NetworkServiceEndpoint.fromPartial({ name }));
  return found.find((r) => !r.deleted && r.item.name === name)?.item;
}

export async function findEndpointsFor(ctx: Context, nse: RegistryHandler<NetworkServiceEndpoint>, service: string): Promise<NetworkServiceEndpoint[]> {
  const found = await findAll(nse, ctx, NetworkServiceEndpoint.fromPartial({ networkServiceNames: [service] }));
  // A local endpoint can come back twice (local store and central registry); keep the first.
  const byName = new Map<string, NetworkServiceEndpoint>();
  for (const r of found) if (!r.deleted && !byName.has(r.item.name)) byName.set(r.item.name, r.item);
  return [...byName.values()];
}
