import { Connection, ConnectionContext, IPContext } from '@nsm/api';
import { Code } from '../../core/errors';
import { metadata } from '../../core/metadata';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, failer, req, seg, tokenOf } from '../../testing/elements';
import { point2pointIpam } from './point2point';

function setup(...prefixes: string[]) {
  const ipam = point2pointIpam(prefixes);
  const f = failer();
  const h = handler(chain(metadata(), ipam, f.el));
  return { ipam, f, h };
}
const ip = (c: Connection): IPContext => c.context!.ipContext!;
const pair = (c: Connection) => ({ src: ip(c).srcIpAddrs, dst: ip(c).dstIpAddrs });
const withExcluded = (c: Connection, excluded: string[]): Connection => {
  const x = structuredClone(c);
  x.context ??= ConnectionContext.fromPartial({});
  x.context.ipContext ??= IPContext.fromPartial({});
  x.context.ipContext.excludedPrefixes = excluded;
  return x;
};

describe('point2point IPAM', () => {
  test('the lower address is the endpoint side (dst), the next the client side (src), with routes to each other', async () => {
    const s = setup('169.254.0.0/16');
    const a = await s.h.request(bg(), req(conn({ id: 'a' })));
    expect(ip(a)).toMatchObject({
      dstIpAddrs: ['169.254.0.0/32'],
      srcIpAddrs: ['169.254.0.1/32'],
      srcRoutes: [{ prefix: '169.254.0.0/32' }],
      dstRoutes: [{ prefix: '169.254.0.1/32' }],
    });
    const b = await s.h.request(bg(), req(conn({ id: 'b' })));
    expect(pair(b)).toEqual({ dst: ['169.254.0.2/32'], src: ['169.254.0.3/32'] });
    expect(s.ipam.leased()).toBe(2);
  });

  test('a refresh keeps the pair without duplicating entries', async () => {
    const s = setup('10.0.0.0/24');
    const a = await s.h.request(bg(), req(conn({ id: 'a' })));
    const again = await s.h.request(bg(), req(structuredClone(a)));
    expect(ip(again)).toEqual(ip(a));
    const fresh = await s.h.request(bg(), req(conn({ id: 'a' })));
    expect(pair(fresh)).toEqual(pair(a));
    expect(s.ipam.leased()).toBe(1);
  });

  test('Close returns the pair to the pool', async () => {
    const s = setup('10.0.0.0/24');
    const a = await s.h.request(bg(), req(conn({ id: 'a' })));
    await s.h.request(bg(), req(conn({ id: 'b' })));
    await s.h.close(bg(), a);
    expect(s.ipam.leased()).toBe(1);
    const c = await s.h.request(bg(), req(conn({ id: 'c' })));
    expect(pair(c)).toEqual({ dst: ['10.0.0.0/32'], src: ['10.0.0.1/32'] });
  });

  test('excluded prefixes are skipped on allocation', async () => {
    const s = setup('10.0.0.0/24');
    const a = await s.h.request(bg(), req(withExcluded(conn({ id: 'a' }), ['10.0.0.0/31', '10.0.0.3/32'])));
    expect(pair(a)).toEqual({ dst: ['10.0.0.2/32'], src: ['10.0.0.4/32'] });
  });

  test('an address that became excluded is replaced on refresh, old entries removed', async () => {
    const s = setup('10.0.0.0/24');
    const a = await s.h.request(bg(), req(conn({ id: 'a' })));
    const r = await s.h.request(bg(), req(withExcluded(a, ['10.0.0.1/32'])));
    expect(ip(r)).toMatchObject({
      dstIpAddrs: ['10.0.0.0/32'],
      srcIpAddrs: ['10.0.0.2/32'],
      srcRoutes: [{ prefix: '10.0.0.0/32' }],
      dstRoutes: [{ prefix: '10.0.0.2/32' }],
    });
    expect(s.ipam.leased()).toBe(1);
  });

  test('exhaustion is RESOURCE_EXHAUSTED and leaks nothing', async () => {
    const s = setup('10.0.0.0/31');
    const a = await s.h.request(bg(), req(conn({ id: 'a' })));
    await expect(s.h.request(bg(), req(conn({ id: 'b' })))).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED, message: expect.stringMatching(/10\.0\.0\.0\/31 is exhausted/) });
    await s.h.close(bg(), a);
    await s.h.request(bg(), req(conn({ id: 'b' })));
  });

  test('the first pool with room wins', async () => {
    const s = setup('10.0.0.0/31', '10.1.0.0/30');
    await s.h.request(bg(), req(conn({ id: 'a' })));
    expect(pair(await s.h.request(bg(), req(conn({ id: 'b' }))))).toEqual({ dst: ['10.1.0.0/32'], src: ['10.1.0.1/32'] });
  });

  test('IPv6 gets /128 host prefixes; dual stack gets one pair per family', async () => {
    const v6 = setup('fd00::/64');
    expect(pair(await v6.h.request(bg(), req(conn({ id: 'a' }))))).toEqual({ dst: ['fd00::/128'], src: ['fd00::1/128'] });
    const dual = setup('fd00::/126', '10.0.0.0/30');
    expect(pair(await dual.h.request(bg(), req(conn({ id: 'a' }))))).toEqual({ dst: ['10.0.0.0/32', 'fd00::/128'], src: ['10.0.0.1/32', 'fd00::1/128'] });
    // One family exhausted: the other family's pair is given back as well.
    await dual.h.request(bg(), req(conn({ id: 'b' })));
    expect(dual.ipam.leased()).toBe(4);
    await expect(dual.h.request(bg(), req(conn({ id: 'c' })))).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
    expect(dual.ipam.leased()).toBe(4);
  });

  test('a failed first request gives its pair back; a failed refresh keeps it', async () => {
    const s = setup('10.0.0.0/24');
    s.f.requestFailures = 1;
    await expect(s.h.request(bg(), req(conn({ id: 'a' })))).rejects.toThrow();
    expect(s.ipam.leased()).toBe(0);
    const b = await s.h.request(bg(), req(conn({ id: 'b' })));
    expect(pair(b).dst).toEqual(['10.0.0.0/32']);
    s.f.requestFailures = 1;
    await expect(s.h.request(bg(), req(b))).rejects.toThrow();
    expect(s.ipam.leased()).toBe(1);
    expect(pair(await s.h.request(bg(), req(b)))).toEqual(pair(b));
  });

  test('the same client connection along a new path takes its pair over; the Close of the earlier path leaves it alone', async () => {
    const s = setup('172.16.1.0/31');
    // Our segment is the last; the first is the client's, signed by its identity.
    const via = (ourId: string, clientId = 'nsc-0', sub = 'spiffe://nsm.local/ns/default/pod/nsc') =>
      conn({ id: ourId, path: { index: 1, pathSegments: [seg('nsc', clientId, undefined, tokenOf(sub)), seg('nse', ourId)] } });
    const first = await s.h.request(bg(), req(via('e1')));
    // The path died with a hop in it: its Close never came. A retry (new ids behind the client) gets the pair.
    const again = await s.h.request(bg(), req(via('e2')));
    expect(pair(again)).toEqual(pair(first));
    expect(s.ipam.leased()).toBe(1);
    // Another client connection, or the same id claimed by another identity, does not.
    await expect(s.h.request(bg(), req(via('e3', 'nsc-1')))).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
    await expect(s.h.request(bg(), req(via('e4', 'nsc-0', 'spiffe://nsm.local/ns/default/pod/intruder')))).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
    // The earlier path expires (Close): the pair stays with the new one.
    await s.h.close(bg(), via('e1'));
    expect(s.ipam.leased()).toBe(1);
    await expect(s.h.request(bg(), req(via('e3', 'nsc-1')))).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
    // The new path's Close gives it back.
    await s.h.close(bg(), via('e2'));
    expect(s.ipam.leased()).toBe(0);
    const other = await s.h.request(bg(), req(via('e3', 'nsc-1')));
    expect(pair(other)).toEqual(pair(first));
  });

  test('construction needs valid prefixes', () => {
    expect(() => point2pointIpam([])).toThrow(/one or more prefixes/);
    expect(() => point2pointIpam(['10.0.0.0'])).toThrow(/not a CIDR prefix/);
  });

  test('a wide excluded prefix over the pool is stepped over at once', async () => {
    const s = setup('10.0.0.0/8');
    const t0 = Date.now();
    const a = await s.h.request(bg(), req(withExcluded(conn({ id: 'a' }), ['10.0.0.0/9', '10.128.0.0/10', 'bogus'])));
    expect(pair(a)).toEqual({ dst: ['10.192.0.0/32'], src: ['10.192.0.1/32'] });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
