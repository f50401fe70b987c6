// The VXLAN server's negotiation, without touching the host: port disagreement fails before
// anything is made; the VNI follows the parity rule and is kept when a refresh carries it.
import { Connection, Mechanism, MechanismClass, MechanismType, Param } from '@nsm/api';
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { metadata } from '@nsm/sdk/core/metadata';
import { chain, handler } from '@nsm/sdk/core/networkservice';
import { bg, conn, failer, req } from '@nsm/sdk/testing/elements';
import { VniAllocator } from './vni';
import { vxlanServer } from './vxlan';

const opts = () => ({ tunnelIp: '10.233.0.12', underlayMtu: 1500, port: 4789, vnis: new VniAllocator() });
const vxlan = (params: Record<string, string>) => Mechanism.fromPartial({ cls: MechanismClass.REMOTE, type: MechanismType.VXLAN, parameters: params });
const withMech = (m: Mechanism): Connection => ({ ...conn({ id: 'c1' }), mechanism: m });

describe('vxlanServer', () => {
  test('a different UDP port on the requesting node fails with both ports named, before anything is made', async () => {
    const h = handler(chain(metadata(), vxlanServer(opts()), failer(() => new Error('must not be reached')).el));
    const err = await h.request(bg(), req(withMech(vxlan({ [Param.srcIp]: '10.233.0.11', [Param.srcPort]: '8472' })))).catch((e) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBe(Code.FAILED_PRECONDITION);
    expect((err as Error).message).toContain('the requesting node 10.233.0.11 uses UDP port 8472, this node (10.233.0.12) uses 4789');
  });

  test('no src_ip is an invalid argument', async () => {
    const h = handler(chain(metadata(), vxlanServer(opts())));
    const err = await h.request(bg(), req(withMech(vxlan({ [Param.srcPort]: '4789' })))).catch((e) => e);
    expect((err as StatusError).code).toBe(Code.INVALID_ARGUMENT);
  });

  test('sets dst_ip/dst_port/MTU and an even VNI before forwarding; a failed downstream releases the VNI', async () => {
    const o = opts();
    let seen: Record<string, string> = {};
    const h = handler(
      chain(metadata(), vxlanServer(o), {
        async request(_ctx, r) {
          seen = { ...r.connection!.mechanism!.parameters };
          throw new Error('endpoint down');
        },
      }),
    );
    await expect(h.request(bg(), req(withMech(vxlan({ [Param.srcIp]: '10.233.0.11', [Param.srcPort]: '4789', [Param.mtu]: '1480' }))))).rejects.toThrow('endpoint down');
    expect(seen[Param.dstIp]).toBe('10.233.0.12');
    expect(seen[Param.dstPort]).toBe('4789');
    expect(seen[Param.mtu]).toBe('1450');
    const vni = Number(seen[Param.vni]);
    expect(vni % 2).toBe(0);
    expect(vni).toBeGreaterThan(0);
    // Released: the same (src, VNI) can be reserved again.
    expect(o.vnis.reserve('10.233.0.11', vni)).toBe(true);
  });

  test('a VNI the request already carries (refresh) is kept', async () => {
    let seen = '';
    const h = handler(
      chain(metadata(), vxlanServer(opts()), {
        async request(_ctx, r) {
          seen = r.connection!.mechanism!.parameters[Param.vni];
          throw new Error('stop here');
        },
      }),
    );
    await expect(h.request(bg(), req(withMech(vxlan({ [Param.srcIp]: '10.233.0.11', [Param.srcPort]: '4789', [Param.vni]: '1234' }))))).rejects.toThrow('stop here');
    expect(seen).toBe('1234');
  });
});
