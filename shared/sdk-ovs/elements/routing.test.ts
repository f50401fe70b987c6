import { routedChanges, RULE_PREF } from './routing';

test('routed cross-connect: rules by incoming interface (both families), default to the tunnel, pod addresses on the veth with static neighbours', () => {
  const c = routedChanges({ table: 1100, veth: 'tapsrc-1', tunnel: 'nsmwgd-1', podMac: '02:00:00:00:00:01', podAddrs: ['172.16.1.101/32', '2001:db8::1/128'] });
  expect(c.rules).toEqual([
    { family: 4, iif: 'tapsrc-1', table: 1100, pref: RULE_PREF },
    { family: 4, iif: 'nsmwgd-1', table: 1100, pref: RULE_PREF },
    { family: 6, iif: 'tapsrc-1', table: 1100, pref: RULE_PREF },
    { family: 6, iif: 'nsmwgd-1', table: 1100, pref: RULE_PREF },
  ]);
  expect(c.routes).toEqual([
    { dst: '0.0.0.0/0', dev: 'nsmwgd-1', table: 1100 },
    { dst: '::/0', dev: 'nsmwgd-1', table: 1100 },
    { dst: '172.16.1.101/32', dev: 'tapsrc-1', table: 1100 },
    { dst: '2001:db8::1/128', dev: 'tapsrc-1', table: 1100 },
  ]);
  expect(c.neighbors).toEqual([
    { dev: 'tapsrc-1', ip: '172.16.1.101', mac: '02:00:00:00:00:01', state: 'permanent' },
    { dev: 'tapsrc-1', ip: '2001:db8::1', mac: '02:00:00:00:00:01', state: 'permanent' },
  ]);
});
