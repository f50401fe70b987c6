import { execFileSync } from 'node:child_process';
import { crossConnectSpecs, formatActions, formatMatch, vlanSpecs, vxlanSpecs } from './flowspec';
import { decodeActions, decodeError, decodeFlowStatsReply, decodeMatch, encodeActions, encodeFlowMod, encodeFlowStatsRequest, encodeMatch, flowModOf, hello, helloVersions, message, T } from './wire';

const ofctl = (() => {
  try {
    execFileSync('ovs-ofctl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const print = (b: Buffer) => execFileSync('ovs-ofctl', ['ofp-print', b.toString('hex')], { encoding: 'utf8' }).trim();
const withOfctl = ofctl ? test : test.skip;

withOfctl("OVS's own decoder reads our messages as the rules ovs-ofctl would send", () => {
  const [tag, untag] = [...vlanSpecs(5, 6, 100, '0x1')].reverse();
  expect(print(encodeFlowMod(7, flowModOf(tag)))).toBe('OFPT_FLOW_MOD (OF1.3) (xid=0x7): ADD priority=100,in_port=6 cookie:0x1 actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:5');
  expect(print(encodeFlowMod(8, flowModOf(untag)))).toBe('OFPT_FLOW_MOD (OF1.3) (xid=0x8): ADD priority=100,in_port=5,dl_vlan=100 cookie:0x1 actions=pop_vlan,output:6');
  const [, fromTunnel] = vxlanSpecs(1, 2, 4242, '0xabc', 200);
  expect(print(encodeFlowMod(9, flowModOf(fromTunnel)))).toBe('OFPT_FLOW_MOD (OF1.3) (xid=0x9): ADD priority=200,tun_id=0x1092,in_port=2 cookie:0xabc actions=output:1');
  expect(print(encodeFlowMod(10, { command: 'delete', cookie: 0x1n, cookieMask: (1n << 64n) - 1n }))).toBe('OFPT_FLOW_MOD (OF1.3) (xid=0xa): DEL table:255 cookie:0x1/0xffffffffffffffff actions=drop');
  expect(print(encodeFlowMod(11, { command: 'delete_strict', priority: 100, table: 0, match: { inPort: 3 } }))).toBe('OFPT_FLOW_MOD (OF1.3) (xid=0xb): DEL_STRICT priority=100,in_port=3 actions=drop');
  expect(print(hello(0))).toMatch(/OFPT_HELLO \(OF1\.3\)[\s\S]*version bitmap: 0x04/);
  expect(print(message(T.BARRIER_REQUEST, 3))).toBe('OFPT_BARRIER_REQUEST (OF1.3) (xid=0x3):');
  expect(print(encodeFlowStatsRequest(4, { cookie: 1n, cookieMask: 0xffn }))).toMatch(/^OFPST_FLOW request \(OF1\.3\)/);
});

test('matches and actions decode to what was encoded', () => {
  for (const s of [...crossConnectSpecs(3, 4, '0x1'), ...vlanSpecs(5, 6, 100, '0x1'), ...vxlanSpecs(1, 2, 4242, '0x2')]) {
    const m = decodeMatch(encodeMatch(s.match), 0);
    expect(m.match).toEqual(s.match);
    expect(m.other).toEqual([]);
    expect(decodeActions(encodeActions(s.actions))).toEqual(s.actions);
  }
  expect(formatMatch({ tunId: 0x1092n, inPort: 8, vlan: 3 })).toBe('tun_id=0x1092,in_port=8,dl_vlan=3');
  expect(formatActions([])).toBe('drop');
});

test('a flow stats reply decodes, and foreign match fields are shown rather than dropped', () => {
  const match = Buffer.concat([encodeMatch({ inPort: 7 })]);
  // An extra OXM field (eth_type 0x0800) in place of the padding: class 0x8000, field 5, length 2.
  const len = 4 + 8 + 6;
  const m = Buffer.alloc(24);
  match.copy(m, 0, 0, 12);
  m.writeUInt16BE(len, 2);
  m.writeUInt16BE(0x8000, 12);
  m[14] = 5 << 1;
  m[15] = 2;
  m.writeUInt16BE(0x0800, 16);
  const acts = encodeActions([{ type: 'output', port: 9 }]);
  const instr = Buffer.alloc(8 + acts.length);
  instr.writeUInt16BE(4, 0);
  instr.writeUInt16BE(instr.length, 2);
  acts.copy(instr, 8);
  const entry = Buffer.alloc(48);
  entry.writeUInt16BE(48 + m.length + instr.length, 0);
  entry.writeUInt16BE(100, 12);
  entry.writeBigUInt64BE(0xabcn, 24);
  entry.writeBigUInt64BE(5n, 32);
  entry.writeBigUInt64BE(500n, 40);
  const mp = Buffer.alloc(8);
  mp.writeUInt16BE(1, 0);
  const { more, flows } = decodeFlowStatsReply(message(T.MULTIPART_REPLY, 1, Buffer.concat([mp, entry, m, instr])));
  expect(more).toBe(false);
  expect(flows).toEqual([
    expect.objectContaining({ priority: 100, cookie: 0xabcn, packets: 5n, bytes: 500n, match: { inPort: 7 }, otherMatch: ['oxm(0x8000:5)=0x0800'], actions: [{ type: 'output', port: 9 }] }),
  ]);
});

test('HELLO version bitmaps and error names', () => {
  expect([...helloVersions(hello(0))]).toEqual([4]);
  // A HELLO without elements offers every version up to its own.
  expect([...helloVersions(message(T.HELLO, 0, Buffer.alloc(0), 6))]).toEqual([1, 2, 3, 4, 5, 6]);
  const err = (type: number, code: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(type, 0);
    b.writeUInt16BE(code, 2);
    return decodeError(message(T.ERROR, 1, b));
  };
  expect(err(2, 5)).toMatchObject({ name: 'BAD_ACTION/BAD_ARGUMENT', grpc: 3 });
  expect(err(5, 1)).toMatchObject({ name: 'FLOW_MOD_FAILED/TABLE_FULL', grpc: 8 });
  expect(err(1, 5)).toMatchObject({ name: 'BAD_REQUEST/EPERM', grpc: 7 });
  expect(err(0xffff, 3).name).toBe('EXPERIMENTER/code 3');
});
