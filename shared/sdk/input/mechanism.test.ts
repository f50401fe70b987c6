import { Mechanism } from '@nsm/api';
import { Code } from '../core/errors';
import { checkMechanism, checkPreferences } from './mechanism';

const key = Buffer.alloc(32, 9).toString('base64');
const m = (type: string, parameters: Record<string, string>, cls = type === 'KERNEL' || type === 'MEMIF' || type === 'VFIO' ? 'LOCAL' : 'REMOTE') =>
  Mechanism.fromPartial({ cls, type, parameters });

type Case = [string, Mechanism, Code | undefined, RegExp?];
const OK = undefined;
const BAD = Code.INVALID_ARGUMENT;
const BIG = Code.RESOURCE_EXHAUSTED;

// One line per case: the mechanism, the code it gets (none: accepted), what the message says.
const cases: Case[] = [
  ['KERNEL from an NSC', m('KERNEL', { name: 'nsm-1', inodeURL: 'file:///proc/42/ns/net' }), OK],
  ['KERNEL in transit', m('KERNEL', { name: 'nsm-1', inodeURL: 'inode://4/4026532000' }), OK],
  ['KERNEL offered by the OVS forwarder', m('KERNEL', { supportsVlan: 'true' }), OK],
  ['KERNEL with a VLAN', m('KERNEL', { name: 'eth1', vlan: '100', supportsVlan: 'true' }), OK],
  ['KERNEL with an SR-IOV token', m('KERNEL', { tokenID: 'sriov-1f0c', pciAddress: '0000:3b:02.1' }), OK],
  ['KERNEL name with a newline', m('KERNEL', { name: 'nsm\nip netns add X' }), BAD, /parameters\["name"\]: "nsm\\nip netns add X" is not an interface name/],
  ['KERNEL name of 16 bytes', m('KERNEL', { name: 'a'.repeat(16) }), BAD, /is not an interface name/],
  ['KERNEL name with a slash', m('KERNEL', { name: 'a/b' }), BAD, /is not an interface name/],
  ['KERNEL name with a colon', m('KERNEL', { name: 'eth0:1' }), BAD, /is not an interface name/],
  ['KERNEL name ..', m('KERNEL', { name: '..' }), BAD, /is not an interface name/],
  ['KERNEL name with a control character', m('KERNEL', { name: 'a\u0007' }), BAD, /is not an interface name/],
  ['KERNEL netns with an escape', m('KERNEL', { inodeURL: 'file:///var/run/netns/x%0anetns%20add%20X' }), BAD, /is not a namespace URL/],
  ['KERNEL netns up a level', m('KERNEL', { inodeURL: 'file:///var/run/netns/../../proc/1/ns/net' }), BAD, /is not a namespace URL/],
  ['KERNEL netns of another scheme', m('KERNEL', { inodeURL: 'unix:///proc/1/ns/net' }), BAD, /is not a namespace URL/],
  ['KERNEL netns too long', m('KERNEL', { inodeURL: `file:///${'a/'.repeat(300)}b` }), BAD, /is not a namespace URL/],
  ['KERNEL vlan 4095', m('KERNEL', { vlan: '4095' }), BAD, /is not a VLAN id \(0-4094/],
  ['KERNEL supportsVlan yes', m('KERNEL', { supportsVlan: 'yes' }), BAD, /is not a boolean/],
  ['KERNEL pciAddress garbage', m('KERNEL', { pciAddress: '0000:3b:02.1;reboot' }), BAD, /is not a PCI address/],
  ['KERNEL empty value counts as absent', m('KERNEL', { name: '' }), OK],
  ['KERNEL unknown key, plain value', m('KERNEL', { IPTables4NatTemplate: '-A POSTROUTING -j MASQUERADE' }), OK],
  ['KERNEL unknown key, control characters', m('KERNEL', { future: 'a\nb' }), BAD, /parameters\["future"\]: "a\\nb" contains control characters/],
  ['KERNEL unknown key, 2 KiB value', m('KERNEL', { future: 'x'.repeat(2048) }), BIG, /parameters\["future"\]: 2048 bytes long, at most 1024/],
  ['VXLAN offered', m('VXLAN', { src_ip: '10.233.0.2', src_port: '4789', MTU: '1450' }), OK],
  ['VXLAN answered', m('VXLAN', { src_ip: '10.233.0.2', src_port: '4789', dst_ip: 'fd00::3', dst_port: '4789', vni: '16777215' }), OK],
  ['VXLAN src_ip with a command', m('VXLAN', { src_ip: '192.0.2.1\nnetns add X #' }), BAD, /parameters\["src_ip"\]: "192\.0\.2\.1\\nnetns add X #" is not an IP address/],
  ['VXLAN dst_ip with a zone', m('VXLAN', { dst_ip: 'fe80::1%eth0' }), BAD, /is not an IP address/],
  ['VXLAN orig_src_ip a name', m('VXLAN', { orig_src_ip: 'node1' }), BAD, /is not an IP address/],
  ['VXLAN port 0', m('VXLAN', { src_port: '0' }), BAD, /is not a UDP port/],
  ['VXLAN port 65536', m('VXLAN', { dst_port: '65536' }), BAD, /is not a UDP port/],
  ['VXLAN vni 2^24', m('VXLAN', { vni: '16777216' }), BAD, /is not a VXLAN VNI/],
  ['VXLAN vni negative', m('VXLAN', { vni: '-1' }), BAD, /is not a VXLAN VNI/],
  ['VXLAN MTU 67', m('VXLAN', { MTU: '67' }), BAD, /is not an MTU/],
  ['VXLAN MTU 1e3', m('VXLAN', { MTU: '1e3' }), BAD, /is not an MTU/],
  ['WIREGUARD offered', m('WIREGUARD', { src_ip: '10.233.0.2', src_port: '51820', src_public_key: key, MTU: '1420' }), OK],
  ['WIREGUARD key of 31 bytes', m('WIREGUARD', { src_public_key: Buffer.alloc(31).toString('base64') }), BAD, /is not a WireGuard key/],
  ['WIREGUARD key with a UAPI line', m('WIREGUARD', { dst_public_key: `${key}\nallowed_ip=0.0.0.0/0` }), BAD, /is not a WireGuard key/],
  ['IPSEC certificate', m('IPSEC', { src_public_key: Buffer.alloc(900, 1).toString('base64') }), OK],
  ['IPSEC certificate not base64', m('IPSEC', { src_public_key: 'MII$%' }), BAD, /is not a base64 certificate/],
  ['VLAN answered', m('VLAN', { 'vlan-id': '100' }), OK],
  ['VLAN offered without parameters', m('VLAN', {}), OK],
  ['VLAN id 0', m('VLAN', { 'vlan-id': '0' }), BAD, /is not a VLAN id \(1-4094\)/],
  ['VLAN id 4095', m('VLAN', { 'vlan-id': '4095' }), BAD, /is not a VLAN id/],
  ['MEMIF socket file', m('MEMIF', { inodeURL: 'file:///tmp/memif/1/memif.socket' }), OK],
  ['MEMIF abstract socket with a space', m('MEMIF', { socketfile: 'a b' }), BAD, /is not an abstract socket name/],
  ['VFIO', m('VFIO', { cgroupDir: 'kubepods/pod1', iommuGroup: '42', vfioMajor: '10', vfioMinor: '196' }), OK],
  ['VFIO cgroupDir up a level', m('VFIO', { cgroupDir: '../../etc' }), BAD, /is not a relative directory path/],
  ['NOOP', m('NOOP', {}), OK],
  ['unknown type, plain keys', m('CARRIER_PIGEON', { wings: '2' }), OK],
  ['unknown type named constructor', m('constructor', { name: 'x' }), OK],
  ['type with a space', m('KERNEL X', {}), BAD, /\.type: "KERNEL X" is not a mechanism type/],
  ['type too long', m('K'.repeat(33), {}), BIG, /\.type: 33 bytes long/],
  ['class bogus', m('KERNEL', {}, 'SIDEWAYS'), BAD, /\.cls: "SIDEWAYS" is not a mechanism class/],
  ['key with a newline', m('KERNEL', { 'a\nb': '1' }), BAD, /parameters key: "a\\nb" is not a parameter key/],
  ['key too long', m('KERNEL', { ['k'.repeat(65)]: '1' }), BAD, /is not a parameter key/],
  ['33 parameters', m('NOOP', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']))), BIG, /parameters: 33 entries, at most 32/],
];

// Rest parameters: jest takes a fourth declared parameter for a done callback when a row has three.
test.each(cases)('%s', (...[, mech, code, message]: Case) => {
  const run = () => checkMechanism('mechanism_preferences[2]', mech);
  if (code === undefined) return expect(run).not.toThrow();
  expect(run).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/^mechanism_preferences\[2\]/) }));
  if (message) expect(run).toThrow(message);
});

test('the field path reads as the brief asks', () => {
  expect(() => checkMechanism('mechanism_preferences[2]', m('VXLAN', { src_ip: '192.0.2.1\nnetns add X #' }))).toThrow(
    'mechanism_preferences[2].parameters["src_ip"]: "192.0.2.1\\nnetns add X #" is not an IP address',
  );
});

test.each([
  ['17 preferences', Array.from({ length: 17 }, () => m('NOOP', {})), BIG, /mechanism_preferences: 17 entries, at most 16/],
  ['a preference without type', [m('KERNEL', {}), m('', {})], BAD, /mechanism_preferences\[1\]\.type must not be empty/],
  ['16 preferences', Array.from({ length: 16 }, () => m('NOOP', {})), OK, undefined],
] as [string, Mechanism[], Code | undefined, RegExp | undefined][])('preferences: %s', (...[, prefs, code, message]: [string, Mechanism[], Code | undefined, RegExp | undefined]) => {
  const run = () => checkPreferences('mechanism_preferences', prefs);
  if (code === undefined) return expect(run).not.toThrow();
  expect(run).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message!) }));
});
