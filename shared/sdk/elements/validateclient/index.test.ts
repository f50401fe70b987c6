import { Code } from '../../core/errors';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, onReturn, recorder, req } from '../../testing/elements';
import { validateClient } from './index';

describe('validateclient', () => {
  // The next hop: answers with what `answer` makes of the connection, and records the Close it gets.
  const hop = (answer: (c: ReturnType<typeof conn>) => void) => {
    const rec = recorder();
    return { rec, h: handler(chain(validateClient(), rec.el, onReturn(answer))) };
  };

  test('a well-formed reply passes unchanged', async () => {
    const { h, rec } = hop((c) => (c.mechanism = { cls: 'LOCAL', type: 'KERNEL', parameters: { name: 'icmp-respo-1', inodeURL: 'file:///proc/77/ns/net' } }));
    const out = await h.request(bg(), req(conn({ id: 'a' })));
    expect(out.mechanism?.parameters.name).toBe('icmp-respo-1');
    expect(rec.closes).toHaveLength(0);
  });

  test.each([
    ['an interface name with a newline', (c: ReturnType<typeof conn>) => (c.mechanism = { cls: 'LOCAL', type: 'KERNEL', parameters: { name: 'x\nlink del eth0' } }), Code.INVALID_ARGUMENT, /^the reply of the next hop is refused: connection\.mechanism\.parameters\["name"\]/],
    ['a tunnel address with a command', (c: ReturnType<typeof conn>) => (c.mechanism = { cls: 'REMOTE', type: 'VXLAN', parameters: { dst_ip: '10.0.0.1 dev eth0' } }), Code.INVALID_ARGUMENT, /parameters\["dst_ip"\]: "10\.0\.0\.1 dev eth0" is not an IP address/],
    ['a WireGuard key with a UAPI line', (c: ReturnType<typeof conn>) => (c.mechanism = { cls: 'REMOTE', type: 'WIREGUARD', parameters: { dst_public_key: 'k\nlisten_port=1' } }), Code.INVALID_ARGUMENT, /dst_public_key/],
    ['a route to program into the pod that is not one', (c: ReturnType<typeof conn>) => (c.context = { ipContext: { srcIpAddrs: [], dstIpAddrs: [], srcIpRequired: false, dstIpRequired: false, srcRoutes: [{ prefix: 'default; reboot', nextHop: '' }], dstRoutes: [], excludedPrefixes: [], ipNeighbors: [], extraPrefixRequest: [], extraPrefixes: [], policies: [] }, dnsContext: undefined, ethernetContext: undefined, extraContext: {}, MTU: 0 }), Code.INVALID_ARGUMENT, /context\.ip_context\.src_routes\[0\]\.prefix/],
    ['a thousand labels', (c: ReturnType<typeof conn>) => (c.labels = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, 'v']))), Code.RESOURCE_EXHAUSTED, /connection\.labels: 1000 entries/],
  ])('%s: refused, and closed downstream again', async (_n, answer, code, message) => {
    const { h, rec } = hop(answer);
    await expect(h.request(bg(), req(conn({ id: 'a' })))).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    expect(rec.closes).toHaveLength(1);
    expect(rec.closes[0].id).toBe('a');
  });
});
