// A gRPC server on any number of unix and TCP URLs, with the standard health service. Every listener,
// unix sockets included, is mutual TLS with the SVID of `source` (upstream NSM does the same): there
// is no plaintext listener. Health is served on the same TLS server, so a probe presents an SVID too
// (checkHealth in health.ts, `<cmd> health-probe`).
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { MAX_MESSAGE_BYTES } from '../input';
import type { X509Source } from '../spiffe/source';
import { spiffeServerCredentials } from '../spiffe/tls';
import { HealthImplementation } from './health';
import { bindTarget, parseUrl } from './urls';
import { tagUnixPeer, type UnixPeer } from './unixpeer';

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
  /**
   * Learns who connected to a unix socket, from the accepted socket's descriptor (SO_PEERCRED); its
   * answer reaches the chain as unixPeerKey. With it, unix sockets are accepted here and handed to
   * grpc-js (a connection injector) instead of being bound by grpc-js.
   */
  unixPeer?: (fd: number) => UnixPeer | undefined;
}

/**
 * A unix socket listener whose connections go to grpc-js tagged with their peer: the tag is reported
 * as the connection's remote address (grpc-js's call.getPeer()), through the TLS layer, which asks
 * the underlying pipe handle for it.
 */
async function listenUnix(path: string, inject: (socket: Socket) => void, unixPeer: (fd: number) => UnixPeer | undefined): Promise<NetServer> {
  const srv = createServer((socket) => {
    const handle = (socket as unknown as { _handle?: { fd?: number; getpeername?: (out: { address?: string }) => number } })._handle;
    const fd = handle?.fd;
    // A peer that cannot be learnt is still a unix peer (pid 0, no namespace): it may name none.
    let peer: UnixPeer = { pid: 0 };
    try {
      peer = (fd !== undefined && fd >= 0 ? unixPeer(fd) : undefined) ?? peer;
    } catch {
      /* as above */
    }
    if (handle) {
      const { tag, forget } = tagUnixPeer(peer);
      handle.getpeername = (out) => {
        out.address = tag;
        return 0;
      };
      socket.once('close', forget);
    }
    inject(socket);
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(path, () => {
      srv.off('error', reject);
      resolve();
    });
  });
  return srv;
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
  const listeners: NetServer[] = [];
  const injector = opts.unixPeer ? server.createConnectionInjector(credentials) : undefined;
  try {
    for (const url of urls) {
      const p = parseUrl(url);
      if (p.scheme === 'unix') {
        mkdirSync(dirname(p.address), { recursive: true });
        if (existsSync(p.address)) unlinkSync(p.address);
        sockets.push(p.address);
        if (injector && opts.unixPeer) {
          listeners.push(await listenUnix(p.address, (s) => injector.injectConnection(s), opts.unixPeer));
          bound.push(url);
          continue;
        }
      }
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(bindTarget(url), credentials, (err, port) =>
          err ? reject(new Error(`cannot listen on ${url}: ${err.message}`)) : resolve(port),
        ),
      );
      bound.push(p.scheme === 'unix' ? url : url.replace(/:\d+$/, `:${port}`));
    }
  } catch (err) {
    for (const l of listeners) l.close();
    injector?.destroy();
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
        for (const l of listeners) l.close();
        injector?.drain(graceMs);
        const force = setTimeout(() => {
          injector?.destroy();
          server.forceShutdown();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          injector?.destroy();
          for (const s of sockets) if (existsSync(s)) unlinkSync(s);
          resolve();
        });
      }),
  };
}
