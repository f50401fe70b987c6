// The wire codec against hand-checked bytes and round trips; the host test checks it against the kernel.
import { Attrs, ipBytes, ipText, macText, message, parseMessages, parseStatus } from './codec';
import { NLA_F_NESTED, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_ERROR } from './consts';

describe('netlink codec', () => {
  it('lays out header, attributes and padding as the kernel expects', () => {
    const m = message(16, 0x405, (w) => {
      w.u8(0).u8(0).u16(0).i32(7).u32(1).u32(1);
      w.attrString(3, 'ab');
      w.nest(18, (n) => n.attrU8(1, 9));
    });
    expect(m.toString('hex')).toBe(
      [
        '34000000', '1000', '0504', '00000000', '00000000', // len 52, type, flags, seq, pid
        '00000000', '07000000', '01000000', '01000000', // ifinfomsg
        '0700', '0300', '61620000', // "ab\0" + 1 byte padding
        '0c00', '1280', '0500', '0100', '09000000', // nested (0x8000 | 18) holding a u8
      ].join(''),
    );
  });

  it('grows past its first buffer without losing bytes', () => {
    const names = Array.from({ length: 200 }, (_, i) => `feature-${i}`);
    const m = message(21, 5, (w) => w.nest(3, (n) => names.forEach((s, i) => n.nest(1, (b) => (b.attrU32(1, i), b.attrString(2, s))))));
    const [parsed] = parseMessages(Buffer.concat([m, m]));
    expect(parsed.body.length).toBe(m.length - 16);
    const bits = new Attrs(parsed.body).nested(3)!.all(1).map((b) => new Attrs(b));
    expect(bits.map((b) => [b.u32(1), b.string(2)])).toEqual(names.map((s, i) => [i, s]));
    expect(parsed.body.readUInt16LE(2)).toBe(3 | NLA_F_NESTED);
  });

  it('reads errno and the extended-ack message of an NLMSG_ERROR', () => {
    const text = Buffer.from('Unknown device type\0');
    const tlv = Buffer.alloc(4 + 20);
    tlv.writeUInt16LE(4 + text.length, 0);
    tlv.writeUInt16LE(1, 2);
    text.copy(tlv, 4);
    const body = Buffer.concat([Buffer.from([0xea, 0xff, 0xff, 0xff]), Buffer.alloc(16), tlv]); // -22, echoed header
    body.writeUInt32LE(40, 4);
    expect(parseStatus({ type: NLMSG_ERROR, flags: NLM_F_CAPPED | NLM_F_ACK_TLVS, seq: 1, body })).toEqual({ errno: 22, extack: 'Unknown device type' });
    expect(parseStatus({ type: NLMSG_ERROR, flags: 0, seq: 1, body: Buffer.alloc(20) })).toEqual({ errno: 0 });
  });

  it('refuses a truncated message instead of dropping it', () => {
    const m = message(16, 1, (w) => w.u32(1));
    expect(() => parseMessages(m.subarray(0, m.length - 2))).toThrow(/malformed/);
  });

  it.each([
    ['10.1.2.3', '0a010203'],
    ['fd00:16::101', 'fd000016000000000000000000000101'],
    ['::', '00000000000000000000000000000000'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
  ])('encodes %s', (ip, hex) => {
    const b = ipBytes(ip, ip.includes(':') ? 6 : 4);
    expect(b.toString('hex')).toBe(hex);
    expect(ipBytes(ipText(b), ip.includes(':') ? 6 : 4).equals(b)).toBe(true);
  });

  it('prints addresses and MACs as ip does', () => {
    expect(ipText(Buffer.from('20010db8000000000001000000000001', 'hex'))).toBe('2001:db8::1:0:0:1');
    expect(ipText(Buffer.from('fd000016000000000000000000000101', 'hex'))).toBe('fd00:16::101');
    expect(macText(Buffer.from([2, 0, 0xab, 0, 0, 1]))).toBe('02:00:ab:00:00:01');
  });
});
