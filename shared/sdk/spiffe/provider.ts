// The embedded identity provider: what a SPIRE agent is to a node, for machines without SPIRE (the
// local runtime, `make demo`, tests). It serves the SPIFFE Workload API on any number of unix
// sockets, each bound to one SPIFFE ID, the way an agent attests a workload by where it connects
// from. Each SVID is rotated at about half its lifetime, pushed on every open FetchX509SVID stream;
// bundles of federated trust domains are served alongside for interdomain peers.
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { SpiffeWorkloadAPIService, WorkloadApiHeader, X509BundlesResponse, X509SVIDResponse } from '@nsm/api/spiffe';
import { log } from '../log';
import { setLongTimeout, LongTimer } from '../core/longtimer';
import { LocalCa } from './ca';
import { concatDer } from './der';
import { checkTrustDomain, parseSpiffeId } from './id';
import { StaticX509Source, X509Source } from './source';
import type { X509Context, X509Svid } from './svid';

export interface WorkloadApiProviderOptions {
  ca: LocalCa;
  /** SVID lifetime; default one hour (SPIRE's default). Seconds are fine for tests. */
  svidLifetimeMs?: number;
  /** Fraction of the lifetime after which an SVID is replaced; default 0.5. */
  rotateAfter?: number;
  /**
   * The trust domains this one federates with and their bundles (SPIRE's `federates_with`, with the
   * bundles its bundle endpoint client fetched); changed later with setFederatedBundle.
   */
  federatedBundles?: Record<string, X509Certificate[]>;
}

interface Workload {
  socket: string;
  id: string;
  server: grpc.Server;
  svid?: X509Svid;
  svidStreams: Set<grpc.ServerWritableStream<unknown, X509SVIDResponse>>;
  bundleStreams: Set<grpc.ServerWritableStream<unknown, X509BundlesResponse>>;
  source: StaticX509Source;
  timer?: LongTimer;
  closed: boolean;
}

const RETRY_MS = 1000;

export class WorkloadApiProvider {
  private readonly workloads = new Map<string, Workload>();
  private readonly federated = new Map<string, X509Certificate[]>();
  private readonly lifetimeMs: number;
  private readonly rotateAfter: number;

  constructor(private readonly opts: WorkloadApiProviderOptions) {
    this.lifetimeMs = opts.svidLifetimeMs ?? 3_600_000;
    this.rotateAfter = opts.rotateAfter ?? 0.5;
    if (!(this.lifetimeMs >= 1000)) throw new Error('SVID lifetime must be at least 1 s');
    if (!(this.rotateAfter > 0 && this.rotateAfter < 1)) throw new Error('rotateAfter must be between 0 and 1');
    for (const [td, certs] of Object.entries(opts.federatedBundles ?? {})) this.setFederatedBundle(td, certs);
  }

  /** The trust domains federated with, each with its current bundle. */
  federatedBundles(): ReadonlyMap<string, readonly X509Certificate[]> {
    return new Map(this.federated);
  }

  get trustDomain(): string {
    return this.opts.ca.trustDomain;
  }

  /** The socket paths served, with the SPIFFE ID each one hands out. */
  list(): { socket: string; id: string; notAfter?: number }[] {
    return [...this.workloads.values()].map((w) => ({ socket: w.socket, id: w.id, notAfter: w.svid?.notAfter }));
  }

  /**
   * Serves the Workload API on `socket` (a path); every caller there gets `spiffeId`. Resolves once
   * the first SVID is issued and the socket listens.
   */
  async addWorkload(socket: string, spiffeId: string): Promise<void> {
    const { trustDomain } = parseSpiffeId(spiffeId);
    if (trustDomain !== this.trustDomain) throw new Error(`${spiffeId} is not in trust domain ${this.trustDomain}`);
    if (this.workloads.has(socket)) throw new Error(`${socket} is already served`);
    const server = new grpc.Server();
    const w: Workload = {
      socket,
      id: spiffeId,
      server,
      svidStreams: new Set(),
      bundleStreams: new Set(),
      source: new StaticX509Source(undefined, `embedded provider (${spiffeId})`),
      closed: false,
    };
    this.workloads.set(socket, w);
    try {
      await this.rotate(w);
      server.addService(SpiffeWorkloadAPIService, this.handlers(w));
      mkdirSync(dirname(socket), { recursive: true });
      if (existsSync(socket)) unlinkSync(socket);
      await new Promise<void>((resolve, reject) =>
        server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
      );
    } catch (err) {
      await this.removeWorkload(socket);
      throw err;
    }
    log.info({ socket, id: spiffeId, notAfter: new Date(w.svid!.notAfter).toISOString() }, 'workload API socket ready');
  }

  /** An in-process view of a workload's identity (same SVIDs and rotations as its socket serves). */
  source(socket: string): X509Source {
    const w = this.workloads.get(socket);
    if (!w) throw new Error(`${socket} is not served`);
    return w.source;
  }

  async removeWorkload(socket: string): Promise<void> {
    const w = this.workloads.get(socket);
    if (!w) return;
    this.workloads.delete(socket);
    w.closed = true;
    w.timer?.cancel();
    w.source.close();
    // Open Fetch streams never end on their own; a forced shutdown cancels them.
    w.server.forceShutdown();
    if (existsSync(socket)) unlinkSync(socket);
  }

