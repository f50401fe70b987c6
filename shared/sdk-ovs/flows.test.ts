import { Code } from '@nsm/sdk/core/errors';
import { crossConnectFlows, flowCookie, parseDumpFlows, vlanFlows, vlanUplinkDownFlow, vlanUplinkMemberFlow, vxlanFlows } from './flows';
import { decodeTable } from './vsctl-json';

describe('flows', () => {
  it('derives a stable 64-bit cookie per connection', () => {
    const c = flowCookie('conn-1');
    expect(c).toMatch(/^0x[0-9a-f]{16}$/);
    expect(flowCookie('conn-1')).toBe(c);
    expect(flowCookie('conn-2')).not.toBe(c);
  });

  it('builds VLAN uplink rules: tag per member, one untagging rule to all members', () => {
    expect(vlanUplinkMemberFlow(1, 5, 100, '0x3')).toBe('cookie=0x3,priority=100,in_port=5,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:1');
    expect(vlanUplinkMemberFlow(1, 5, 100, '0x3', [7, 9])).toBe('cookie=0x3,priority=100,in_port=5,actions=output:7,output:9,push_vlan:0x8100,set_field:4196->vlan_vid,output:1');
    expect(vlanUplinkDownFlow(1, [5, 7], 100, '0x4')).toBe('cookie=0x4,priority=100,in_port=1,dl_vlan=100,actions=strip_vlan,output:5,output:7');
    expect(() => vlanUplinkDownFlow(1, [], 100, '0x4')).toThrow(/at least one member/);
    expect(() => vlanUplinkMemberFlow(1, 5, 0, '0x3')).toThrow(/VLAN/);
  });

  it('builds cross-connect, VLAN and VXLAN rules', () => {
    expect(crossConnectFlows(1, 2, '0x1')).toEqual([
      'cookie=0x1,priority=100,in_port=1,actions=output:2',
      'cookie=0x1,priority=100,in_port=2,actions=output:1',
    ]);
    expect(() => crossConnectFlows(0, 2, '0x1')).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT, message: 'invalid OpenFlow port number 0' }));
    expect(vlanFlows(3, 4, 100, '0x2')).toEqual([
      'cookie=0x2,priority=100,in_port=3,dl_vlan=100,actions=strip_vlan,output:4',
      'cookie=0x2,priority=100,in_port=4,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:3',
    ]);
    expect(vxlanFlows(5, 6, 77, '0x3')).toEqual([
      'cookie=0x3,priority=100,in_port=5,actions=set_field:77->tun_id,output:6',
      'cookie=0x3,priority=100,in_port=6,tun_id=77,actions=output:5',
    ]);
    expect(() => vlanFlows(1, 2, 4095, '0x1')).toThrow(/VLAN/);
  });

  it('parses dump-flows output', () => {
    const text = [
      'OFPST_FLOW reply (OF1.3) (xid=0x2):',
      ' cookie=0x1234, duration=3.608s, table=0, n_packets=38181, n_bytes=611087576, priority=100,in_port=2 actions=output:1',
      ' cookie=0x0, duration=1s, table=0, n_packets=0, n_bytes=0, in_port=3,dl_vlan=10 actions=strip_vlan,output:4',
    ].join('\n');
    const flows = parseDumpFlows(text);
    expect(flows).toHaveLength(2);
    expect(flows[0]).toMatchObject({ cookie: '0x1234', table: 0, nPackets: 38181, nBytes: 611087576, priority: 100, match: 'in_port=2', actions: 'output:1' });
    expect(flows[1]).toMatchObject({ priority: 32768, match: 'in_port=3,dl_vlan=10', actions: 'strip_vlan,output:4' });
  });

  it('decodes ovs-vsctl JSON tables', () => {
    const rows = decodeTable(
      '{"data":[["tapb",1,"",["map",[["nsm-conn","c1"]]],["set",[]]]],"headings":["name","ofport","type","external_ids","error"]}',
    );
    expect(rows).toEqual([{ name: 'tapb', ofport: 1, type: '', external_ids: { 'nsm-conn': 'c1' }, error: undefined }]);
  });
});
