import { Connection, TokenExpiresMetadataKey, TokenMetadataKey } from '@nsm/api';
import { FakeClock } from '../../core/clock';
import { fromTimestamp } from '../../core/conn';
import { Code } from '../../core/errors';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, recorder, req, seg } from '../../testing/elements';
import { decodeToken, formatExpires, jwtTokenGenerator, PeerInfo } from '../../token';
import { incomingMetadataKey, peerKey } from '../../grpc/keys';
import { updateToken } from './index';

const clock = new FakeClock();
const now = clock.now();
const gen = jwtTokenGenerator({ subject: 'spiffe://me', lifetimeMs: 60_000, clock });
const twoHops = () => conn({ id: 'B', path: { index: 1, pathSegments: [seg('nsc', 'A', 1, 'old'), seg('me', 'B')] } });

describe('updatetoken', () => {
  test('the caller token from metadata goes to the previous segment; our own token to ours', async () => {
    const ctx = bg().with(incomingMetadataKey, { [TokenMetadataKey]: 'caller-token', [TokenExpiresMetadataKey]: formatExpires(now + 30_000) });
    const rec = recorder();
    await handler(chain(updateToken(gen), rec.el)).request(ctx, req(twoHops()));
    const [prev, own] = rec.requests[0].connection!.path!.pathSegments;
    expect(prev.token).toBe('caller-token');
    expect(fromTimestamp(prev.expires)).toBe(now + 30_000);
    expect(decodeToken(own.token)?.sub).toBe('spiffe://me');
    expect(fromTimestamp(own.expires)).toBe(now + 60_000);
  });

  test.each([
    ['no metadata', undefined],
    ['token without expiry', { [TokenMetadataKey]: 't' }],
    ['unparsable expiry', { [TokenMetadataKey]: 't', [TokenExpiresMetadataKey]: 'tomorrow' }],
  ] as [string, Record<string, string> | undefined][])('%s: the previous segment keeps what it had', async (_n, md) => {
    const ctx = md ? bg().with(incomingMetadataKey, md) : bg();
    const rec = recorder();
    await handler(chain(updateToken(gen), rec.el)).request(ctx, req(twoHops()));
    expect(rec.requests[0].connection!.path!.pathSegments[0]).toMatchObject({ token: 'old', expires: { seconds: 0, nanos: 1e6 } });
  });

  test('at index 0 only the own segment is stamped, and the peer is passed to the generator', async () => {
    const peers: (PeerInfo | undefined)[] = [];
    const g = (p?: PeerInfo) => (peers.push(p), { token: 'own', expires: now + 1000 });
    const ctx = bg().with(peerKey, { id: 'spiffe://peer' }).with(incomingMetadataKey, { [TokenMetadataKey]: 'x', [TokenExpiresMetadataKey]: formatExpires(now) });
    const out: Connection = await handler(updateToken(g)).request(ctx, req(conn({ id: 'A', path: { index: 0, pathSegments: [seg('me', 'A')] } })));
    expect(out.path!.pathSegments).toHaveLength(1);
    expect(out.path!.pathSegments[0].token).toBe('own');
    expect(peers).toEqual([{ id: 'spiffe://peer' }]);
  });

  test('Close stamps too; an index out of range is INVALID_ARGUMENT', async () => {
    const rec = recorder();
    const h = handler(chain(updateToken(gen), rec.el));
    await h.close(bg(), twoHops());
    expect(rec.closes[0].path!.pathSegments[1].token).not.toBe('');
    await expect(h.request(bg(), req(conn({ path: { index: 2, pathSegments: [seg('a', 'A')] } })))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(h.request(bg(), req(conn()))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });
});
