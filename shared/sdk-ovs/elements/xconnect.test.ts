// Which way the xconnect element joins two sides under each NSM_DATAPATH (no host needed).
import { Code } from '@nsm/sdk/core/errors';
import type { PortRecord } from './state';
import { choosePath } from './xconnect';

const release = async () => undefined;
const veth: PortRecord = { name: 'tapsrc-1', ofport: 0, release };
const vxlan: PortRecord = { name: 'vxlans-1', ofport: 0, release };
const trunk: PortRecord = { name: 'tapdst-t', ofport: 7, vlan: 100, release };
const uplink: PortRecord = { name: 'uplink0', ofport: 3, vlan: 200, release, crossConnect: async () => release };
const wireguard: PortRecord = { name: 'nsmwgd-1', ofport: 0, routed: {}, release };

test.each([
  ['auto', veth, veth, 'tc'],
  ['auto', veth, vxlan, 'tc'],
  ['auto', veth, trunk, 'ovs'],
  ['auto', veth, uplink, 'ovs'],
  ['auto', veth, wireguard, 'routed'],
  ['tc', veth, veth, 'tc'],
  ['tc', vxlan, veth, 'tc'],
  ['tc', wireguard, veth, 'routed'],
  ['ovs', veth, veth, 'ovs'],
  ['ovs', veth, vxlan, 'ovs'],
  ['ovs', veth, trunk, 'ovs'],
  ['ovs', wireguard, veth, 'routed'],
] as const)('NSM_DATAPATH=%s: %s and %s are joined by %s', (mode, a, b, want) => {
  expect(choosePath(mode, a, b)).toBe(want);
});

test.each([
  ['a VLAN trunk', trunk, /tapdst-t is a VLAN trunk/],
  ['the VLAN uplink', uplink, /uplink0 is a VLAN breakout uplink/],
])('NSM_DATAPATH=tc refuses %s, naming the setting', (_what, b, why) => {
  expect(() => choosePath('tc', veth, b)).toThrow(expect.objectContaining({ code: Code.FAILED_PRECONDITION, message: expect.stringMatching(why) }));
  expect(() => choosePath('tc', veth, b)).toThrow(/NSM_DATAPATH=tc/);
});
