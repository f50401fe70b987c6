import { Mechanism, MechanismType, Param } from '@nsm/api';
import { chain, handler } from '../../core/networkservice';
import { mechanisms } from '../mechanisms';
import { bg, conn, recorder, req } from '../../testing/elements';
import { remoteVlanServer } from './index';

const vlan = () => Mechanism.fromPartial({ cls: 'REMOTE', type: MechanismType.VLAN, parameters: {} });
const kernel = () => Mechanism.fromPartial({ cls: 'LOCAL', type: MechanismType.KERNEL, parameters: {} });

describe('remote VLAN endpoint', () => {
  test('selects the offered VLAN mechanism and answers with the configured vlan-id and via label', async () => {
    const rec = recorder();
    const h = handler(chain(mechanisms({ [MechanismType.VLAN]: remoteVlanServer({ vlanId: 100, via: 'gw1' }) }), rec.el));
    const out = await h.request(bg(), req(conn({ id: 'c' }), [kernel(), vlan()]));
    expect(out.mechanism).toMatchObject({ type: MechanismType.VLAN, parameters: { [Param.vlanId]: '100' } });
    expect(out.labels).toEqual({ via: 'gw1' });
  });

  test('a forwarder that cannot do VLAN gets a clear error', async () => {
    const h = handler(mechanisms({ [MechanismType.VLAN]: remoteVlanServer({ vlanId: 100 }) }));
    await expect(h.request(bg(), req(conn({ id: 'c' }), [kernel()]))).rejects.toThrow(/cannot support any of the requested mechanisms: offered LOCAL\/KERNEL; this hop supports VLAN/);
  });

  test.each([0, 4095, 1.5])('refuses VLAN id %p at construction', (id) => {
    expect(() => remoteVlanServer({ vlanId: id })).toThrow(/invalid VLAN id/);
  });
});
