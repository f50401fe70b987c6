// NetworkServices the runtime keeps registered in its registry, as `kubectl apply` of NetworkService
// resources keeps them in a cluster's: from the topology's `networkServices:` (and removed by
// `nsm-local delete networkservice <name>`). The registry of the local runtime keeps them in memory,
// so they are registered again when it restarts.
import type { NetworkService } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { nsRegistryClient, RegistryClient } from '@nsm/sdk/grpc/registry';
import type { X509Source } from '@nsm/sdk/spiffe/source';

const CALL_MS = 5_000;

export class NetworkServices {
  private readonly applied = new Map<string, NetworkService>();
  private client?: RegistryClient<NetworkService>;
  private starts = 0;

  constructor(
    private readonly registryUrl: string,
    private readonly log: (msg: string, fields?: object) => void,
    /** The runtime's own identity (the mesh's provider exists only once the mesh is up). */
    private readonly source: () => X509Source,
  ) {}

  private registry(): RegistryClient<NetworkService> {
    return (this.client ??= nsRegistryClient(this.registryUrl, this.source()));
  }

  private async call<T>(fn: (ctx: Context) => Promise<T>): Promise<T> {
    const { ctx, cancel } = Context.background().withTimeout(CALL_MS);
    try {
      return await fn(ctx);
    } finally {
      cancel();
    }
  }

  async apply(ns: NetworkService): Promise<void> {
    await this.call((ctx) => this.registry().register(ctx, ns));
    this.applied.set(ns.name, ns);
    this.log('network service registered', { name: ns.name, matches: ns.matches.length });
  }

  async delete(name: string): Promise<void> {
    const ns = this.applied.get(name);
    if (!ns) throw new Error(`network service ${name} was not applied (have: ${[...this.applied.keys()].join(', ') || 'none'})`);
    await this.call((ctx) => this.registry().unregister(ctx, ns));
    this.applied.delete(name);
  }

  names(): string[] {
    return [...this.applied.keys()];
  }

  /** The registry process (re)started: after the first start, register everything again once it answers. */
  registryStarted(): void {
    if (this.starts++ === 0 || this.applied.size === 0) return;
    void (async () => {
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          for (const ns of this.applied.values()) await this.call((ctx) => this.registry().register(ctx, ns));
          this.log('network services registered again after a registry restart', { names: this.names() });
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      this.log('could not register the network services again after a registry restart', { names: this.names() });
    })();
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
    this.applied.clear();
    this.starts = 0;
  }
}
