// A gRPC server on any number of unix and TCP URLs, with the standard health service. Every listener,
// unix sockets included, is mutual TLS with the SVID of `source` (upstream NSM does the same): there
// is no plaintext listener. Health is served on the same TLS server, so a probe presents an SVID too
// (checkHealth in health.ts, `<cmd> health-probe`).
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { MAX_MESSAGE_BYTES } from '../input';
import type { X509Source } from '../spiffe/source';
import { spiffeServerCredentials } from '../spiffe/tls';
import { HealthImplementation } from './health';
import { bindTarget, parseUrl } from './urls';

export interface StartedServer {
  server: grpc.Server;
  health: HealthImplementation;
  /** The URLs actually bound (tcp port 0 replaced by the real port). */
  urls: string[];
  /** Graceful stop, forced after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServiceRegistration {
  /** Full service name for health, e.g. networkservice.NetworkService. */
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface ServerOptions {
  /** The server's identity: its SVID and the bundles that client SVIDs must chain to. */
  source: X509Source;
}

export async function startServer(urls: string[], services: ServiceRegistration[], opts: ServerOptions): Promise<StartedServer> {
  if (urls.length === 0) throw new Error('no listen URL given');
  const credentials = spiffeServerCredentials(opts.source);
  // A larger message is refused by grpc-js with RESOURCE_EXHAUSTED before anything reads it.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });
  const statusMap: Record<string, 'SERVING'> = { '': 'SERVING' };
  for (const s of services) {
    server.addService(s.definition, s.implementation);
    statusMap[s.name] = 'SERVING';
  }
  const health = new HealthImplementation(statusMap);
  health.addToServer(server);

  const bound: string[] = [];
  const sockets: string[] = [];
  try {
    for (const url of urls) {
      const p = parseUrl(url);
      if (p.scheme === 'unix') {
        mkdirSync(dirname(p.address), { recursive: true });
        if (existsSync(p.address)) unlinkSync(p.address);
        sockets.push(p.address);
      }
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(bindTarget(url), credentials, (err, port) =>
          err ? reject(new Error(`cannot listen on ${url}: ${err.message}`)) : resolve(port),
        ),
      );
      bound.push(p.scheme === 'unix' ? url : url.replace(/:\d+$/, `:${port}`));
    }
  } catch (err) {
    server.forceShutdown();
    throw err;
  }

  return {
    server,
    health,
    urls: bound,
    stop: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        for (const name of Object.keys(statusMap)) health.setStatus(name, 'NOT_SERVING');
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          for (const s of sockets) if (existsSync(s)) unlinkSync(s);
          resolve();
        });
      }),
  };
}
