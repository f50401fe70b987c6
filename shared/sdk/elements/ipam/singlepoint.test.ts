import { Connection, ConnectionContext } from '@nsm/api';
import { Code } from '../../core/errors';
import { metadata } from '../../core/metadata';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, failer, req } from '../../testing/elements';
import { singlePointIpam } from './singlepoint';

function setup(prefixes: string[], exclude: string[] = []) {
  const ipam = singlePointIpam(prefixes, { exclude });
  const f = failer();
  return { ipam, f, h: handler(chain(metadata(), ipam, f.el)) };
}
const src = (c: Connection) => c.context!.ipContext!.srcIpAddrs;

describe('single-point IPAM', () => {
  test('one address per client with the prefix length, skipping the network address and exclusions', async () => {
    const s = setup(['172.16.10.0/24'], ['172.16.10.1']);
    const a = await s.h.request(bg(), req(conn({ id: 'a' })));
    const b = await s.h.request(bg(), req(conn({ id: 'b' })));
    expect(src(a)).toEqual(['172.16.10.2/24']);
    expect(src(b)).toEqual(['172.16.10.3/24']);
    expect(a.context!.ipContext!.dstIpAddrs).toEqual([]);
    expect(a.context!.ipContext!.srcRoutes).toEqual([]);
  });

  test('refresh keeps the address; Close and a failed first request give it back', async () => {
    const s = setup(['10.0.0.0/30']);
    s.f.requestFailures = 1;
    await expect(s.h.request(bg(), req(conn({ id: 'x' })))).rejects.toThrow('injected failure');
    const a = await s.h.request(bg(), req(conn({ id: 'a' })));
    expect(src(a)).toEqual(['10.0.0.1/30']);
    expect(src(await s.h.request(bg(), req(a)))).toEqual(['10.0.0.1/30']);
    expect(s.ipam.leased()).toBe(1);
    await s.h.close(bg(), a);
    expect(s.ipam.leased()).toBe(0);
  });

  test('IPv4 and IPv6 pools give one address each; an exhausted pool is RESOURCE_EXHAUSTED', async () => {
    const s = setup(['10.0.0.0/30', 'fd00::/126']);
    const a = await s.h.request(bg(), req(conn({ id: 'a' })));
    expect(src(a)).toEqual(['10.0.0.1/30', 'fd00::1/126']);
    await s.h.request(bg(), req(conn({ id: 'b' })));
    const err = await s.h.request(bg(), req(conn({ id: 'c' }))).catch((e) => e);
    expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(err.message).toMatch(/10\.0\.0\.0\/30 is exhausted/);
  });

  test("the request's excluded prefixes are never handed out, and an address that became excluded is replaced", async () => {
    const s = setup(['172.16.10.0/24'], ['172.16.10.1']);
    const ask = (id: string, excluded: string[], c = conn({ id })) => {
      const x = structuredClone(c);
      x.context = ConnectionContext.fromPartial({ ...x.context, ipContext: { ...x.context?.ipContext, excludedPrefixes: excluded } });
      return s.h.request(bg(), req(x));
    };
    const a = await ask('a', ['172.16.10.0/30']);
    expect(src(a)).toEqual(['172.16.10.4/24']);
    const a2 = await ask('a', ['172.16.10.0/29'], a);
    expect(src(a2)).toEqual(['172.16.10.8/24']);
    expect(s.ipam.leased()).toBe(1);
  });
});
