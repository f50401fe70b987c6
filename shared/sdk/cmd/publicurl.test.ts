import type { NetworkInterfaceInfo } from 'node:os';
import { publicUrl } from './publicurl';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) => ({ address, family, internal }) as NetworkInterfaceInfo;
const ifaces = {
  lo: [iface('127.0.0.1', 'IPv4', true)],
  eth0: [iface('fe80::1', 'IPv6', false), iface('10.1.2.3', 'IPv4', false)],
  eth1: [iface('192.168.0.9', 'IPv4', false)],
};

test.each([
  [['unix:///nsm.sock', 'tcp://:5001'], 'tcp://10.1.2.3:5001'],
  [['tcp://0.0.0.0:5001'], 'tcp://10.1.2.3:5001'],
  [['tcp://192.168.0.9:5001', 'tcp://:6000'], 'tcp://192.168.0.9:5001'],
  [['tcp://[::]:5001'], 'tcp://[::]:5001'],
  [['tcp://nsmgr.example:5001'], 'tcp://nsmgr.example:5001'],
  [['unix:///a.sock', 'unix:///b.sock'], 'unix:///a.sock'],
] as [string[], string][])('%j → %s', (listen, want) => expect(publicUrl(listen, ifaces)).toBe(want));

test('without a non-loopback IPv4 address a host-less URL gets 127.0.0.1', () => {
  expect(publicUrl(['tcp://:5001'], { lo: ifaces.lo })).toBe('tcp://127.0.0.1:5001');
});
