import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { FakeClock } from '../../core/clock';
import { toTimestamp } from '../../core/conn';
import { Code, unavailable } from '../../core/errors';
import { metadata } from '../../core/metadata';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { bg, conn, fakeRegistry, req, seg } from '../../testing/elements';
import { clientUrlKey } from '../clienturl';
import { discoverForwarder } from './index';

const fwd = (name: string, labels: Record<string, string> | null = { p2p: 'true' }, expiresMs?: number) =>
  NetworkServiceEndpoint.fromPartial({
    name,
    url: `unix:///${name}.sock`,
    networkServiceNames: ['forwarder'],
    networkServiceLabels: labels ? { forwarder: { labels } } : {},
    expirationTime: expiresMs === undefined ? undefined : toTimestamp(expiresMs),
  });

function setup(forwarders: NetworkServiceEndpoint[], service: Partial<NetworkService> = {}) {
  const clock = new FakeClock(100_000);
  const down = new Set<string>();
  const calls: (string | undefined)[] = [];
  const closes: (string | undefined)[] = [];
  const next: NetworkServiceElement = {
    async request(ctx, r) {
      const url = ctx.get(clientUrlKey);
      calls.push(url);
      if (url && down.has(url)) throw unavailable(`${url} refused`);
      return r.connection!;
    },
    async close(ctx) {
      closes.push(ctx.get(clientUrlKey));
    },
  };
  const el = discoverForwarder({ ns: fakeRegistry([NetworkService.fromPartial({ name: 'svc', ...service })]), localNse: fakeRegistry(forwarders), clock });
  return { h: handler(chain(metadata(), el, next)), calls, closes, down, forwarders, clock };
}

describe('discoverforwarder', () => {
  test('tries candidates in order, sticks to the one that worked for refresh and Close', async () => {
    const s = setup([fwd('f1'), fwd('f2')]);
    s.down.add('unix:///f1.sock');
    const c = conn({ id: 'x' });
    await s.h.request(bg(), req(c));
    s.down.clear();
    await s.h.request(bg(), req(c));
    await s.h.close(bg(), c);
    expect(s.calls).toEqual(['unix:///f1.sock', 'unix:///f2.sock', 'unix:///f2.sock']);
    expect(s.closes).toEqual(['unix:///f2.sock']);
  });

  test('a vanished forwarder fails the refresh UNAVAILABLE and the next Request chooses again', async () => {
    const s = setup([fwd('f1'), fwd('f2')]);
    const c = conn({ id: 'x' });
    await s.h.request(bg(), req(c));
    s.forwarders.splice(0, 1);
    await expect(s.h.request(bg(), req(c))).rejects.toMatchObject({ code: Code.UNAVAILABLE, message: expect.stringMatching(/forwarder "f1" is gone/) });
    await s.h.request(bg(), req(c));
    expect(s.calls).toEqual(['unix:///f1.sock', 'unix:///f2.sock']);
  });

  test('selection follows the network service\'s match metadata (default p2p=true)', async () => {
    const list = [fwd('none', null), fwd('plain'), fwd('vpp', { p2p: 'true', kind: 'vpp' })];
    const dflt = setup(list, { matches: [{ sourceSelector: {}, routes: [], fallthrough: false, metadata: undefined }] });
    await dflt.h.request(bg(), req(conn({ id: 'x' })));
    expect(dflt.calls).toEqual(['unix:///plain.sock']);
    const vpp = setup(list, { matches: [{ sourceSelector: {}, routes: [], fallthrough: false, metadata: { labels: { kind: 'vpp' } } }] });
    await vpp.h.request(bg(), req(conn({ id: 'x' })));
    expect(vpp.calls).toEqual(['unix:///vpp.sock']);
    const any = setup(list);
    await any.h.request(bg(), req(conn({ id: 'x' })));
    expect(any.calls).toEqual(['unix:///none.sock']);
  });

  test.each([
    ['no forwarder registered', [], /no forwarder found for network service "svc" \(0 registered/],
    ['only expired forwarders', [fwd('old', { p2p: 'true' }, 50_000)], /no forwarder found .*\(0 registered/],
  ] as [string, NetworkServiceEndpoint[], RegExp][])('UNAVAILABLE: %s', async (_n, list, msg) => {
    const s = setup(list);
    await expect(s.h.request(bg(), req(conn({ id: 'x' })))).rejects.toMatchObject({ code: Code.UNAVAILABLE, message: expect.stringMatching(msg) });
  });

  test('all candidates failing gives one error naming each; a sole candidate keeps its own', async () => {
    const s = setup([fwd('f1'), fwd('f2')]);
    s.down.add('unix:///f1.sock').add('unix:///f2.sock');
    await expect(s.h.request(bg(), req(conn({ id: 'x' })))).rejects.toMatchObject({ message: expect.stringMatching(/all forwarders failed: f1: .*; f2: /) });
    const one = setup([fwd('f1')]);
    one.down.add('unix:///f1.sock');
    await expect(one.h.request(bg(), req(conn({ id: 'x' })))).rejects.toThrow('unix:///f1.sock refused');
  });

  test('an unknown network service is NOT_FOUND', async () => {
    const s = setup([fwd('f1')]);
    await expect(s.h.request(bg(), req(conn({ id: 'x', networkService: 'nope' })))).rejects.toMatchObject({ code: Code.NOT_FOUND });
  });

  test('Close without a chosen forwarder or a forwarder in the path is not passed on', async () => {
    const s = setup([fwd('f1')]);
    await s.h.close(bg(), conn({ id: 'never' }));
    expect(s.closes).toEqual([]);
  });

  test('Close after an nsmgr restart (no record) goes to the forwarder its path names', async () => {
    const s = setup([fwd('f1'), fwd('f2')]);
    const path = { index: 1, pathSegments: [seg('nsc', 'a'), seg('nsmgr', 'b'), seg('f2', 'c'), seg('nse', 'd')] };
    await s.h.close(bg(), conn({ id: 'b', path }));
    expect(s.closes).toEqual(['unix:///f2.sock']);
  });
});
