// The client against a running VPP 25.02 (root): handshake and version, and a list of probes (calls a
// forwarder makes, right and wrong) whose retvals are compared one by one with the fake VPP's
// (testing/vppmodel.ts). The fake is only trusted because it answers these the way VPP does.
import { rmSync } from 'node:fs';
import { exec } from '@nsm/sdk-kernel/exec';
import type { Netns } from '@nsm/sdk-kernel/netns';
import { ensureHostDeps, TestNetnsSet } from '@nsm/sdk-kernel/testhost';
import { ANY, L2_VTR_POP_1, MEMIF_MODE_ETHERNET, MEMIF_ROLE_MASTER, RX_MODE_ADAPTIVE, RX_MODE_INTERRUPT, RX_MODE_POLLING, VppApi } from './api';
import { VppApiError } from './errors';
import { describeWithVpp, VppInstance } from './testing/realvpp';
import { startModelVpp, VppModel } from './testing/vppmodel';

type Ids = Record<string, number>;
/** VPP (the master) creates this file and leaves it behind when the socket is deleted. */
const PROBE_SOCKET = `/tmp/nsm-probe-${process.pid}.sock`;
/** Each probe is one call; `ids` carries what earlier probes made (their numbers differ between VPPs). */
const PROBES: Array<[string, (api: VppApi, ids: Ids) => Promise<unknown>]> = [
  ['af_packet_create_v3 on a missing host link', (api) => api.afPacketCreate({ hostIfName: 'nope0' })],
  ['af_packet_create_v3 with mode 0', (api) => api.afPacketCreate({ hostIfName: 'pr1', mode: 0 })],
  ['af_packet_create_v3', async (api, ids) => (ids.af = await api.afPacketCreate({ hostIfName: 'pr0' }))],
  ['af_packet_create_v3 on the same link again', (api) => api.afPacketCreate({ hostIfName: 'pr0' })],
  ['sw_interface_set_rx_mode ADAPTIVE on af_packet', (api, ids) => api.setRxMode(ids.af, RX_MODE_ADAPTIVE)],
  ['sw_interface_set_rx_mode POLLING on af_packet', (api, ids) => api.setRxMode(ids.af, RX_MODE_POLLING)],
  ['sw_interface_set_rx_mode INTERRUPT on af_packet', (api, ids) => api.setRxMode(ids.af, RX_MODE_INTERRUPT)],
  ['tap_create_v3 without /dev/vhost-net', (api) => api.tapCreate({ hostIfName: 'tapx0' })],
  ['sw_interface_set_flags on 9999', (api) => api.setInterfaceState(9999, true)],
  ['address add', (api, ids) => api.interfaceAddress(ids.af, '10.5.0.1/24', true)],
  ['the same address again', (api, ids) => api.interfaceAddress(ids.af, '10.5.0.1/24', true)],
  ['a second af_packet interface', async (api, ids) => void (ids.af2 = await api.afPacketCreate({ hostIfName: 'pr1' }))],
  ['ip_table_add_del add 76', (api) => api.ipTable(76, false, true)],
  ['sw_interface_set_table 76 on the second', (api, ids) => api.setInterfaceTable(ids.af2, 76, false)],
  ['the first interface\'s address on the second, in another table', (api, ids) => api.interfaceAddress(ids.af2, '10.5.0.1/24', true)],
  ['address delete on the second', (api, ids) => api.interfaceAddress(ids.af2, '10.5.0.1/24', false)],
  ['sw_interface_set_table 0 on the second', (api, ids) => api.setInterfaceTable(ids.af2, 0, false)],
  ['the first interface\'s address on the second, same table', (api, ids) => api.interfaceAddress(ids.af2, '10.5.0.1/24', true)],
  ['the first interface\'s address as a /32 on the second, same table', (api, ids) => api.interfaceAddress(ids.af2, '10.5.0.1/32', true)],
  ['af_packet_delete of the second', (api) => api.afPacketDelete('pr1')],
  ['ip_table_add_del delete 76', (api) => api.ipTable(76, false, false)],
  ['ip_table_add_del add 77', (api) => api.ipTable(77, false, true)],
  ['sw_interface_set_table while the interface has an address', (api, ids) => api.setInterfaceTable(ids.af, 77, false)],
  ['address delete', (api, ids) => api.interfaceAddress(ids.af, '10.5.0.1/24', false)],
  ['address delete again', (api, ids) => api.interfaceAddress(ids.af, '10.5.0.1/24', false)],
  ['sw_interface_set_table 77', (api, ids) => api.setInterfaceTable(ids.af, 77, false)],
  ['sw_interface_set_table to a table never made', (api, ids) => api.setInterfaceTable(ids.af, 78, false)],
  ['ip_route_add_del into a table never made', (api, ids) => api.ipRoute({ prefix: '10.9.0.0/24', tableId: 4242, paths: [{ swIfIndex: ids.af, nextHop: '10.5.0.9' }] }, true)],
  ['ip_route_add_del delete of a route never made', (api, ids) => api.ipRoute({ prefix: '10.9.0.0/24', tableId: 77, paths: [{ swIfIndex: ids.af, nextHop: '10.5.0.9' }] }, false)],
  ['sw_interface_set_table back to 0', (api, ids) => api.setInterfaceTable(ids.af, 0, false)],
  ['ip_table_add_del delete 77', (api) => api.ipTable(77, false, false)],
  ['sw_interface_ip6_enable_disable enable', (api, ids) => api.enableIp(ids.af, true, true)],
  ['sw_interface_ip6_enable_disable enable again', (api, ids) => api.enableIp(ids.af, true, true)],
  ['sw_interface_ip6nd_ra_config suppress', (api, ids) => api.suppressRouterAdvertisements(ids.af)],
  ['sw_interface_ip6nd_ra_config suppress on 9999', (api) => api.suppressRouterAdvertisements(9999)],
  ['sw_interface_ip6_enable_disable disable', (api, ids) => api.enableIp(ids.af, true, false)],
  ['sw_interface_ip6nd_ra_config suppress without IPv6', (api, ids) => api.suppressRouterAdvertisements(ids.af)],
  ['ip_neighbor_add_del on 9999', (api) => api.ipNeighbor(9999, '10.5.0.2', '02:00:00:00:00:01', true)],
  ['ip_neighbor_add_del delete of one never made', (api, ids) => api.ipNeighbor(ids.af, '10.5.0.3', '02:00:00:00:00:01', false)],
  ['vxlan with src = dst', (api) => api.vxlanTunnel({ src: '10.5.0.1', dst: '10.5.0.1', vni: 5, srcPort: 4789, dstPort: 4789 }, true)],
  ['vxlan delete of one never made', (api) => api.vxlanTunnel({ src: '10.5.0.1', dst: '10.5.0.2', vni: 5, srcPort: 4789, dstPort: 4789 }, false)],
  ['vxlan add', (api) => api.vxlanTunnel({ src: '10.5.0.1', dst: '10.5.0.2', vni: 5, srcPort: 4790, dstPort: 4790 }, true)],
  ['vxlan add again', (api) => api.vxlanTunnel({ src: '10.5.0.1', dst: '10.5.0.2', vni: 5, srcPort: 4790, dstPort: 4790 }, true)],
  ['vxlan delete', (api) => api.vxlanTunnel({ src: '10.5.0.1', dst: '10.5.0.2', vni: 5, srcPort: 4790, dstPort: 4790 }, false)],
  ['create_vlan_subif on 9999', (api) => api.createVlanSubif(9999, 10)],
  ['create_vlan_subif 10', async (api, ids) => (ids.sub = await api.createVlanSubif(ids.af, 10))],
  ['create_vlan_subif 10 again', (api, ids) => api.createVlanSubif(ids.af, 10)],
  ['create_vlan_subif 0', (api, ids) => api.createVlanSubif(ids.af, 0)],
  ['tag rewrite POP-1 on the sub-interface', (api, ids) => api.vlanTagRewrite(ids.sub, L2_VTR_POP_1)],
  ['tag rewrite POP-1 on an untagged interface', (api, ids) => api.vlanTagRewrite(ids.af, L2_VTR_POP_1)],
  ['sw_interface_tag_add_del on 9999', (api) => api.tagInterface(9999, 'nsm:probe')],
  ['sw_interface_tag_add_del', (api, ids) => api.tagInterface(ids.sub, 'nsm:probe')],
  ['bridge_domain_add_del_v2 with any id', async (api, ids) => void (ids.bd = await api.bridgeDomain(ANY, true, 'nsm:probe'))],
  ['bridge_domain_add_del_v2 id 77', (api) => api.bridgeDomain(77, true)],
  ['bridge_domain_add_del_v2 id 77 again', (api) => api.bridgeDomain(77, true)],
  ['sw_interface_set_l2_bridge into a bridge domain never made', (api, ids) => api.l2Bridge(ids.sub, 4242, true)],
  ['sw_interface_set_l2_bridge off (4242)', (api, ids) => api.l2Bridge(ids.sub, 4242, false)],
  ['sw_interface_set_l2_bridge', (api, ids) => api.l2Bridge(ids.sub, ids.bd, true)],
  ['bridge domain delete with a member', (api, ids) => api.bridgeDomain(ids.bd, false)],
  ['sw_interface_set_l2_bridge off', (api, ids) => api.l2Bridge(ids.sub, ids.bd, false)],
  ['bridge domain delete', (api, ids) => api.bridgeDomain(ids.bd, false)],
  ['bridge domain delete again', (api, ids) => api.bridgeDomain(ids.bd, false)],
  ['bridge domain delete 77', (api) => api.bridgeDomain(77, false)],
  ['bridge domain delete 4242 (made by the join above)', (api) => api.bridgeDomain(4242, false)],
  ['delete_subif of the parent', (api, ids) => api.deleteSubif(ids.af)],
  ['delete_subif', (api, ids) => api.deleteSubif(ids.sub)],
  ['delete_subif again', (api, ids) => api.deleteSubif(ids.sub)],
  ['memif_create_v2 on an unknown socket id', (api) => api.memifCreate({ role: MEMIF_ROLE_MASTER, mode: MEMIF_MODE_ETHERNET, socketId: 55 })],
  ['memif_socket_filename_add_del_v2 add', async (api, ids) => void (ids.sock = await api.memifSocketAdd(PROBE_SOCKET))],
  ['memif_create_v2 master', async (api, ids) => void (ids.memif = await api.memifCreate({ role: MEMIF_ROLE_MASTER, mode: MEMIF_MODE_ETHERNET, socketId: ids.sock }))],
  ['memif_create_v2 with the same id again', (api, ids) => api.memifCreate({ role: MEMIF_ROLE_MASTER, mode: MEMIF_MODE_ETHERNET, socketId: ids.sock })],
  ['sw_interface_set_rx_mode ADAPTIVE on memif', (api, ids) => api.setRxMode(ids.memif, RX_MODE_ADAPTIVE)],
  ['memif socket delete while in use', (api, ids) => api.memifSocketDelete(ids.sock)],
  ['memif_delete', (api, ids) => api.memifDelete(ids.memif)],
  ['memif_delete again', (api, ids) => api.memifDelete(ids.memif)],
  ['memif socket delete', (api, ids) => api.memifSocketDelete(ids.sock)],
  ['memif socket delete again', (api, ids) => api.memifSocketDelete(ids.sock)],
  ['wireguard_interface_create', async (api, ids) => void (ids.wg = await api.wireguardInterfaceCreate({ privateKey: Buffer.alloc(32, 9), port: 51820, srcIp: '10.5.0.1' }))],
  ['a second wireguard interface on the same port', async (api, ids) => void (ids.wg2 = await api.wireguardInterfaceCreate({ privateKey: Buffer.alloc(32, 8), port: 51820, srcIp: '10.5.0.1' }))],
  ['sw_interface_set_rx_mode ADAPTIVE on wireguard', (api, ids) => api.setRxMode(ids.wg, RX_MODE_ADAPTIVE)],
  ['sw_interface_ip6_enable_disable enable on wireguard', (api, ids) => api.enableIp(ids.wg, true, true)],
  ['sw_interface_ip6nd_ra_config suppress on wireguard', (api, ids) => api.suppressRouterAdvertisements(ids.wg)],
  ['wireguard_peer_add on an af_packet interface', (api, ids) => api.wireguardPeerAdd({ swIfIndex: ids.af, publicKey: Buffer.alloc(32, 1), endpoint: '10.5.0.2', port: 51820, allowedIps: ['10.6.0.1/32'] })],
  ['wireguard_peer_remove of one never made', (api) => api.wireguardPeerRemove(4242)],
  ['wireguard_interface_delete', (api, ids) => api.wireguardInterfaceDelete(ids.wg)],
  ['wireguard_interface_delete of the second', (api, ids) => api.wireguardInterfaceDelete(ids.wg2)],
  ['wireguard_interface_delete again', (api, ids) => api.wireguardInterfaceDelete(ids.wg)],
  ['sw_interface_set_l2_xconnect to 9999', (api, ids) => api.l2Xconnect(ids.af, 9999, true)],
  ['af_packet_delete', (api) => api.afPacketDelete('pr0')],
  ['af_packet_delete again', (api) => api.afPacketDelete('pr0')],
];

