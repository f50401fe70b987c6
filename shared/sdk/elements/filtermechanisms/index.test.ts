import { Mechanism } from '@nsm/api';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, recorder, req } from '../../testing/elements';
import { clientUrl } from '../clienturl';
import { filterMechanisms } from './index';

const prefs = () => [
  Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL' }),
  Mechanism.fromPartial({ cls: 'REMOTE', type: 'VXLAN' }),
  Mechanism.fromPartial({ cls: 'REMOTE', type: 'WIREGUARD' }),
  Mechanism.fromPartial({ cls: 'REMOTE', type: 'VLAN' }),
];

// VLAN breaks out on this node's uplink, so a local (remote VLAN) endpoint may still select it.
test.each([
  ['unix:///var/lib/nsm.sock', ['KERNEL', 'VLAN']],
  ['inode://4/123', ['KERNEL', 'VLAN']],
  ['tcp://10.0.0.1:5001', ['VXLAN', 'WIREGUARD', 'VLAN']],
  [undefined, ['KERNEL', 'VXLAN', 'WIREGUARD', 'VLAN']],
] as [string | undefined, string[]][])('next hop %s keeps %j', async (url, want) => {
  const rec = recorder();
  await handler(chain(clientUrl(url), filterMechanisms(), rec.el)).request(bg(), req(conn(), prefs()));
  expect(rec.requests[0].mechanismPreferences.map((m) => m.type)).toEqual(want);
});
