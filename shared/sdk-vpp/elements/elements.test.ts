// The VPP forwarder's dataplane elements, chained as in cmd-forwarder-vpp (xconnect, mechanisms server,
// then the client elements), against a fake VPP that decodes every request with VPP 25.02 definitions
// and answers as VPP 25.02 does (testing/vppmodel.ts: what real VPP refuses, it refuses). Host
// operations are recorded instead of run (no root needed).
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
import { VppModel } from '../testing/vppmodel';
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
    createVeth: async (h, p, ns, mtu, mac) => void ops.push(`veth ${h} ${p}@${ns.path} mtu ${mtu}${mac ? '' : ' no MAC'}`),
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
  const model = new VppModel({ wgHandshakes: true });
  const vpp = await ScriptedVpp.start(registry, messageTable(), model.respond);
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
  let ip4During: boolean[];
  try {
    out = await h.request(Context.background(), { connection: conn(payload), mechanismPreferences: [] });
    afterRequest = vpp.calls.length;
    ip4During = [...model.interfaces.keys()].map((sw) => model.ip4Enabled(sw));
    await h.close(Context.background(), out);
  } finally {
    await c.close();
    await vpp.stop();
  }
  const byName = (n: string) => vpp.requests.filter((r) => r.name === n).map((r) => r.msg);
  return { calls: vpp.calls, afterRequest: afterRequest!, ops, byName, out: out!, model, ip4During: ip4During! };
}

