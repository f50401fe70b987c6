// The server element in a chain, with paths really signed by SVIDs.
import { X509Certificate } from 'node:crypto';
import { Code } from '../../core/errors';
import { chain, handler } from '../../core/networkservice';
import { policy } from '../../policy';
import { pathFixture, PathFixture } from '../../policy/testing';
import { bg, conn, recorder, req } from '../../testing/elements';
import { peerKey } from '../../grpc/keys';
import { authorize } from './index';

let f: PathFixture;
const now = Date.now();
beforeAll(async () => {
  f = await pathFixture(() => now);
});

// The forwarder receives from the nsmgr: index 2, three segments.
const atForwarder = () => conn({ id: 'forwarder-id', path: { index: 2, pathSegments: f.segments(3, now) } });
const overGrpc = (who: 'nsmgr' | 'mallory' | 'plaintext' = 'nsmgr') =>
  bg().with(peerKey, who === 'plaintext' ? { id: undefined } : ({ id: f.svids[who].id, certificate: f.svids[who].chain[0] } as { id: string; certificate: X509Certificate }));

test('a call over gRPC with a good path reaches the rest of the chain, Request and Close', async () => {
  const rec = recorder();
  const h = handler(chain(authorize(), rec.el));
  await h.request(overGrpc(), req(atForwarder()));
  await h.close(overGrpc(), atForwarder());
  expect(rec.requests).toHaveLength(1);
  expect(rec.closes).toHaveLength(1);
});

test.each([
  ['forged previous token', (c: ReturnType<typeof atForwarder>) => (c.path!.pathSegments[1].token = f.token('nsmgr', 'forwarder', {}, 'mallory')), 'nsmgr', 'prev_token_signed'],
  ['impostor peer', () => undefined, 'mallory', 'prev_token_signed'],
  ['plaintext call', () => undefined, 'plaintext', 'prev_token_signed'],
  ['expired token', (c: ReturnType<typeof atForwarder>) => (c.path!.pathSegments[0].token = f.token('nsc', 'nsmgr', { exp: Math.floor(now / 1000) - 1 })), 'nsmgr', 'tokens_expired'],
  ['unchained path', (c: ReturnType<typeof atForwarder>) => (c.path!.pathSegments[0].token = f.token('nsc', 'nse')), 'nsmgr', 'tokens_chained'],
  ['no tokens', (c: ReturnType<typeof atForwarder>) => c.path!.pathSegments.forEach((s) => (s.token = '')), 'nsmgr', 'tokens_valid'],
] as const)('%s: PERMISSION_DENIED naming %s; nothing downstream runs', async (_n, spoil, who, policyName) => {
  const rec = recorder();
  const h = handler(chain(authorize(), rec.el));
  const c = atForwarder();
  spoil(c);
  const denied = expect.objectContaining({ code: Code.PERMISSION_DENIED, message: expect.stringContaining(policyName) });
  await expect(h.request(overGrpc(who), req(structuredClone(c)))).rejects.toEqual(denied);
  await expect(h.close(overGrpc(who), structuredClone(c))).rejects.toEqual(denied);
  expect(rec.requests).toHaveLength(0);
  expect(rec.closes).toHaveLength(0);
});

test('in-process and timer-driven calls (no transport peer) are not checked', async () => {
  const rec = recorder();
  const c = atForwarder();
  c.path!.pathSegments[0].token = 'garbage';
  await handler(chain(authorize(), rec.el)).request(bg(), req(c));
  expect(rec.requests).toHaveLength(1);
});

test('only the left side counts: a bad token after our index does not matter', async () => {
  const rec = recorder();
  const c = conn({ id: 'forwarder-id', path: { index: 2, pathSegments: [...f.segments(3, now), { name: 'nse', id: 'x', token: 'garbage', expires: undefined, metrics: {} }] } });
  await handler(chain(authorize(), rec.el)).request(overGrpc(), req(c));
  expect(rec.requests).toHaveLength(1);
});

test('a user policy joins by list without touching the chain', async () => {
  const noMallory = policy('no_mallory_in_path', (i) => !i.segments.some((s) => s.name === 'mallory'));
  const h = handler(authorize({ policies: [noMallory] }));
  const c = atForwarder();
  c.path!.pathSegments[0].name = 'mallory';
  await expect(h.request(overGrpc(), req(c))).rejects.toThrow(/policy no_mallory_in_path denied/);
});
