// The VPP forwarder's dataplane elements, chained as in cmd-forwarder-vpp (xconnect, mechanisms server,
// then the client elements), against a fake VPP that decodes every request with VPP 25.02 definitions
// and answers well-formed replies. Host operations are recorded instead of run (no root needed).
import { Connection, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { metadata } from '@nsm/sdk/core/metadata';
import { chain, handler, NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { mechanisms } from '@nsm/sdk/elements/mechanisms';
import type { Netns } from '@nsm/sdk-kernel';
import { VppApi } from '../api';
import { ApiRegistry } from '../codec';
import { VppConnection } from '../connection';
import { VPP_DEFS } from '../defs';
import { loadTrace, ScriptedVpp } from '../testing';
import type { HostOps } from './host';
import { kernelClient, kernelServer, vxlanClient, vxlanServer, wgPublicKey, wireguardClient, wireguardServer, xconnect } from './index';

const registry = new ApiRegistry(VPP_DEFS);

/** The message table of the captured handshake with a real VPP. */
function messageTable(): Array<{ index: number; name: string }> {
  return registry.decode('sockclnt_create_reply', Buffer.from(loadTrace('handshake')[1].hex, 'hex').subarray(16)).message_table;
}

function fakeHost(ops: string[]): HostOps {
  return {
    netns: (url) => ({ path: new URL(url).pathname, label: url }) as Netns,
    createVeth: async (h, p, ns) => void ops.push(`veth ${h} ${p}@${ns.path}`),
    deleteHostLink: async (n) => void ops.push(`del ${n}`),
    mac: async (ns) => (ns ? '02:00:00:00:00:02' : '02:00:00:00:00:01'),
    applyIpContext: async (ns, n, spec) => void ops.push(`ipctx ${n}@${ns.path} ${JSON.stringify(spec.addrs)} neigh ${JSON.stringify(spec.neighbors)}`),
  };
}

/** Plays the remote side: selects the first offered mechanism of `type` and answers it as a peer would. */
function remote(type: string, answer: Record<string, string>): NetworkServiceElement & { offered?: Record<string, string> } {
  return {
    async request(_ctx, req) {
      const m = req.mechanismPreferences.find((x) => x.type === type);
      if (!m) throw new Error(`${type} was not offered`);
      this.offered = m.parameters;
      return { ...req.connection!, mechanism: { ...m, parameters: { ...m.parameters, ...answer } } };
    },
  };
}

/** Stands in for connect + mechanismtranslation: the client part sees its own mechanism choice, the
 *  server part gets its caller's mechanism back. */
const boundary: NetworkServiceElement = {
  async request(ctx, req, next) {
    const mine = req.connection!.mechanism;
    const out = await next.request(ctx, { connection: { ...req.connection!, mechanism: undefined }, mechanismPreferences: [] });
    return { ...out, mechanism: mine };
  },
};

const conn = (payload: string): Connection =>
  Connection.fromPartial({
    id: 'fwd-1',
    networkService: 'ns',
    payload,
    mechanism: { cls: MechanismClass.LOCAL, type: MechanismType.KERNEL, parameters: { [Param.inodeURL]: 'file:///proc/4242/fd/9', [Param.name]: 'nsm-1' } },
    path: { index: 1, pathSegments: [{ id: 'nsc-1' }, { id: 'fwd-1' }, { id: 'nse-1' }] },
    context: { ipContext: { srcIpAddrs: ['172.16.1.101/32'], dstIpAddrs: ['172.16.1.100/32'] } },
  });

async function run(payload: string, tail: NetworkServiceElement) {
  let sw = 10;
  const vpp = await ScriptedVpp.start(registry, messageTable(), ({ name }) => (name.endsWith('_create_v3') || name.endsWith('_tunnel_v3') || name === 'wireguard_interface_create' ? { sw_if_index: ++sw } : name === 'wireguard_peer_add' ? { peer_index: 7 } : undefined));
  const c = await VppConnection.connect(vpp.path, { timeoutMs: 2000 });
  const dp = { api: new VppApi(c), tunnelIp: '10.0.0.1' };
  const ops: string[] = [];
  const host = fakeHost(ops);
  const el = chain(
    metadata(),
    xconnect(dp),
    mechanisms({ [MechanismType.KERNEL]: kernelServer(dp, { mode: 'veth', host }), [MechanismType.VXLAN]: vxlanServer(dp), [MechanismType.WIREGUARD]: wireguardServer(dp) }),
    boundary,
    kernelClient(dp, { mode: 'veth', host }),
    vxlanClient(dp),
    wireguardClient(dp),
    tail,
  );
  const h = handler(el);
  let out: Connection;
  let afterRequest: number;
  try {
    out = await h.request(Context.background(), { connection: conn(payload), mechanismPreferences: [] });
    afterRequest = vpp.calls.length;
    await h.close(Context.background(), out);
  } finally {
    await c.close();
    await vpp.stop();
  }
  const byName = (n: string) => vpp.requests.filter((r) => r.name === n).map((r) => r.msg);
  return { calls: vpp.calls, afterRequest: afterRequest!, ops, byName, out: out! };
}

describe('VPP dataplane elements against a fake VPP', () => {
  it('KERNEL to VXLAN (Ethernet): tunnel, af_packet, l2 xconnect; Close undoes it in reverse', async () => {
    const { calls, afterRequest, ops, byName } = await run(Payload.ETHERNET, remote(MechanismType.VXLAN, { [Param.dstIp]: '10.0.0.2', [Param.dstPort]: '4789', [Param.vni]: '42' }));
    expect(calls.slice(0, afterRequest)).toEqual([
      'vxlan_add_del_tunnel_v3', 'sw_interface_set_flags', // client side: the tunnel, up
      'af_packet_create_v3', 'sw_interface_set_rx_mode', 'sw_interface_set_flags', // server side: the NSC's veth
      'sw_interface_set_l2_xconnect', 'sw_interface_set_l2_xconnect',
    ]);
    expect(calls.slice(afterRequest)).toEqual(['sw_interface_set_l2_xconnect', 'sw_interface_set_l2_xconnect', 'sw_interface_set_flags', 'vxlan_add_del_tunnel_v3', 'af_packet_delete']);
    const [add, del] = byName('vxlan_add_del_tunnel_v3');
    expect(add).toMatchObject({ is_add: true, vni: 42, src_port: 4789, dst_port: 4789, instance: 0xffffffff, decap_next_index: 0xffffffff });
    expect([...add.src_address.un.ip4, ...add.dst_address.un.ip4]).toEqual([10, 0, 0, 1, 10, 0, 0, 2]);
    expect(del).toMatchObject({ is_add: false, vni: 42 });
    const [af] = byName('af_packet_create_v3');
    expect(af).toMatchObject({ host_if_name: 'server-nsc-1', mode: 1, flags: 1, use_random_hw_addr: false });
    expect(byName('sw_interface_set_l2_xconnect').map((m) => [m.rx_sw_if_index, m.tx_sw_if_index, m.enable])).toEqual([[12, 11, true], [11, 12, true], [12, 11, false], [11, 12, false]]);
    expect(byName('af_packet_delete')).toEqual([expect.objectContaining({ host_if_name: 'server-nsc-1' })]);
    expect(ops).toEqual(['veth server-nsc-1 nsm-1@/proc/4242/fd/9', expect.stringMatching(/^ipctx nsm-1@\/proc\/4242\/fd\/9 \["172.16.1.101\/32"\] neigh \[\]/), 'del server-nsc-1']);
  });

  it('KERNEL to WIREGUARD (IP): interface + peer, af_packet with static neighbour, L3 cross-connect', async () => {
    const peer = Buffer.alloc(32, 7);
    const tail = remote(MechanismType.WIREGUARD, { [Param.dstIp]: '10.0.0.2', [Param.dstPort]: '51820', [Param.dstPublicKey]: peer.toString('base64') });
    const { calls, afterRequest, byName } = await run(Payload.IP, tail);
    expect(calls.slice(0, afterRequest)).toEqual([
      'wireguard_interface_create', 'wireguard_peer_add', 'sw_interface_set_flags',
      'af_packet_create_v3', 'sw_interface_set_rx_mode', 'ip_neighbor_add_del', 'sw_interface_set_flags',
      'ip_table_add_del', 'sw_interface_set_table', 'sw_interface_ip4_enable_disable', 'sw_interface_set_table', 'sw_interface_ip4_enable_disable', 'ip_route_add_del', 'ip_route_add_del',
    ]);
    expect(calls.slice(afterRequest)).toEqual([
      'ip_route_add_del', 'ip_route_add_del', 'sw_interface_ip4_enable_disable', 'sw_interface_set_table', 'sw_interface_ip4_enable_disable', 'sw_interface_set_table', 'ip_table_add_del',
      'wireguard_peer_remove', 'sw_interface_set_flags', 'wireguard_interface_delete',
      'ip_neighbor_add_del', 'af_packet_delete',
    ]);
    const [wg] = byName('wireguard_interface_create');
    expect(tail.offered).toMatchObject({ [Param.srcIp]: '10.0.0.1', [Param.srcPort]: '51820' });
    const offered = Buffer.from(tail.offered![Param.srcPublicKey], 'base64');
    expect(wgPublicKey(wg.interface.private_key)).toEqual(offered);
    expect(wg.interface).toMatchObject({ port: 51820, user_instance: 0xffffffff });
    const [p] = byName('wireguard_peer_add');
    expect(p.peer).toMatchObject({ public_key: peer, port: 51820, persistent_keepalive: 10, n_allowed_ips: 1, sw_if_index: 11 });
    expect([...p.peer.allowed_ips[0].address.un.ip4, p.peer.allowed_ips[0].len]).toEqual([172, 16, 1, 100, 32]);
    const routes = byName('ip_route_add_del').map((r) => [r.is_add, [...r.route.prefix.address.un.ip4].join('.'), r.route.paths[0].sw_if_index, r.route.table_id]);
    expect(routes.slice(0, 2)).toEqual([[true, '172.16.1.101', 12, 0x4e534d00], [true, '172.16.1.100', 11, 0x4e534d00]]);
    expect(byName('wireguard_peer_remove')).toEqual([expect.objectContaining({ peer_index: 7 })]);
  });

  it('a VPP error on the way undoes what was made and reaches the caller', async () => {
    let sw = 10;
    const vpp = await ScriptedVpp.start(registry, messageTable(), ({ name }) => (name === 'af_packet_create_v3' ? { retval: -71, sw_if_index: 0 } : name === 'vxlan_add_del_tunnel_v3' ? { sw_if_index: ++sw } : undefined));
    const c = await VppConnection.connect(vpp.path, { timeoutMs: 2000 });
    const dp = { api: new VppApi(c), tunnelIp: '10.0.0.1' };
    const ops: string[] = [];
    const h = handler(chain(metadata(), xconnect(dp), mechanisms({ [MechanismType.KERNEL]: kernelServer(dp, { mode: 'veth', host: fakeHost(ops) }) }), boundary, vxlanClient(dp), remote(MechanismType.VXLAN, { [Param.dstIp]: '10.0.0.2', [Param.vni]: '8' })));
    try {
      await expect(h.request(Context.background(), { connection: conn(Payload.ETHERNET), mechanismPreferences: [] })).rejects.toThrow(/af_packet_create_v3: retval -71 \(INVALID_INTERFACE\)/);
      expect(vpp.calls).toEqual(['vxlan_add_del_tunnel_v3', 'sw_interface_set_flags', 'af_packet_create_v3', 'sw_interface_set_flags', 'vxlan_add_del_tunnel_v3']);
      expect(ops).toEqual(['veth server-nsc-1 nsm-1@/proc/4242/fd/9', 'del server-nsc-1']);
    } finally {
      await c.close();
      await vpp.stop();
    }
  });
});
