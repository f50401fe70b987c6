import { crossConnectFlows, flowCookie, vlanFlows, vlanUplinkDownFlow, vlanUplinkMemberFlow, vxlanFlows } from '../flows';
import { crossConnectSpecs, formatFlowText, parseFlowFilter, parseFlowText, vlanSpecs, vlanUplinkDownSpec, vlanUplinkMemberSpec, vxlanSpecs } from './flowspec';

const cookie = flowCookie('conn-1');
const specOf = (line: string) => {
  const l = parseFlowText(line);
  if (l.kind !== 'add') throw new Error('not an add');
  return l.spec;
};

test("every rule flows.ts writes reads back as the builder's FlowSpec", () => {
  const pairs: [string[], ReturnType<typeof crossConnectSpecs>][] = [
    [crossConnectFlows(3, 4, cookie), crossConnectSpecs(3, 4, cookie)],
    [crossConnectFlows(3, 4, cookie, 200), crossConnectSpecs(3, 4, cookie, 200)],
    [vlanFlows(5, 6, 100, cookie), vlanSpecs(5, 6, 100, cookie)],
    [vlanFlows(5, 6, 4094, cookie), vlanSpecs(5, 6, 4094, cookie)],
    [[vlanUplinkMemberFlow(9, 10, 7, cookie, [11, 12])], [vlanUplinkMemberSpec(9, 10, 7, cookie, [11, 12])]],
    [[vlanUplinkMemberFlow(9, 10, 7, cookie)], [vlanUplinkMemberSpec(9, 10, 7, cookie)]],
    [[vlanUplinkDownFlow(9, [10, 11], 7, cookie)], [vlanUplinkDownSpec(9, [10, 11], 7, cookie)]],
    [vxlanFlows(1, 2, 4242, cookie), vxlanSpecs(1, 2, 4242, cookie)],
  ];
  for (const [text, specs] of pairs) {
    expect(text.map(specOf)).toEqual(specs);
    // And printed again, they read the same.
    expect(specs.map(formatFlowText).map(specOf)).toEqual(specs);
  }
});

test('the rule text the parser accepts maps to the right values', () => {
  expect(specOf('cookie=0x7,priority=1,actions=drop')).toEqual({ cookie: 7n, priority: 1, match: {}, actions: [] });
  expect(specOf('priority=100,in_port=5,dl_vlan=100,actions=strip_vlan,output:6')).toEqual({
    cookie: 0n,
    priority: 100,
    match: { inPort: 5, vlan: 100 },
    actions: [{ type: 'pop_vlan' }, { type: 'output', port: 6 }],
  });
  expect(specOf('cookie=0x1,table=3,priority=5,tun_id=0x1092,actions=set_field:4196->vlan_vid,set_field:7->tun_id')).toMatchObject({
    table: 3,
    match: { tunId: 0x1092n },
    actions: [{ type: 'set_vlan', vlan: 100 }, { type: 'set_tun_id', tunId: 7n }],
  });
  expect(parseFlowText('delete cookie=0xab/-1')).toEqual({ kind: 'delete', filter: { cookie: 0xabn, cookieMask: (1n << 64n) - 1n } });
});

test('anything outside the supported subset is refused, naming what', () => {
  expect(() => parseFlowText('in_port=1,nw_src=10.0.0.1,actions=output:2')).toThrow(/field "nw_src" is not supported/);
  expect(() => parseFlowText('in_port=1,actions=controller')).toThrow(/action "controller" is not supported/);
  expect(() => parseFlowText('in_port=1,actions=output:2\nin_port=2,actions=output:1')).toThrow(/newline/);
  expect(() => parseFlowText('in_port=1,actions=push_vlan:0x8100,set_field:100->vlan_vid')).toThrow(/present/);
  expect(() => parseFlowText('in_port=0,actions=output:2')).toThrow(/in_port port 0/);
  expect(() => parseFlowText('in_port=1,actions=output:65280')).toThrow(/output port 65280/);
  expect(() => parseFlowText('in_port=1,dl_vlan=4095,actions=output:2')).toThrow(/VLAN id 4095/);
  expect(() => parseFlowText('cookie=0x1/-1,in_port=1,actions=output:2')).toThrow(/cookie mask only selects/);
  expect(() => parseFlowText('in_port=1')).toThrow(/no actions=/);
  expect(() => parseFlowText('in_port=1;rm -rf /,actions=output:2')).toThrow(/not a number/);
  expect(() => parseFlowText('cookie=0x10000000000000000,actions=drop')).toThrow(/not a number|too large/);
  expect(() => vlanSpecs(1, 2, 0, cookie)).toThrow(/VLAN id 0/);
  expect(() => crossConnectSpecs(1, 2, 'not-a-cookie')).toThrow(/invalid cookie/);
});

test('del-flows matches', () => {
  expect(parseFlowFilter('')).toEqual({});
  expect(parseFlowFilter('cookie=0x1')).toEqual({ cookie: 1n, cookieMask: (1n << 64n) - 1n });
  expect(parseFlowFilter('cookie=0x100/0xff00')).toEqual({ cookie: 0x100n, cookieMask: 0xff00n });
  expect(parseFlowFilter('in_port=3,dl_vlan=5')).toEqual({ match: { inPort: 3, vlan: 5 } });
  expect(() => parseFlowFilter('priority=3')).toThrow(/strict/);
});
