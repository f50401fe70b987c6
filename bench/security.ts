// Issue 12 figure: what security costs a Request, measured in one run against the same code without it.
// Three parts, each with its baseline from this run:
//  1. Per hop, in process: making the token a hop sends (ES256 sign vs an unsigned alg-none token),
//     and the server's checks of a local path's left side (JWT parse, ES256 verify of the caller's
//     token, expiry, chain) with the client's check of the reply.
//  2. The TLS handshake of a new channel: mutual TLS with SVIDs (the nsmgr→forwarder or
//     forwarder→NSE dial when a pooled channel is new) vs a plaintext HTTP/2 connection.
//  3. One Request and its Close over real gRPC on a unix socket to an endpoint chain: security on
//     (mTLS, signed per-RPC token, authorize, the client's reply check) vs the same chain with no
//     authorize, unsigned tokens and a plaintext server, on already connected channels.
// A local Request (nsc → nsmgr → forwarder → NSE) does part 1 on four hops, and part 2 only when a
// channel is new; `make bench BENCH=local` measures it end to end (with security, as always now).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Connection, Mechanism, NetworkServiceRequest, TokenExpiresMetadataKey, TokenMetadataKey } from '@nsm/api';
import { endpoint } from '@nsm/sdk/chains/endpoint';
import { Context } from '@nsm/sdk/core/context';
import { NsmConnection, rpcClose, rpcRequest } from '@nsm/sdk/grpc/clients';
import { NetworkServiceGrpcClient } from '@nsm/sdk/grpc/nsclient';
import { startServer } from '@nsm/sdk/grpc/server';
import { setLogLevel } from '@nsm/sdk/log';
import { clientPolicies, serverPolicies } from '@nsm/sdk/policy/builtin';
import { enforce, policyInput } from '@nsm/sdk/policy';
import { pathFixture } from '@nsm/sdk/policy/testing';
import { spiffeChannelCredentials } from '@nsm/sdk/spiffe/tls';
import { testIdentity } from '@nsm/sdk/testing/identity';
import { formatExpires, jwtTokenGenerator } from '@nsm/sdk/token';
import { median, percentile, runMain, table } from './stats';

const N = Number(process.env.BENCH_SECURITY_N ?? 2000);
const RPCS = Number(process.env.BENCH_SECURITY_RPCS ?? 300);
const HANDSHAKES = Number(process.env.BENCH_SECURITY_HANDSHAKES ?? 100);

const us = (v: number) => `${(v * 1000).toFixed(0)} µs`;
const msf = (v: number) => `${v.toFixed(2)} ms`;

function perOp(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(200, n); i++) fn(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return (performance.now() - t0) / n;
}

async function samples(n: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  for (let i = 0; i < Math.min(20, n); i++) await fn(-1 - i); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

const request = (id: string): NetworkServiceRequest => ({
  connection: Connection.fromPartial({ id, networkService: 'bench', path: { index: 0, pathSegments: [{ name: 'nsc', id, token: '', metrics: {} }] } }),
  mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'NOOP' })],
});

