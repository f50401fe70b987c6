// The whole identity path over real gRPC with real mTLS: an "nsc" sends a Request with a per-RPC
// token signed by its SVID (aud = the server it handshook with); an "nsmgr" stamps tokens
// (updatetoken) and authorizes; the nsc checks the reply (authorizeclient). The edge glue here is
// what phase 2 puts into shared/sdk/grpc: peer with certificate into the server context, the
// server identity into the client's call peer slot, tokens made after the handshake.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Connection, NetworkServiceRequest, NetworkServiceService, TokenExpiresMetadataKey, TokenMetadataKey } from '@nsm/api';
import { Context } from '../../core/context';
import { Code, StatusError } from '../../core/errors';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { NetworkServiceGrpcClient } from '../../grpc/nsclient';
import { LocalCa } from '../../spiffe/ca';
import { callPeerSlotKey, peerFromAuthContext } from '../../spiffe/peer';
import { StaticX509Source } from '../../spiffe/source';
import type { X509Svid } from '../../spiffe/svid';
import { spiffeChannelCredentials, spiffeServerCredentials } from '../../spiffe/tls';
import { formatExpires, GeneratedToken, jwtTokenGenerator } from '../../token';
import { spiffeTokenGenerator, TokenPeer } from '../../token/spiffe';
import { authorizeClient } from '../authorizeclient';
import { incomingMetadataKey, peerKey } from '../../grpc/keys';
import { updateToken } from '../updatetoken';
import { updatePath } from '../updatepath';
import { authorize } from './index';

let ca: LocalCa;
let dir: string;
const svids: Record<string, X509Svid> = {};
const cleanups: (() => void)[] = [];
const sourceOf = (name: string) => new StaticX509Source({ svid: svids[name], svids: [svids[name]], bundles: new Map([['nsm.local', ca.bundle()]]) });

beforeAll(async () => {
  ca = await LocalCa.create();
  for (const n of ['nsc', 'nsmgr', 'mallory']) svids[n] = await ca.issue(`spiffe://nsm.local/${n}`);
  // Same identity as the nsmgr, another key: what a server would sign with if its key leaked or got mixed up.
  svids['nsmgr-other-key'] = await ca.issue('spiffe://nsm.local/nsmgr');
});
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'authz-'))));
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  rmSync(dir, { recursive: true, force: true });
});

/** An nsmgr-like server: updatepath, updatetoken, authorize; `tokenSigner` may differ from its TLS identity. */
async function startNsmgr(tokenSigner = 'nsmgr') {
  const seen = { requests: 0, closes: 0 };
  const gen = spiffeTokenGenerator({ source: sourceOf(tokenSigner), maxLifetimeMs: 600_000 });
  const counter: NetworkServiceElement = {
    async request(ctx, r, next) {
      seen.requests++;
      return next.request(ctx, r);
    },
    async close(ctx, c, next) {
      seen.closes++;
      return next.close(ctx, c);
    },
  };
  const h = handler(chain(updatePath('nsmgr'), updateToken(gen), authorize(), counter));
  const ctxOf = (call: grpc.ServerUnaryCall<unknown, unknown>) => {
    const md: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) md[k] = String(v);
    const p = peerFromAuthContext(call.getAuthContext());
    // Phase 2 widens the edge's PeerInfo with the certificate; the authorize element already reads it.
    return Context.background().with(incomingMetadataKey, md).with(peerKey, (p ? { id: p.id, certificate: p.certificate } : { id: undefined }) as { id?: string });
  };
  const reply = <T>(p: Promise<T>, cb: grpc.sendUnaryData<T>) =>
    p.then((v) => cb(null, v), (e) => cb({ code: StatusError.from(e).code, details: StatusError.from(e).message } as grpc.ServiceError));
  const server = new grpc.Server();
  server.addService(NetworkServiceService, {
    request: (call: grpc.ServerUnaryCall<NetworkServiceRequest, Connection>, cb: grpc.sendUnaryData<Connection>) => reply(h.request(ctxOf(call), call.request), cb),
    close: (call: grpc.ServerUnaryCall<Connection, object>, cb: grpc.sendUnaryData<object>) => reply(h.close(ctxOf(call), call.request).then(() => ({})), cb),
  } as never);
  const target = `unix://${join(dir, 'nsm.sock')}`;
  await new Promise<void>((resolve, reject) => server.bindAsync(target, spiffeServerCredentials(sourceOf('nsmgr')), (e) => (e ? reject(e) : resolve())));
  cleanups.push(() => server.forceShutdown());
  return { target, seen };
}