describe('VPP dataplane elements against a fake VPP', () => {
  it('KERNEL to VXLAN (Ethernet): tunnel, af_packet, l2 xconnect; Close undoes it in reverse', async () => {
    const tail = remote(MechanismType.VXLAN, { [Param.dstIp]: '10.0.0.2', [Param.dstPort]: '4789', [Param.vni]: '42', [Param.mtu]: '1400' });
    const { calls, afterRequest, ops, byName, model, out } = await run(Payload.ETHERNET, tail);
    // The offer carries what a 1500-byte uplink leaves; the answer's lower MTU reaches the pod.
    expect(tail.offered).toMatchObject({ [Param.srcIp]: '10.0.0.1', [Param.srcPort]: '4789', [Param.mtu]: '1450' });
    expect(out.context?.MTU).toBe(1400);
    expect(byName('sw_interface_tag_add_del').map((t) => t.tag)).toEqual(['nsm:fwd-1', 'nsm:fwd-1']);
    expect(calls.slice(0, afterRequest)).toEqual([
      'vxlan_add_del_tunnel_v3', 'sw_interface_tag_add_del', 'sw_interface_set_flags', // client side: the tunnel, tagged, up
      'af_packet_create_v3', 'sw_interface_tag_add_del', 'sw_interface_set_flags', // server side: the NSC's veth (no rx-mode: af_packet refuses ADAPTIVE)
      'sw_interface_set_l2_xconnect', 'sw_interface_set_l2_xconnect',
    ]);
    expect([model.interfaces.size, model.vxlan.size]).toEqual([0, 0]);
    expect(calls.slice(afterRequest)).toEqual(['sw_interface_set_l2_xconnect', 'sw_interface_set_l2_xconnect', 'sw_interface_set_flags', 'vxlan_add_del_tunnel_v3', 'af_packet_delete']);
    const [add, del] = byName('vxlan_add_del_tunnel_v3');
    expect(add).toMatchObject({ is_add: true, vni: 42, src_port: 4789, dst_port: 4789, instance: 0xffffffff, decap_next_index: 0xffffffff });
    expect([...add.src_address.un.ip4, ...add.dst_address.un.ip4]).toEqual([10, 0, 0, 1, 10, 0, 0, 2]);
    expect(del).toMatchObject({ is_add: false, vni: 42 });
    const [af] = byName('af_packet_create_v3');
    expect(af).toMatchObject({ host_if_name: 'server-nsc-1', mode: 1, flags: 1, use_random_hw_addr: false });
    expect(byName('sw_interface_set_l2_xconnect').map((m) => [m.rx_sw_if_index, m.tx_sw_if_index, m.enable])).toEqual([[2, 1, true], [1, 2, true], [2, 1, false], [1, 2, false]]);
    expect(byName('af_packet_delete')).toEqual([expect.objectContaining({ host_if_name: 'server-nsc-1' })]);
    expect(ops).toEqual(['veth server-nsc-1 nsm-1@/proc/4242/fd/9 mtu 1400', expect.stringMatching(/^ipctx nsm-1@\/proc\/4242\/fd\/9 \["172.16.1.101\/32"\] neigh \[\]/), 'del server-nsc-1']);
  });

  it('KERNEL to WIREGUARD (IP): interface + peer, af_packet, L3 through two tables with static neighbours', async () => {
    const peer = Buffer.alloc(32, 7);
    const tail = remote(MechanismType.WIREGUARD, { [Param.dstIp]: '10.0.0.2', [Param.dstPort]: '51820', [Param.dstPublicKey]: peer.toString('base64') });
    const { calls, afterRequest, byName, ops, model, ip4During } = await run(Payload.IP, tail);
    expect(calls.slice(0, afterRequest)).toEqual([
      'wireguard_interface_create', 'sw_interface_tag_add_del', 'sw_interface_set_mtu', 'wireguard_peer_add', 'sw_interface_set_flags',
      'wireguard_peers_dump', // the handshake is done
      'af_packet_create_v3', 'sw_interface_tag_add_del', 'sw_interface_set_flags',
      // per side: its own table, IPv4 on by a link-local address; then a default route to the other side
      'ip_table_add_del', 'sw_interface_set_table', 'sw_interface_add_del_address',
      'ip_table_add_del', 'sw_interface_set_table', 'sw_interface_add_del_address',
      'ip_route_add_del', 'ip_route_add_del',
      'ip_neighbor_add_del', // VPP reaches the client's address at the pod's MAC
    ]);
    // Both interfaces process IPv4 (VPP 25.02's ip4_enable_disable would have left them dropping it).
    expect(ip4During).toEqual([true, true]);
    expect(calls.slice(afterRequest)).toEqual([
      'ip_neighbor_add_del',
      'ip_route_add_del', 'ip_route_add_del',
      'sw_interface_add_del_address', 'sw_interface_set_table', 'ip_table_add_del',
      'sw_interface_add_del_address', 'sw_interface_set_table', 'ip_table_add_del',
      'wireguard_peer_remove', 'sw_interface_set_flags', 'wireguard_interface_delete',
      'af_packet_delete',
    ]);
    expect([model.interfaces.size, model.routes.size, model.neighbors.size, [...model.tables]]).toEqual([0, 0, 0, ['4/0', '6/0']]);
    const [wg] = byName('wireguard_interface_create');
    expect(tail.offered).toMatchObject({ [Param.srcIp]: '10.0.0.1', [Param.srcPort]: '51820' });
    const offered = Buffer.from(tail.offered![Param.srcPublicKey], 'base64');
    expect(wgPublicKey(wg.interface.private_key)).toEqual(offered);
    expect(wg.interface).toMatchObject({ port: 51820, user_instance: 0xffffffff });
    const [p] = byName('wireguard_peer_add');
    expect(p.peer).toMatchObject({ public_key: peer, port: 51820, persistent_keepalive: 10, n_allowed_ips: 1, sw_if_index: 1 });
    expect([...p.peer.allowed_ips[0].address.un.ip4, p.peer.allowed_ips[0].len]).toEqual([172, 16, 1, 100, 32]);
    // Entering at the client's side (af_packet 2, table A): out of the tunnel toward the endpoint; and back.
    const routes = byName('ip_route_add_del').map((r) => [r.is_add, [...r.route.prefix.address.un.ip4].join('.'), r.route.prefix.len, r.route.table_id, r.route.paths[0].sw_if_index, [...r.route.paths[0].nh.address.ip4].join('.')]);
    expect(routes.slice(0, 2)).toEqual([[true, '0.0.0.0', 0, 0x4e534d00, 1, '172.16.1.100'], [true, '0.0.0.0', 0, 0x4e534d01, 2, '172.16.1.101']]);
    expect(byName('sw_interface_set_table').map((t) => [t.sw_if_index, t.vrf_id])).toEqual([[2, 0x4e534d00], [1, 0x4e534d01], [1, 0], [2, 0]]);
    // The pod reaches the endpoint at VPP's MAC, permanently.
    expect(ops).toContainEqual(expect.stringMatching(/^ipctx nsm-1@\/proc\/4242\/fd\/9 undefined neigh \[\{"ip":"172.16.1.100","mac":"02:00:00:00:00:01","state":"permanent"\}\]/));
    expect(byName('wireguard_peer_remove')).toEqual([expect.objectContaining({ peer_index: 0 })]);
  });

  it('a VPP error on the way undoes what was made and reaches the caller', async () => {
    // The host link the veth made is not there (as when it vanished meanwhile): VPP answers -71.
    const vpp = await ScriptedVpp.start(registry, messageTable(), new VppModel({ hostLinks: () => false }).respond);
    const c = await VppConnection.connect(vpp.path, { timeoutMs: 2000 });
    const dp = { api: new VppApi(c), tunnelIp: '10.0.0.1' };
    const ops: string[] = [];
    const h = handler(chain(metadata(), xconnect(dp), mechanisms({ [MechanismType.KERNEL]: kernelServer(dp, { mode: 'veth', host: fakeHost(ops) }) }), boundary, vxlanClient(dp), remote(MechanismType.VXLAN, { [Param.dstIp]: '10.0.0.2', [Param.vni]: '8' })));
    try {
      await expect(h.request(Context.background(), { connection: conn(Payload.ETHERNET), mechanismPreferences: [] })).rejects.toThrow(/af_packet_create_v3: retval -71 \(INVALID_INTERFACE\)/);
      expect(vpp.calls).toEqual(['vxlan_add_del_tunnel_v3', 'sw_interface_tag_add_del', 'sw_interface_set_flags', 'af_packet_create_v3', 'sw_interface_set_flags', 'vxlan_add_del_tunnel_v3']);
      expect(ops).toEqual(['veth server-nsc-1 nsm-1@/proc/4242/fd/9 mtu 1450', 'del server-nsc-1']);
    } finally {
      await c.close();
      await vpp.stop();
    }
  });

  it('WireGuard: no handshake within the bound fails the Request with UNAVAILABLE and undoes it; a refresh with a new peer key makes the interface again', async () => {
    const model = new VppModel();
    const vpp = await ScriptedVpp.start(registry, messageTable(), model.respond);
    const c = await VppConnection.connect(vpp.path, { timeoutMs: 2000 });
    const dp = { api: new VppApi(c), tunnelIp: '10.0.0.1', underlayMtu: 9000 };
    const answer = { [Param.dstIp]: '10.0.0.2', [Param.dstPort]: '51820', [Param.dstPublicKey]: Buffer.alloc(32, 7).toString('base64') };
    const chainWith = (handshakeTimeoutMs: number) =>
      handler(chain(metadata(), xconnect(dp), mechanisms({ [MechanismType.KERNEL]: kernelServer(dp, { mode: 'veth', host: fakeHost([]) }) }), boundary, wireguardClient(dp, { handshakeTimeoutMs }), remote(MechanismType.WIREGUARD, answer)));
    try {
      const t0 = Date.now();
      await expect(chainWith(300).request(Context.background(), { connection: conn(Payload.IP), mechanismPreferences: [] })).rejects.toMatchObject({ code: 14, message: expect.stringMatching(/no WireGuard handshake with 10\.0\.0\.2:51820 within 300 ms/) });
      expect(Date.now() - t0).toBeLessThan(2000);
      expect([model.interfaces.size, model.wgPeers.size]).toEqual([0, 0]);

      // The server half, asked again by a requester with another key (it restarted): a new interface,
      // and the cross-connect moves to it; the MTU is what a 9000-byte uplink leaves.
      const server = handler(chain(metadata(), xconnect(dp), mechanisms({ [MechanismType.WIREGUARD]: wireguardServer(dp) }), boundary, kernelClient(dp, { mode: 'veth', host: fakeHost([]) }), remote(MechanismType.KERNEL, { [Param.inodeURL]: 'file:///proc/4243/fd/9', [Param.name]: 'nse-1' })));
      const wgConn = (key: number) => Connection.fromPartial({ ...conn(Payload.IP), mechanism: { cls: MechanismClass.REMOTE, type: MechanismType.WIREGUARD, parameters: { [Param.srcIp]: '10.0.0.3', [Param.srcPort]: '51820', [Param.srcPublicKey]: Buffer.alloc(32, key).toString('base64') } } });
      const made = () => vpp.requests.filter((r) => r.name === 'wireguard_interface_create').length;
      const before = made();
      const first = await server.request(Context.background(), { connection: wgConn(1), mechanismPreferences: [] });
      expect(first.mechanism?.parameters[Param.mtu]).toBe('8920');
      expect(first.context?.MTU).toBe(8920);
      const again = await server.request(Context.background(), { connection: { ...wgConn(1), context: first.context }, mechanismPreferences: [] });
      expect(made() - before).toBe(1);
      expect(again.mechanism?.parameters[Param.dstPublicKey]).toBe(first.mechanism?.parameters[Param.dstPublicKey]);
      const rekeyed = await server.request(Context.background(), { connection: { ...wgConn(2), context: first.context }, mechanismPreferences: [] });
      expect(made() - before).toBe(2);
      expect(rekeyed.mechanism?.parameters[Param.dstPublicKey]).not.toBe(first.mechanism?.parameters[Param.dstPublicKey]);
      expect([...model.interfaces.values()].map((i) => i.kind).sort()).toEqual(['af_packet', 'wireguard']);
      await server.close(Context.background(), rekeyed);
      expect([model.interfaces.size, model.wgPeers.size, model.routes.size, [...model.tables]]).toEqual([0, 0, 0, ['4/0', '6/0']]);
    } finally {
      await c.close();
      await vpp.stop();
    }
  });
});
