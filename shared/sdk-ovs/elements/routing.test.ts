import { routedLines, RULE_PREF } from './routing';

test('routed cross-connect: rules by incoming interface, default to the tunnel, pod addresses on the veth with static neighbours', () => {
  const { lines, rules6 } = routedLines({ table: 1100, veth: 'tapsrc-1', tunnel: 'nsmwgd-1', podMac: '02:00:00:00:00:01', podAddrs: ['172.16.1.101/32', '2001:db8::1/128'] });
  expect(lines).toEqual([
    `rule add iif tapsrc-1 lookup 1100 pref ${RULE_PREF}`,
    `rule add iif nsmwgd-1 lookup 1100 pref ${RULE_PREF}`,
    'route replace 0.0.0.0/0 dev nsmwgd-1 table 1100',
    'route replace ::/0 dev nsmwgd-1 table 1100',
    'route replace 172.16.1.101/32 dev tapsrc-1 table 1100',
    'neigh replace 172.16.1.101 lladdr 02:00:00:00:00:01 dev tapsrc-1 nud permanent',
    'route replace 2001:db8::1/128 dev tapsrc-1 table 1100',
    'neigh replace 2001:db8::1 lladdr 02:00:00:00:00:01 dev tapsrc-1 nud permanent',
  ]);
  expect(rules6).toEqual([`rule add iif tapsrc-1 lookup 1100 pref ${RULE_PREF}`, `rule add iif nsmwgd-1 lookup 1100 pref ${RULE_PREF}`]);
});
