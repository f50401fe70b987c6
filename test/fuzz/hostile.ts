// A hostile endpoint: registered like any NSE, it answers every Request with the caller's connection
// made malformed in one place (a generated reply), and counts the Closes it gets back. The forwarder
// in front of it must refuse each reply before its dataplane uses it, and close it again.
import type { Connection } from '@nsm/api';
import type { NetworkServiceHandler } from '@nsm/sdk/core/networkservice';
import { MonitorServer } from '@nsm/sdk/elements/monitor';
import { startServer, StartedServer } from '@nsm/sdk/grpc/server';
import type { X509Source } from '@nsm/sdk/spiffe/source';
import { monitorRegistration, networkServiceRegistration } from '@nsm/sdk/grpc/services';
import { GenContext, hostileReply, Rng } from './generate';

export class HostileEndpoint {
  requests = 0;
  closes = 0;
  readonly replies: string[] = [];
  private server?: StartedServer;

  constructor(
    private readonly rng: Rng,
    private readonly gen: GenContext,
  ) {}

  async start(url: string, source: X509Source): Promise<void> {
    const h: NetworkServiceHandler = {
      request: async (_ctx, req): Promise<Connection> => {
        this.requests++;
        const { conn, what } = hostileReply(this.rng, this.gen, req.connection!);
        this.replies.push(what);
        return conn;
      },
      close: async () => {
        this.closes++;
      },
    };
    this.server = await startServer([url], [networkServiceRegistration(h), monitorRegistration(new MonitorServer())], { source });
  }

  async stop(): Promise<void> {
    await this.server?.stop(200);
  }
}
