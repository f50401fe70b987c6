// SVID rotation under live connections, over real gRPC and mutual TLS: a connection outlives the
// rotation of either end's SVID, and tokens stay verifiable by the other end, which checks them
// against the certificate of that connection's handshake (upstream deployments-k8s#10377: refreshes
// failed while SPIRE rotated SVIDs). The server signs for an old connection with the key of the
// certificate that connection saw; a client whose own SVID rotated re-dials before its next call.
import { Connection } from '@nsm/api';
import { Context } from '../core/context';
import { handler } from '../core/networkservice';
import { authorizeClient } from '../elements/authorizeclient';
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

  // The client rotates: its next call goes over a fresh handshake with its new certificate (and
  // sees the server's new one), and the server verifies the new token against it.
  const nscSecond = await rotate(nsc);
  conn = await h.request(ctx, { connection: conn, mechanismPreferences: [] });
  expect(verifyEs256(conn.path!.pathSegments[0].token, nscSecond.chain[0])).toBe(true);
  expect(verifyEs256(nseToken(conn), second.chain[0])).toBe(true);

  await h.close(ctx, conn);
  expect(ep.begin.ids()).toEqual([]);
});
