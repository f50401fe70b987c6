// Uplink choice of the VLAN client by the endpoint's `via` label (no OVS: the rules are made later by
// xconnect through the port's crossConnect hook).
import { Connection, Mechanism, MechanismClass, MechanismType, Param } from '@nsm/api';
import { clientMeta, metadata } from '@nsm/sdk/core/metadata';
import { chain, handler, NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { bg, conn, req } from '@nsm/sdk/testing/elements';
import type { Ovs } from '../ovs';
import { clientPortKey, PortRecord } from './state';
import { vlanClient, VlanUplinks } from './vlan';

function setup(uplinks: VlanUplinks, answer: { vlanId?: string; via?: string }) {
  let closed = 0;
  let port: PortRecord | undefined;
  const reader: NetworkServiceElement = {
    async request(ctx, r, next) {
      const out = await next.request(ctx, r);
      port = clientMeta(ctx).get(clientPortKey);
      return out;
    },
  };
  const endpoint: NetworkServiceElement = {
    async request(_ctx, r) {
      const c: Connection = { ...r.connection!, labels: answer.via ? { via: answer.via } : {} };
      c.mechanism = Mechanism.fromPartial({ cls: MechanismClass.REMOTE, type: MechanismType.VLAN, parameters: answer.vlanId ? { [Param.vlanId]: answer.vlanId } : {} });
      return c;
    },
    async close() {
      closed++;
    },
  };
  const br = { ovs: {} as Ovs, bridge: 'br-nsm' };
  const h = handler(chain(metadata(), reader, vlanClient(br, uplinks), endpoint));
  return { h, port: () => port, closed: () => closed };
}

const eth1 = { name: 'eth1', ofport: 1 };
const eth2 = { name: 'eth2', ofport: 2 };
const uplinks: VlanUplinks = { default: eth1, byVia: new Map([['gw2', eth2]]) };

describe('VLAN client uplink choice', () => {
  test('offers VLAN and uses the uplink the via label selects', async () => {
    const s = setup(uplinks, { vlanId: '100', via: 'gw2' });
    await s.h.request(bg(), req(conn({ id: 'a' })));
    expect(s.port()).toMatchObject({ name: 'eth2', ofport: 2, vlan: 100 });
  });

  test('without via, the default uplink', async () => {
    const s = setup(uplinks, { vlanId: '7' });
    await s.h.request(bg(), req(conn({ id: 'a' })));
    expect(s.port()).toMatchObject({ name: 'eth1', vlan: 7 });
  });

  test('an unknown via fails clearly and closes what the endpoint made', async () => {
    const s = setup(uplinks, { vlanId: '100', via: 'gw9' });
    await expect(s.h.request(bg(), req(conn({ id: 'a' })))).rejects.toThrow('no uplink for via "gw9" on this node (device selector knows gw2)');
    expect(s.closed()).toBe(1);
  });

  test('no via and no default uplink fails clearly', async () => {
    const s = setup({ byVia: new Map([['gw2', eth2]]) }, { vlanId: '100' });
    await expect(s.h.request(bg(), req(conn({ id: 'a' })))).rejects.toThrow(/no "via" label and this node has no default uplink/);
  });

  test('an unusable vlan-id is refused', async () => {
    const s = setup(uplinks, { vlanId: '4095' });
    await expect(s.h.request(bg(), req(conn({ id: 'a' })))).rejects.toThrow(/unusable vlan-id "4095"/);
    expect(s.closed()).toBe(1);
  });
});