async function runProbes(api: VppApi): Promise<string[]> {
  const ids: Ids = {};
  const out: string[] = [];
  for (const [label, call] of PROBES) {
    try {
      await call(api, ids);
      out.push(`${label}: 0`);
    } catch (err) {
      if (!(err instanceof VppApiError)) throw err;
      out.push(`${label}: ${err.retval} ${err.code}`);
    }
  }
  return out;
}

describeWithVpp('the VPP client against a real VPP 25.02', () => {
  const nets = new TestNetnsSet();
  let node: Netns;
  let vpp: VppInstance;

  beforeAll(async () => {
    await ensureHostDeps();
    node = await nets.add('node');
    for (const l of ['pr0', 'pr1']) await exec(['ip', '-n', node.name!, 'link', 'add', l, 'type', 'veth', 'peer', 'name', `${l}b`]);
    vpp = await VppInstance.start({ name: 'probe', netns: node });
  }, 600_000);

  afterAll(async () => {
    await vpp?.stop();
    await nets.cleanup();
    rmSync(PROBE_SOCKET, { force: true });
  });

  it('handshakes and reports version 25.02', async () => {
    expect(await vpp.api.showVersion()).toMatchObject({ program: 'vpe', version: '25.02-release' });
    expect((await vpp.api.controlPing()).vpePid).toBeGreaterThan(0);
  });

  it('answers every probe with the retval the fake VPP gives', async () => {
    const real = await runProbes(vpp.api);
    const fake = await startModelVpp(new VppModel({ hostLinks: (n) => n === 'pr0' || n === 'pr1' }));
    try {
      expect(await runProbes(fake.api)).toEqual(real);
    } finally {
      await fake.stop();
    }
    // The facts the dataplane is built on.
    expect(real).toEqual(expect.arrayContaining(['sw_interface_set_rx_mode ADAPTIVE on af_packet: -9 UNIMPLEMENTED', 'tap_create_v3 without /dev/vhost-net: -11 SYSCALL_ERROR_1', 'a second wireguard interface on the same port: 0']));
    expect((await vpp.api.interfaceDump()).map((i) => i.name)).toEqual(['local0']);
  });

  it('sw_interface_ip4_enable_disable works upside down in 25.02; an IPv4 address switches IPv4 on', async () => {
    await exec(['ip', '-n', node.name!, 'link', 'add', 'pr2', 'type', 'veth', 'peer', 'name', 'pr2b']);
    const sw = await vpp.api.afPacketCreate({ hostIfName: 'pr2' });
    const model = new VppModel();
    const fake = await startModelVpp(model);
    const fsw = await fake.api.afPacketCreate({ hostIfName: 'pr2' });
    // How many reasons VPP has to drop IPv4 on the interface (ip4-not-enabled on the ip4-unicast arc).
    const off = async () => {
      const text = (await vpp.cli('show', 'interface', 'features', 'host-pr2')).replace(/\r/g, '');
      const arc = /ip4-unicast:\n((?:\s+\S+\n)+)/.exec(text)?.[1] ?? '';
      return arc.split('\n').filter((l) => l.trim() === 'ip4-not-enabled').length;
    };
    const steps: Array<[string, (api: VppApi, x: number) => Promise<void>]> = [
      ['new', async () => undefined],
      ['enable: true', (api, x) => api.enableIp(x, false, true)],
      ['enable: false', (api, x) => api.enableIp(x, false, false)],
      ['enable: false', (api, x) => api.enableIp(x, false, false)],
      ['enable: true', (api, x) => api.enableIp(x, false, true)],
      ['address added', (api, x) => api.interfaceAddress(x, '169.254.0.1/32', true)],
      ['address removed', (api, x) => api.interfaceAddress(x, '169.254.0.1/32', false)],
    ];
    const seen: string[] = [];
    const modelSeen: string[] = [];
    try {
      for (const [what, step] of steps) {
        await step(vpp.api, sw);
        await step(fake.api, fsw);
        seen.push(`${what}: ${(await off()) === 0 ? 'on' : 'off'}`);
        modelSeen.push(`${what}: ${model.ip4Enabled(fsw) ? 'on' : 'off'}`);
      }
    } finally {
      await fake.stop();
      await vpp.api.afPacketDelete('pr2');
    }
    expect(seen).toEqual(['new: off', 'enable: true: off', 'enable: false: off', 'enable: false: on', 'enable: true: off', 'address added: on', 'address removed: off']);
    expect(modelSeen).toEqual(seen);
  });
});
