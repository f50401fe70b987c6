// SVID rotation under live connections, over real gRPC and mutual TLS: a connection outlives the
// rotation of either end's SVID, and tokens stay verifiable by the other end, which checks them
// against the certificate of that connection's handshake (upstream deployments-k8s#10377: refreshes
// failed while SPIRE rotated SVIDs). The server signs for an old connection with the key of the
// certificate that connection saw; a client whose own SVID rotated re-dials in the background.
import { Connection } from '@nsm/api';
import { Context } from '../core/context';
import { handler } from '../core/networkservice';
import { authorizeClient } from '../elements/authorizeclient';
import { connectServer } from '../elements/connect/server';
import { startServer, StartedServer } from '../grpc/server';
import { StaticX509Source } from '../spiffe/source';
import type { X509Svid } from '../spiffe/svid';
import { clientRequest, tempDir } from '../testing';
import { testCa, testIdentity, TestIdentity } from '../testing/identity';
import { verifyEs256 } from '../token/jwt';
import { client } from './client';
import { endpoint } from './endpoint';

const tmp = tempDir();
let server: StartedServer;
let nse: TestIdentity;
let nsc: TestIdentity;
afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

const rotate = async (who: TestIdentity): Promise<X509Svid> => {
  const ca = await testCa();
  const svid = await ca.issue(who.id);
  (who.source as StaticX509Source).set({ svid, svids: [svid], bundles: new Map([[ca.trustDomain, ca.bundle()]]) });
  return svid;
};

test('refreshes keep passing both sides\' authorization while server and client rotate their SVIDs', async () => {
  nse = await testIdentity('nse');
  nsc = await testIdentity('nsc');
  const ep = endpoint({ name: 'nse', tokens: nse.tokens });
  server = await startServer([`unix://${tmp.dir}/nse.sock`], ep.services(), { source: nse.source });
  const h = handler(client({ name: 'nsc', url: server.urls[0], tokens: nsc.tokens, source: nsc.source, refresh: false, authorize: authorizeClient() }));
  const ctx = Context.background();
  const nseToken = (c: Connection) => c.path!.pathSegments[1].token;

  let conn = await h.request(ctx, clientRequest('c1'));
  const firstServerCert = nse.svid.chain[0];
  expect(verifyEs256(nseToken(conn), firstServerCert)).toBe(true);

  // The server rotates: the established connection still shows its first certificate, so the
  // server signs for it with that certificate's key, and the client's check passes.
  const second = await rotate(nse);
  conn = await h.request(ctx, { connection: conn, mechanismPreferences: [] });
  expect(verifyEs256(nseToken(conn), firstServerCert)).toBe(true);
  expect(verifyEs256(nseToken(conn), second.chain[0])).toBe(false);

  // The client rotates: its next call still goes over the old connection, signed with the key of
  // the certificate that connection presented; meanwhile a fresh channel connects, and once it is
  // ready calls go over it with the new certificate (and see the server's new one).
  const nscFirst = nsc.svid.chain[0];
  const nscSecond = await rotate(nsc);
  conn = await h.request(ctx, { connection: conn, mechanismPreferences: [] });
  expect(verifyEs256(conn.path!.pathSegments[0].token, nscFirst)).toBe(true);
  const end = Date.now() + 10_000;
  while (!verifyEs256(conn.path!.pathSegments[0].token, nscSecond.chain[0])) {
    if (Date.now() > end) throw new Error('the client never moved to a fresh handshake');
    await new Promise((r) => setTimeout(r, 50));
    conn = await h.request(ctx, { connection: conn, mechanismPreferences: [] });
  }
  expect(verifyEs256(nseToken(conn), second.chain[0])).toBe(true);

  await h.close(ctx, conn);
  expect(ep.begin.ids()).toEqual([]);
});

test('a pass-through hop whose two connections show different certificates of it returns a path its caller can verify', async () => {
  const tmp2 = tempDir();
  const [end, mid, first] = [await testIdentity('nse'), await testIdentity('nsmgr'), await testIdentity('nsc')];
  const last = endpoint({ name: 'nse', tokens: end.tokens });
  const lastServer = await startServer([`unix://${tmp2.dir}/nse.sock`], last.services(), { source: end.source });
  // An nsmgr-like hop: the endpoint head, then a client chain to the endpoint (no refresh).
  const hop = endpoint({
    name: 'nsmgr',
    tokens: mid.tokens,
    additional: [connectServer(client({ name: 'nsmgr', url: lastServer.urls[0], tokens: mid.tokens, source: mid.source, refresh: false, authorize: authorizeClient({ closePolicies: [] }) }))],
  });
  const hopServer = await startServer([`unix://${tmp2.dir}/nsmgr.sock`], hop.services(), { source: mid.source });
  const h = handler(client({ name: 'nsc', url: hopServer.urls[0], tokens: first.tokens, source: first.source, refresh: false, authorize: authorizeClient() }));
  const ctx = Context.background();
  try {
    let conn = await h.request(ctx, clientRequest('c2'));
    // The hop rotates: its caller's connection keeps the first certificate, while its own channel to
    // the endpoint is re-dialled with the new one; the token in its segment (sent to the endpoint)
    // is signed again for the caller.
    const before = mid.svid.chain[0];
    const after = await rotate(mid);
    // The first call after the rotation starts the hop's fresh channel to the endpoint; once it is
    // ready, the hop's token for the endpoint is signed with the new key.
    conn = await h.request(ctx, { connection: conn, mechanismPreferences: [] });
    await new Promise((r) => setTimeout(r, 1000));
    conn = await h.request(ctx, { connection: conn, mechanismPreferences: [] });
    expect(verifyEs256(conn.path!.pathSegments[1].token, before)).toBe(true);
    expect(conn.path!.pathSegments.map((p) => p.name)).toEqual(['nsc', 'nsmgr', 'nse']);
    expect(after.id).toBe(mid.id);
    await h.close(ctx, conn);
    expect(last.begin.ids()).toEqual([]);
  } finally {
    await hopServer.stop();
    await lastServer.stop();
    tmp2.cleanup();
  }
});