async function main() {
  setLogLevel('error');
  const dir = mkdtempSync(join(tmpdir(), 'bench-sec-'));
  try {
    // 1. Per hop, in process.
    const f = await pathFixture();
    const nsc = await testIdentity('nsc');
    const nsmgr = await testIdentity('nsmgr');
    const signed = nsc.tokens;
    const unsigned = jwtTokenGenerator({ subject: nsc.id, lifetimeMs: 600_000 });
    const peer = { id: nsmgr.id, certificate: nsmgr.svid.chain[0] };
    const signMs = perOp(N, () => void signed(peer));
    const noneMs = perOp(N, () => void unsigned(peer));
    const now = Date.now();
    // A local path at the forwarder (left side nsc, nsmgr, forwarder) and the NSC's check of the reply.
    const left = f.segments(3, now);
    const full = f.segments(4, now);
    const serverMs = perOp(N, () => enforce(serverPolicies, policyInput(left, 2, f.peer('nsmgr'), now)));
    const clientMs = perOp(N, () => enforce(clientPolicies, policyInput(full, 0, f.peer('nsmgr'), now)));

    // 2. Handshakes: mutual TLS with SVIDs vs plaintext, to servers of the same service.
    const nse = await testIdentity('nse');
    const ep = endpoint({ name: 'nse', tokens: nse.tokens });
    const secure = await startServer([`unix://${join(dir, 'tls.sock')}`], ep.services(), { source: nse.source });
    // The comparison only: a plaintext server of the same chain without authorization.
    const plainEp = endpoint({ name: 'nse', tokens: jwtTokenGenerator({ subject: nse.id, lifetimeMs: 600_000 }), authorize: {} });
    const plain = new grpc.Server();
    for (const s of plainEp.services()) plain.addService(s.definition, s.implementation);
    const plainTarget = `unix://${join(dir, 'plain.sock')}`;
    await new Promise<void>((res, rej) => plain.bindAsync(plainTarget, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
    const connect = (client: grpc.Client) => new Promise<void>((res, rej) => client.waitForReady(Date.now() + 10_000, (e) => (e ? rej(e) : res())));
    const tlsHs = await samples(HANDSHAKES, async () => {
      const ch = spiffeChannelCredentials(nsc.source);
      const c = new NetworkServiceGrpcClient(`unix://${join(dir, 'tls.sock')}`, ch.credentials, { ...ch.options, 'grpc.use_local_subchannel_pool': 1 });
      await connect(c);
      c.close();
    });
    const plainHs = await samples(HANDSHAKES, async () => {
      const c = new NetworkServiceGrpcClient(plainTarget, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      await connect(c);
      c.close();
    });

    // 3. Request + Close over gRPC on connected channels.
    const cc = new NsmConnection(secure.urls[0], nsc.source);
    await cc.ready(Context.background(), 10_000);
    const secureRpc = await samples(RPCS, async (i) => {
      const conn = await rpcRequest(Context.background(), cc, request(`s${i}`), nsc.tokens);
      await rpcClose(Context.background(), cc, conn, nsc.tokens);
    });
    const pc = new NetworkServiceGrpcClient(plainTarget, grpc.credentials.createInsecure());
    await connect(pc);
    const md = () => {
      const t = unsigned({ id: nse.id });
      const m = new grpc.Metadata();
      m.set(TokenMetadataKey, t.token);
      m.set(TokenExpiresMetadataKey, formatExpires(t.expires));
      return m;
    };
    const call = <T>(fn: (cb: (err: grpc.ServiceError | null, res?: T) => void) => void) => new Promise<T>((res, rej) => fn((e, r) => (e ? rej(e) : res(r!))));
    const plainRpc = await samples(RPCS, async (i) => {
      const conn = await call<Connection>((cb) => pc.request(request(`p${i}`), md(), {}, cb));
      await call<object>((cb) => pc.closeConnection(conn, md(), {}, cb));
    });
    cc.close();
    pc.close();
    await secure.stop(100);
    plain.forceShutdown();

    const hop = signMs + serverMs;
    table(`Security cost, ${new Date().toISOString()} (same run, same code with and without)`, [
      ['per hop: the token a hop sends', `ES256 ${us(signMs)} vs unsigned ${us(noneMs)}`],
      ['per hop: server checks of the left side (3 segments)', `${us(serverMs)} (parse, ES256 verify of the caller's token, exp, chain)`],
      ['client check of a 4-segment reply', `${us(clientMs)}`],
      ['local Request (4 hops: 4 tokens, 4 checks, 3 reply checks)', `≈ ${msf(4 * hop + 3 * clientMs)} of crypto and policy per Request (and again per refresh)`],
      [`new channel: mutual TLS handshake (n=${HANDSHAKES})`, `median ${msf(median(tlsHs))}, p99 ${msf(percentile(tlsHs, 99))} vs plaintext median ${msf(median(plainHs))}, p99 ${msf(percentile(plainHs, 99))}`],
      [`Request+Close, one hop, connected channel (n=${RPCS})`, `secure median ${msf(median(secureRpc))}, p99 ${msf(percentile(secureRpc, 99))} vs plaintext median ${msf(median(plainRpc))}, p99 ${msf(percentile(plainRpc, 99))}`],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