/** An nsc-like client: its TLS identity, a token generator (maybe a bad one), authorizeclient on replies. */
function nsc(target: string, tokens: (peer?: TokenPeer) => GeneratedToken) {
  const ch = spiffeChannelCredentials(sourceOf('nsc'));
  const client = new NetworkServiceGrpcClient(target, ch.credentials, ch.options);
  cleanups.push(() => client.close());
  const md = () => {
    // After the handshake the channel knows the server: the token is made for it.
    const t = tokens(ch.peer());
    const m = new grpc.Metadata();
    m.set(TokenMetadataKey, t.token);
    m.set(TokenExpiresMetadataKey, formatExpires(t.expires));
    return m;
  };
  const edge: NetworkServiceElement = {
    request: (ctx, r) =>
      new Promise((resolve, reject) => {
        const call = client.request(r, md(), {}, (err, res) => {
          const slot = ctx.get(callPeerSlotKey);
          if (slot) Object.assign(slot, { called: true, peer: peerFromAuthContext(call.getAuthContext()) });
          if (err) reject(new StatusError(err.code, err.details));
          else resolve(res!);
        });
      }),
    close: (_ctx, c) => new Promise((resolve, reject) => client.closeConnection(c, md(), {}, (err) => (err ? reject(new StatusError(err.code, err.details)) : resolve()))),
  };
  const h = handler(chain(updatePath('nsc'), authorizeClient(), edge));
  const ready = () => new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 5000, (e) => (e ? reject(e) : resolve())));
  return { h, ready, request: async () => (await ready(), h.request(Context.background(), { connection: Connection.fromPartial({ id: 'c1', networkService: 'svc' }), mechanismPreferences: [] })) };
}

const good = () => spiffeTokenGenerator({ source: sourceOf('nsc'), maxLifetimeMs: 600_000 });

test('a client with a valid SVID and token is served; both ends verify each other', async () => {
  const { target, seen } = await startNsmgr();
  const c = nsc(target, good());
  const out = await c.request();
  const [mine, theirs] = out.path!.pathSegments;
  expect(mine.name).toBe('nsc');
  expect(theirs.name).toBe('nsmgr');
  expect(seen.requests).toBe(1);
  await c.h.close(Context.background(), out);
  expect(seen.closes).toBe(1);
});

test.each([
  ['a forged token (wrong key)', () => spiffeTokenGenerator({ source: sourceOf('mallory'), maxLifetimeMs: 600_000 }), 'prev_token_signed'],
  ['an unsigned alg-none token', () => jwtTokenGenerator({ subject: 'spiffe://nsm.local/nsc', lifetimeMs: 600_000 }), 'prev_token_signed'],
  ['an expired token', () => {
    const g = good();
    return (p?: TokenPeer) => ({ ...g(p), expires: Date.now() + 60_000, token: spiffeTokenGenerator({ source: sourceOf('nsc'), maxLifetimeMs: -5_000 })(p).token });
  }, 'tokens_expired'],
  ['an unchained token (aud is someone else)', () => {
    const g = good();
    return () => g({ id: 'spiffe://nsm.local/someone-else' });
  }, 'tokens_chained'],
] as const)('%s is PERMISSION_DENIED and nothing is made', async (_n, makeTokens, policyName) => {
  const { target, seen } = await startNsmgr();
  const c = nsc(target, makeTokens() as (peer?: TokenPeer) => GeneratedToken);
  await expect(c.request()).rejects.toMatchObject({ code: Code.PERMISSION_DENIED, message: expect.stringContaining(policyName) });
  expect(seen.requests).toBe(0);
});

test('a server whose token is not signed by its TLS certificate is refused by the client, which closes what it got', async () => {
  const { target, seen } = await startNsmgr('nsmgr-other-key');
  const c = nsc(target, good());
  await expect(c.request()).rejects.toMatchObject({ code: Code.PERMISSION_DENIED, message: expect.stringContaining('next_token_signed') });
  expect(seen).toEqual({ requests: 1, closes: 1 });
});
