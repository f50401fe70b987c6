import { Mechanism, Param } from '@nsm/api';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { ipSwap, parseIpMap } from '../../input/ipmap';
import { bg, conn, recorder, req } from '../../testing/elements';
import { swapIp } from './index';

// Two domains behind NATs: forwarder 1 is 10.233.0.11 inside, 192.0.2.11 outside; forwarder 2 is
// 10.233.0.12 inside (an overlapping plan), 198.51.100.12 outside.
const d1 = ipSwap(parseIpMap('10.233.0.11: 192.0.2.11'));
const d2 = ipSwap(parseIpMap('10.233.0.12: 198.51.100.12'));
const vxlan = (p: Record<string, string>) => Mechanism.fromPartial({ cls: 'REMOTE', type: 'VXLAN', parameters: p });

/** Forwarder 2: what it saw, and it answers with its own internal address as dst_ip. */
function forwarder2() {
  const seen: Record<string, string>[] = [];
  const el: NetworkServiceElement = {
    async request(_ctx, r) {
      const p = { ...r.mechanismPreferences[0].parameters };
      seen.push(p);
      return { ...r.connection!, mechanism: vxlan({ ...p, [Param.dstIp]: '10.233.0.12' }) };
    },
  };
  return { seen, el };
}

test('the two forwarders meet at each other\'s external address; each keeps its own internal one', async () => {
  const f2 = forwarder2();
  const rec = recorder();
  const h = handler(chain(swapIp(d1), rec.el, swapIp(d2), f2.el));
  const out = await h.request(bg(), req(conn(), [vxlan({ [Param.srcIp]: '10.233.0.11', [Param.dstIp]: 'stale', [Param.vni]: '7' })]));
  // Between the proxies: the source's external address, its internal one kept; no stale dst.
  expect(rec.requests[0].mechanismPreferences[0].parameters).toEqual({ [Param.srcIp]: '192.0.2.11', [Param.origSrcIp]: '10.233.0.11', [Param.vni]: '7' });
  // Forwarder 2 dials forwarder 1's external address.
  expect(f2.seen[0][Param.srcIp]).toBe('192.0.2.11');
  // Forwarder 1 gets its own src_ip back and forwarder 2's external address as dst_ip.
  expect(out.mechanism!.parameters[Param.srcIp]).toBe('10.233.0.11');
  expect(out.mechanism!.parameters[Param.dstIp]).toBe('198.51.100.12');
  expect(out.mechanism!.parameters[Param.origDstIp]).toBe('10.233.0.12');
  expect(out.mechanism!.parameters[Param.origSrcIp]).toBeUndefined();
});

test('a refresh (the mechanism already chosen) crosses the same way', async () => {
  const f2 = forwarder2();
  const h = handler(chain(swapIp(d1), swapIp(d2), f2.el));
  const chosen = vxlan({ [Param.srcIp]: '10.233.0.11', [Param.dstIp]: '198.51.100.12', [Param.origDstIp]: '10.233.0.12', [Param.vni]: '7' });
  const out = await h.request(bg(), req(conn({ mechanism: chosen }), [chosen]));
  expect(f2.seen[0][Param.srcIp]).toBe('192.0.2.11');
  expect(out.mechanism!.parameters[Param.dstIp]).toBe('198.51.100.12');
  expect(out.mechanism!.parameters[Param.srcIp]).toBe('10.233.0.11');
});

test('mechanisms without addresses (kernel) pass untouched', async () => {
  const rec = recorder();
  const kernel = Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { name: 'nsm-1' } });
  await handler(chain(swapIp(d1), rec.el)).request(bg(), req(conn(), [kernel]));
  expect(rec.requests[0].mechanismPreferences[0]).toEqual(kernel);
});
