import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { FakeClock } from '../../core/clock';
import { toTimestamp } from '../../core/conn';
import { Code, StatusError, unavailable } from '../../core/errors';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { bg, conn, fakeRegistry, req } from '../../testing/elements';
import { clientUrl, clientUrlKey } from '../clienturl';
import { discover } from './index';

const nse = (name: string, labels: Record<string, string> = {}, expires?: number) =>
  NetworkServiceEndpoint.fromPartial({ name, url: `tcp://${name}:1`, networkServiceNames: ['svc'], networkServiceLabels: { svc: { labels } }, expirationTime: expires === undefined ? undefined : toTimestamp(expires) });

/** The "next hop": records URL and NSE name per attempt, failing for URLs in `down`. */
function target(down: Set<string> = new Set()) {
  const calls: { url?: string; nse: string }[] = [];
  const closes: (string | undefined)[] = [];
  const el: NetworkServiceElement = {
    async request(ctx, r) {
      const url = ctx.get(clientUrlKey);
      calls.push({ url, nse: r.connection!.networkServiceEndpointName });
      if (url && down.has(url)) throw unavailable(`${url} is down`);
      return r.connection!;
    },
    async close(ctx) {
      closes.push(ctx.get(clientUrlKey));
    },
  };
  return { el, calls, closes };
}

function setup(nses: NetworkServiceEndpoint[], service: Partial<NetworkService> = {}, down?: Set<string>) {
  const clock = new FakeClock(0);
  const t = target(down);
  const d = discover({ ns: fakeRegistry([NetworkService.fromPartial({ name: 'svc', ...service })]), nse: fakeRegistry(nses), clock });
  return { t, h: handler(chain(d, t.el)), clock };
}

describe('discover + round robin', () => {
  test('candidates are tried round robin across requests, with the NSE name and URL set', async () => {
    const s = setup([nse('a'), nse('b'), nse('c')]);
    for (let i = 0; i < 4; i++) await s.h.request(bg(), req(conn({ id: `${i}` })));
    expect(s.t.calls).toEqual(['a', 'b', 'c', 'a'].map((n) => ({ url: `tcp://${n}:1`, nse: n })));
  });

  test('a failing candidate is skipped; the counter still advances', async () => {
    const s = setup([nse('a'), nse('b'), nse('c')], {}, new Set(['tcp://a:1']));
    const out = await s.h.request(bg(), req(conn({ id: '1' })));
    expect(out.networkServiceEndpointName).toBe('b');
    await s.h.request(bg(), req(conn({ id: '2' })));
    expect(s.t.calls.map((c) => c.nse)).toEqual(['a', 'b', 'c']);
  });

  test('all failing: one error naming each; a single candidate keeps its own error', async () => {
    const s = setup([nse('a'), nse('b')], {}, new Set(['tcp://a:1', 'tcp://b:1']));
    await expect(s.h.request(bg(), req(conn({ id: '1' })))).rejects.toMatchObject({
      code: Code.UNAVAILABLE,
      message: expect.stringMatching(/all endpoints failed: .*a: .*; b: /),
    });
    const one = setup([nse('a')], {}, new Set(['tcp://a:1']));
    await expect(one.h.request(bg(), req(conn({ id: '1' })))).rejects.toThrow('tcp://a:1 is down');
  });

  test('a named endpoint is used directly, without matching', async () => {
    const s = setup([nse('a'), nse('b')], { matches: [{ sourceSelector: { x: 'never' }, routes: [], fallthrough: false, metadata: undefined }] });
    await s.h.request(bg(), req(conn({ id: '1', networkServiceEndpointName: 'b' })));
    expect(s.t.calls).toEqual([{ url: 'tcp://b:1', nse: 'b' }]);
    await expect(s.h.request(bg(), req(conn({ id: '2', networkServiceEndpointName: 'zz' })))).rejects.toMatchObject({ code: Code.NOT_FOUND, message: expect.stringMatching(/"zz" is not found/) });
  });

  test('a named endpoint (a retried Request) gets the service\'s payload when it carries none', async () => {
    const s = setup([nse('a')], { payload: 'IP' });
    const out = await s.h.request(bg(), req(conn({ id: '1', networkServiceEndpointName: 'a', payload: '' })));
    expect(out.payload).toBe('IP');
    const kept = await s.h.request(bg(), req(conn({ id: '2', networkServiceEndpointName: 'a', payload: 'ETHERNET' })));
    expect(kept.payload).toBe('ETHERNET');
  });

  test('matching rules, expiry and payload', async () => {
    const s = setup([nse('a', { app: 'x' }), nse('b', { app: 'y' }), nse('old', { app: 'y' }, 0)], {
      payload: 'ETHERNET',
      matches: [{ sourceSelector: {}, routes: [{ destinationSelector: { app: 'y' }, weight: 0 }], fallthrough: false, metadata: undefined }],
    });
    const out = await s.h.request(bg(), req(conn({ id: '1' })));
    expect(out).toMatchObject({ networkServiceEndpointName: 'b', payload: 'ETHERNET' });
  });

  test.each([
    ['unknown network service', [nse('a')], 'other', /network service "other" is not found/],
    ['no endpoints', [], 'svc', /no network service endpoint matches network service "svc" for labels \{\} \(0 registered\)/],
  ] as [string, NetworkServiceEndpoint[], string, RegExp][])('NOT_FOUND: %s', async (_n, nses, service, msg) => {
    const s = setup(nses);
    await expect(s.h.request(bg(), req(conn({ id: '1', networkService: service })))).rejects.toMatchObject({ code: Code.NOT_FOUND, message: expect.stringMatching(msg) });
  });

  test('a client URL already in the context wins', async () => {
    const s = setup([nse('a')]);
    const h = handler(chain(clientUrl('unix:///fixed.sock'), discover({ ns: fakeRegistry<NetworkService>([]), nse: fakeRegistry<NetworkServiceEndpoint>([]) }), s.t.el));
    await h.request(bg(), req(conn({ id: '1' })));
    expect(s.t.calls).toEqual([{ url: 'unix:///fixed.sock', nse: '' }]);
  });

  test('Close goes to the named endpoint; without a name it is INVALID_ARGUMENT; an unknown one closes with no URL', async () => {
    const s = setup([nse('a')]);
    await s.h.close(bg(), conn({ id: '1', networkServiceEndpointName: 'a' }));
    await s.h.close(bg(), conn({ id: '1', networkServiceEndpointName: 'gone' }));
    expect(s.t.closes).toEqual(['tcp://a:1', undefined]);
    await expect(s.h.close(bg(), conn({ id: '1' }))).rejects.toBeInstanceOf(StatusError);
    await expect(s.h.close(bg(), conn({ id: '1' }))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });
});
