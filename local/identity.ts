// The local runtime's identity provider, what SPIRE (server and node agents) is to a cluster: one
// local CA for the mesh's trust domain (default nsm.local) and the embedded Workload API provider,
// which serves every component and every pod a Workload API socket of its own on the host file
// system, the way an agent socket reaches a pod through a hostPath mount. The socket is what names
// the workload: whatever connects to <root>/spire/<name>/agent.sock gets <name>'s SVID, so an outside
// tool can act as that pod by pointing SPIFFE_ENDPOINT_SOCKET there (`nsm-local status` lists them).
//
// SPIFFE IDs follow upstream's deployments: spiffe://<td>/ns/<namespace>/pod/<name>, with pods in
// namespace "default" and the mesh's own components (registry, nsmgr-<node>, forwarder-<node>) in
// "nsm-system". The runtime itself (its readiness probes, like a kubelet's) is spiffe://<td>/nsm-local.
import { join } from 'node:path';
import { formatSpiffeBundle, parseSpiffeBundle } from '@nsm/sdk/spiffe/bundle';
import { DEFAULT_TRUST_DOMAIN, LocalCa } from '@nsm/sdk/spiffe/ca';
import { makeSpiffeId } from '@nsm/sdk/spiffe/id';
import { WorkloadApiProvider } from '@nsm/sdk/spiffe/provider';
import type { X509Source } from '@nsm/sdk/spiffe/source';

export const PODS_NAMESPACE = 'default';
export const SYSTEM_NAMESPACE = 'nsm-system';
/** SPIRE's default SVID lifetime. */
export const DEFAULT_SVID_LIFETIME_MS = 3_600_000;
const RUNTIME = 'nsm-local';

export interface IdentitySettings {
  trustDomain: string;
  svidLifetimeMs: number;
}

/** Where the Workload API socket of workload `name` of the mesh at `root` is (on the host, and in its pod). */
export const workloadSocket = (root: string, name: string) => join(root, 'spire', name, 'agent.sock');

export interface WorkloadIdentity {
  /** Process or pod name. */
  name: string;
  spiffeId: string;
  /** Host path of its Workload API socket. */
  workloadApiSocket: string;
  /** NotAfter of its current SVID (ISO). */
  svidExpires?: string;
}

export class MeshIdentity {
  private readonly names = new Map<string, { socket: string; id: string }>();

  private constructor(
    readonly settings: IdentitySettings,
    private readonly root: string,
    readonly ca: LocalCa,
    private readonly provider: WorkloadApiProvider,
  ) {}

  static async create(root: string, settings: Partial<IdentitySettings> = {}): Promise<MeshIdentity> {
    const s = { trustDomain: settings.trustDomain || DEFAULT_TRUST_DOMAIN, svidLifetimeMs: settings.svidLifetimeMs ?? DEFAULT_SVID_LIFETIME_MS };
    const ca = await LocalCa.create({ trustDomain: s.trustDomain });
    const mesh = new MeshIdentity(s, root, ca, new WorkloadApiProvider({ ca, svidLifetimeMs: s.svidLifetimeMs }));
    await mesh.add(RUNTIME, makeSpiffeId(s.trustDomain, `/${RUNTIME}`));
    return mesh;
  }

  /**
   * The trust bundle this mesh publishes to the trust domains that federate with it, in the SPIFFE
   * bundle format (what a SPIRE server's bundle endpoint serves).
   */
  publishedBundle(): string {
    return formatSpiffeBundle({ x509Authorities: this.ca.bundle(), sequence: 1 });
  }

  /** Federates with `trustDomain`, whose published bundle (SPIFFE format) is `bundle`; undefined ends it. */
  federate(trustDomain: string, bundle: string | undefined): void {
    this.provider.setFederatedBundle(trustDomain, bundle === undefined ? undefined : parseSpiffeBundle(bundle, `bundle of ${trustDomain}`).x509Authorities);
  }

  federatedTrustDomains(): string[] {
    return [...this.provider.federatedBundles().keys()];
  }

  /** Where a workload's Workload API socket is on the host. */
  socketOf(name: string): string {
    return workloadSocket(this.root, name);
  }

  podId(name: string): string {
    return makeSpiffeId(this.settings.trustDomain, `/ns/${PODS_NAMESPACE}/pod/${name}`);
  }

  componentId(name: string): string {
    return makeSpiffeId(this.settings.trustDomain, `/ns/${SYSTEM_NAMESPACE}/pod/${name}`);
  }

  /** Serves `name` its Workload API (idempotent); returns the env its process needs. */
  async add(name: string, spiffeId: string): Promise<Record<string, string>> {
    const socket = this.socketOf(name);
    const known = this.names.get(name);
    if (known && known.id !== spiffeId) throw new Error(`${name} already has the identity ${known.id}`);
    if (!known) {
      await this.provider.addWorkload(socket, spiffeId);
      this.names.set(name, { socket, id: spiffeId });
    }
    return { SPIFFE_ENDPOINT_SOCKET: `unix://${socket}` };
  }

  async remove(name: string): Promise<void> {
    const w = this.names.get(name);
    if (!w) return;
    this.names.delete(name);
    await this.provider.removeWorkload(w.socket);
  }

  /** The identity of a workload, in process (same SVIDs and rotations as its socket serves). */
  sourceOf(name: string): X509Source {
    const w = this.names.get(name);
    if (!w) throw new Error(`${name} has no identity (known: ${[...this.names.keys()].join(', ')})`);
    return this.provider.source(w.socket);
  }

  /** The runtime's own identity, for its probes. */
  get probeSource(): X509Source {
    return this.sourceOf(RUNTIME);
  }

  list(): WorkloadIdentity[] {
    const byId = new Map(this.provider.list().map((w) => [w.socket, w.notAfter]));
    return [...this.names.entries()].map(([name, w]) => {
      const notAfter = byId.get(w.socket);
      return { name, spiffeId: w.id, workloadApiSocket: w.socket, ...(notAfter ? { svidExpires: new Date(notAfter).toISOString() } : {}) };
    });
  }

  async close(): Promise<void> {
    this.names.clear();
    await this.provider.close();
  }
}