  async close(): Promise<void> {
    await Promise.all([...this.workloads.keys()].map((s) => this.removeWorkload(s)));
  }

  /**
   * Serves `certs` as the bundle of a federated trust domain, or stops federating with it (undefined
   * or empty): every open FetchX509SVID and FetchX509Bundles stream gets the new set at once, as a
   * SPIRE agent pushes a federated bundle that its server refreshed from the other domain's endpoint.
   */
  setFederatedBundle(trustDomain: string, certs: readonly X509Certificate[] | undefined): void {
    checkTrustDomain(trustDomain);
    if (trustDomain === this.trustDomain) throw new Error(`${trustDomain} is this provider's own trust domain, not a federated one`);
    for (const c of certs ?? []) if (!c.ca) throw new Error(`the bundle of ${trustDomain} holds a certificate that is not a CA (${c.subject})`);
    if (certs && certs.length) this.federated.set(trustDomain, [...certs]);
    else this.federated.delete(trustDomain);
    log.info({ trustDomain, authorities: certs?.length ?? 0 }, certs?.length ? 'federated bundle set' : 'federation ended');
    for (const w of this.workloads.values()) this.push(w);
  }

  /** Replaces a workload's SVID now (tests; an operator's forced rotation). */
  async rotateNow(socket: string): Promise<void> {
    const w = this.workloads.get(socket);
    if (!w) throw new Error(`${socket} is not served`);
    await this.rotate(w);
  }

  private async rotate(w: Workload): Promise<void> {
    w.timer?.cancel();
    try {
      const svid = await this.opts.ca.issue(w.id, { lifetimeMs: this.lifetimeMs });
      if (w.closed) return;
      w.svid = svid;
      const lifetime = svid.notAfter - Date.now();
      w.timer = setLongTimeout(() => void this.rotate(w), Math.max(lifetime * this.rotateAfter, 100));
      this.push(w);
    } catch (err) {
      if (w.closed) return;
      log.warn({ id: w.id, err: String(err) }, 'issuing an SVID failed; trying again');
      w.timer = setLongTimeout(() => void this.rotate(w), RETRY_MS);
      if (!w.svid) throw err;
    }
  }

  private bundles(): Map<string, X509Certificate[]> {
    return new Map([[this.trustDomain, this.opts.ca.bundle()], ...this.federated]);
  }

  private svidResponse(w: Workload): X509SVIDResponse {
    const svid = w.svid!;
    return X509SVIDResponse.fromPartial({
      svids: [
        {
          spiffeId: svid.id,
          x509Svid: concatDer(svid.chain),
          x509SvidKey: svid.key.export({ format: 'der', type: 'pkcs8' }),
          bundle: concatDer(this.opts.ca.bundle()),
        },
      ],
      federatedBundles: Object.fromEntries([...this.federated].map(([td, certs]) => [td, concatDer(certs)])),
    });
  }

  private bundlesResponse(): X509BundlesResponse {
    return X509BundlesResponse.fromPartial({ bundles: Object.fromEntries([...this.bundles()].map(([td, c]) => [td, concatDer(c)])) });
  }

  private push(w: Workload): void {
    if (!w.svid || w.closed) return;
    const ctx: X509Context = { svid: w.svid, svids: [w.svid], bundles: this.bundles() };
    w.source.set(ctx);
    const svidMsg = this.svidResponse(w);
    for (const call of w.svidStreams) call.write(svidMsg);
    const bundleMsg = this.bundlesResponse();
    for (const call of w.bundleStreams) call.write(bundleMsg);
  }

  private handlers(w: Workload): grpc.UntypedServiceImplementation {
    const refuse = (call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): grpc.StatusObject | undefined =>
      call.metadata.get(WorkloadApiHeader)[0] === 'true'
        ? undefined
        : { code: grpc.status.INVALID_ARGUMENT, details: `security header missing from request (${WorkloadApiHeader}: true)`, metadata: new grpc.Metadata() };
    const follow = <T>(set: Set<grpc.ServerWritableStream<unknown, T>>, first: () => T) => (call: grpc.ServerWritableStream<unknown, T>) => {
      const bad = refuse(call);
      // grpc-js turns an 'error' on a server stream into the call's status.
      if (bad) return void call.emit('error', bad);
      set.add(call);
      const drop = () => set.delete(call);
      call.on('cancelled', drop);
      call.on('close', drop);
      call.on('error', drop);
      call.write(first());
    };
    const unimplemented = (call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>, cb?: grpc.sendUnaryData<unknown>) => {
      const err = refuse(call) ?? { code: grpc.status.UNIMPLEMENTED, details: 'JWT-SVIDs are not served by the embedded provider (NSM signs its own tokens)', metadata: new grpc.Metadata() };
      if (cb) cb(err as grpc.ServiceError);
      else call.emit('error', err);
    };
    return {
      fetchX509Svid: follow(w.svidStreams, () => this.svidResponse(w)),
      fetchX509Bundles: follow(w.bundleStreams, () => this.bundlesResponse()),
      fetchJwtsvid: unimplemented,
      fetchJwtBundles: (call: grpc.ServerWritableStream<unknown, unknown>) => unimplemented(call),
      validateJwtsvid: unimplemented,
    };
  }
}
