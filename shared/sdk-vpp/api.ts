// The VPP operations a forwarder needs, typed, over one VppConnection. Each method is one request (or
// one dump) and returns what the reply carries; a negative retval throws VppApiError.
import { address, addressText, mac, macText, prefix, prefixText } from './addresses';
import type { Msg } from './codec';
import type { VppConnection } from './connection';

/** ~0: "none / any / pick one" in VPP's API. */
export const ANY = 0xffffffff;
export const IF_STATUS_ADMIN_UP = 1;
export const IF_STATUS_LINK_UP = 2;
export const AF_PACKET_MODE_ETHERNET = 1;
export const AF_PACKET_MODE_IP = 2;
/** af_packet_flags: qdisc bypass; checksum/GSO offload. */
export const AF_PACKET_FLAG_QDISC_BYPASS = 1;
export const AF_PACKET_FLAG_CKSUM_GSO = 2;
export const TAP_FLAG_TUN = 16;
export const RX_MODE_POLLING = 1;
export const RX_MODE_INTERRUPT = 2;
/** Not supported on af_packet interfaces (VPP 25.02 answers -9 UNIMPLEMENTED); tap and memif take it. */
export const RX_MODE_ADAPTIVE = 3;
export const MEMIF_ROLE_MASTER = 0;
export const MEMIF_ROLE_SLAVE = 1;
export const MEMIF_MODE_ETHERNET = 0;
export const MEMIF_MODE_IP = 1;
/** l2_interface_vlan_tag_rewrite operations (VPP's l2_vtr op codes). */
export const L2_VTR_DISABLED = 0;
export const L2_VTR_POP_1 = 3;
export const IP_NEIGHBOR_FLAG_STATIC = 1;
/** wireguard_peer_flags: the handshake completed. */
export const WIREGUARD_PEER_ESTABLISHED = 2;
/** l2_port_type: an ordinary bridge port. */
export const L2_API_PORT_TYPE_NORMAL = 0;

export interface AfPacketCreate {
  hostIfName: string;
  /** MAC for the VPP side; random when unset. */
  hwAddr?: string;
  mode?: number;
  /** Default: qdisc bypass only. With checksum offload on, VPP wrote decapsulated VXLAN frames to a
   * veth with an invalid offload header and the namespace never received them (capture notes). */
  flags?: number;
  numRxQueues?: number;
  numTxQueues?: number;
}

export interface TapCreate {
  hostIfName: string;
  /** Path of the network namespace file the kernel end is created in. */
  hostNamespace?: string;
  tun?: boolean;
  macAddress?: string;
  hostMtu?: number;
  hostIp4Prefix?: string;
  ringSize?: number;
  tag?: string;
}

export interface VxlanTunnel {
  src: string;
  dst: string;
  vni: number;
  /** Local UDP port (the one VPP decapsulates on). */
  srcPort: number;
  /** Remote UDP port. */
  dstPort: number;
  instance?: number;
  decapNextIndex?: number;
  encapVrfId?: number;
}

export interface WireguardInterface {
  /** 32-byte Curve25519 private key. */
  privateKey: Buffer;
  port: number;
  srcIp: string;
  userInstance?: number;
  generateKey?: boolean;
}

export interface WireguardPeer {
  swIfIndex: number;
  publicKey: Buffer;
  endpoint: string;
  port: number;
  persistentKeepalive?: number;
  allowedIps: string[];
  tableId?: number;
  flags?: number;
}

export interface MemifCreate {
  role: number;
  mode: number;
  socketId: number;
  /** Interface id on that socket (both ends must agree); default 0. */
  id?: number;
  ringSize?: number;
  bufferSize?: number;
  hwAddr?: string;
  secret?: string;
}

export interface InterfaceDetails {
  swIfIndex: number;
  supSwIfIndex: number;
  name: string;
  devType: string;
  mac: string;
  flags: number;
  adminUp: boolean;
  linkUp: boolean;
  linkMtu: number;
  mtu: number[];
  tag: string;
}

export interface IpRoute {
  prefix: string;
  tableId?: number;
  /** Paths: next hop through an interface; either may be absent. */
  paths: Array<{ swIfIndex?: number; nextHop?: string; weight?: number; tableId?: number }>;
}

export class VppApi {
  constructor(readonly conn: VppConnection) {}

  async showVersion(): Promise<{ program: string; version: string; buildDate: string }> {
    const r = await this.conn.request('show_version');
    return { program: r.program, version: r.version, buildDate: r.build_date };
  }

  async controlPing(): Promise<{ vpePid: number }> {
    const r = await this.conn.request('control_ping');
    return { vpePid: r.vpe_pid };
  }

  async wantInterfaceEvents(enable: boolean, pid = process.pid): Promise<void> {
    await this.conn.request('want_interface_events', { enable_disable: enable ? 1 : 0, pid });
  }

  /** af_packet_create_v3: a VPP interface on a host (veth) device; returns its sw_if_index. */
  async afPacketCreate(o: AfPacketCreate): Promise<number> {
    const r = await this.conn.request('af_packet_create_v3', {
      mode: o.mode ?? AF_PACKET_MODE_ETHERNET,
      hw_addr: o.hwAddr ? mac(o.hwAddr) : undefined,
      use_random_hw_addr: !o.hwAddr,
      host_if_name: o.hostIfName,
      flags: o.flags ?? AF_PACKET_FLAG_QDISC_BYPASS,
      num_rx_queues: o.numRxQueues ?? 1,
      num_tx_queues: o.numTxQueues ?? 1,
    });
    return r.sw_if_index;
  }

  async afPacketDelete(hostIfName: string): Promise<void> {
    await this.conn.request('af_packet_delete', { host_if_name: hostIfName });
  }

  async afPacketDump(): Promise<Array<{ swIfIndex: number; hostIfName: string }>> {
    return (await this.conn.dump('af_packet_dump')).map((d) => ({ swIfIndex: d.sw_if_index, hostIfName: d.host_if_name }));
  }

  /** tap_create_v3: VPP creates the kernel tap (or tun) itself, in `hostNamespace` when given. */
  async tapCreate(o: TapCreate): Promise<number> {
    const fields: Msg = {
      use_random_mac: !o.macAddress,
      mac_address: o.macAddress ? mac(o.macAddress) : undefined,
      tx_ring_sz: o.ringSize ?? 256,
      rx_ring_sz: o.ringSize ?? 256,
      host_mtu_set: o.hostMtu !== undefined,
      host_mtu_size: o.hostMtu ?? 0,
      host_ip4_prefix_set: o.hostIp4Prefix !== undefined,
      host_ip6_prefix: { address: Buffer.alloc(16), len: 0 },
      tap_flags: o.tun ? TAP_FLAG_TUN : 0,
      host_namespace_set: o.hostNamespace !== undefined,
      host_namespace: o.hostNamespace ?? '',
      host_if_name_set: true,
      host_if_name: o.hostIfName,
      tag: o.tag ?? '',
    };
    if (o.hostIp4Prefix) {
      const p = prefix(o.hostIp4Prefix);
      fields.host_ip4_prefix = { address: p.address.un.ip4, len: p.len };
    }
    return (await this.conn.request('tap_create_v3', fields)).sw_if_index;
  }

  async tapDelete(swIfIndex: number): Promise<void> {
    await this.conn.request('tap_delete_v2', { sw_if_index: swIfIndex });
  }

  /** Admin state (sw_interface_set_flags). */
  async setInterfaceState(swIfIndex: number, up: boolean): Promise<void> {
    await this.conn.request('sw_interface_set_flags', { sw_if_index: swIfIndex, flags: up ? IF_STATUS_ADMIN_UP : 0 });
  }

  /** L3, IPv4, IPv6 and MPLS MTU: one value for all four, or each (0 leaves one unchanged). */
  async setMtu(swIfIndex: number, mtu: number | [number, number, number, number]): Promise<void> {
    await this.conn.request('sw_interface_set_mtu', { sw_if_index: swIfIndex, mtu: typeof mtu === 'number' ? [mtu, mtu, mtu, mtu] : mtu });
  }

  /** Tags an interface (at most 63 bytes), or removes its tag; sw_interface_dump reports it. */
  async tagInterface(swIfIndex: number, tag: string, isAdd = true): Promise<void> {
    await this.conn.request('sw_interface_tag_add_del', { is_add: isAdd, sw_if_index: swIfIndex, tag: isAdd ? tag : '' });
  }

  async setRxMode(swIfIndex: number, mode = RX_MODE_ADAPTIVE): Promise<void> {
    await this.conn.request('sw_interface_set_rx_mode', { sw_if_index: swIfIndex, mode });
  }

  /** Adds or removes an address ("10.0.0.1/24"); delAll removes every address (cidr then ignored). */
  async interfaceAddress(swIfIndex: number, cidr: string, isAdd: boolean, delAll = false): Promise<void> {
    await this.conn.request('sw_interface_add_del_address', { sw_if_index: swIfIndex, is_add: isAdd, del_all: delAll, prefix: prefix(cidr) });
  }

  async setInterfaceTable(swIfIndex: number, vrfId: number, ipv6: boolean): Promise<void> {
    await this.conn.request('sw_interface_set_table', { sw_if_index: swIfIndex, is_ipv6: ipv6, vrf_id: vrfId });
  }

  /** Turns IPv4 or IPv6 processing on for an interface that has no address of its own. */
  async enableIp(swIfIndex: number, ipv6: boolean, enable = true): Promise<void> {
    await this.conn.request(ipv6 ? 'sw_interface_ip6_enable_disable' : 'sw_interface_ip4_enable_disable', { sw_if_index: swIfIndex, enable });
  }

  /** One direction of an L2 cross-connect: frames received on rx go out of tx. */
  async l2Xconnect(rxSwIfIndex: number, txSwIfIndex: number, enable: boolean): Promise<void> {
    await this.conn.request('sw_interface_set_l2_xconnect', { rx_sw_if_index: rxSwIfIndex, tx_sw_if_index: txSwIfIndex, enable });
  }

  /** vxlan_add_del_tunnel_v3; returns the tunnel's sw_if_index. Deleting names the same tunnel. */
  async vxlanTunnel(t: VxlanTunnel, isAdd: boolean): Promise<number> {
    const r = await this.conn.request('vxlan_add_del_tunnel_v3', {
      is_add: isAdd,
      instance: t.instance ?? ANY,
      src_address: address(t.src),
      dst_address: address(t.dst),
      src_port: t.srcPort,
      dst_port: t.dstPort,
      mcast_sw_if_index: ANY,
      encap_vrf_id: t.encapVrfId ?? 0,
      decap_next_index: t.decapNextIndex ?? ANY,
      vni: t.vni,
      is_l3: false,
    });
    return r.sw_if_index;
  }

  async vxlanTunnelDump(swIfIndex = ANY): Promise<Array<VxlanTunnel & { swIfIndex: number }>> {
    return (await this.conn.dump('vxlan_tunnel_v2_dump', { sw_if_index: swIfIndex })).map((d) => ({
      swIfIndex: d.sw_if_index,
      instance: d.instance,
      src: addressText(d.src_address),
      dst: addressText(d.dst_address),
      srcPort: d.src_port,
      dstPort: d.dst_port,
      vni: d.vni,
      decapNextIndex: d.decap_next_index,
      encapVrfId: d.encap_vrf_id,
    }));
  }

  async wireguardInterfaceCreate(w: WireguardInterface): Promise<number> {
    const r = await this.conn.request('wireguard_interface_create', {
      interface: { user_instance: w.userInstance ?? ANY, sw_if_index: ANY, private_key: w.privateKey, port: w.port, src_ip: address(w.srcIp) },
      generate_key: w.generateKey ?? false,
    });
    return r.sw_if_index;
  }

  async wireguardInterfaceDelete(swIfIndex: number): Promise<void> {
    await this.conn.request('wireguard_interface_delete', { sw_if_index: swIfIndex });
  }

  async wireguardInterfaceDump(showPrivateKey = false, swIfIndex = ANY): Promise<Array<{ swIfIndex: number; publicKey: Buffer; privateKey: Buffer; port: number; srcIp: string }>> {
    return (await this.conn.dump('wireguard_interface_dump', { show_private_key: showPrivateKey, sw_if_index: swIfIndex })).map(({ interface: i }) => ({
      swIfIndex: i.sw_if_index,
      publicKey: i.public_key,
      privateKey: i.private_key,
      port: i.port,
      srcIp: addressText(i.src_ip),
    }));
  }

  /** Returns the peer index. */
  async wireguardPeerAdd(p: WireguardPeer): Promise<number> {
    const r = await this.conn.request('wireguard_peer_add', {
      peer: {
        public_key: p.publicKey,
        port: p.port,
        persistent_keepalive: p.persistentKeepalive ?? 0,
        table_id: p.tableId ?? 0,
        endpoint: address(p.endpoint),
        sw_if_index: p.swIfIndex,
        flags: p.flags ?? 0,
        allowed_ips: p.allowedIps.map(prefix),
      },
    });
    return r.peer_index;
  }

  async wireguardPeerRemove(peerIndex: number): Promise<void> {
    await this.conn.request('wireguard_peer_remove', { peer_index: peerIndex });
  }

  async wireguardPeersDump(): Promise<Array<Omit<WireguardPeer, 'allowedIps'> & { peerIndex: number; allowedIps: string[] }>> {
    return (await this.conn.dump('wireguard_peers_dump', { peer_index: ANY })).map(({ peer: p }) => ({
      peerIndex: p.peer_index,
      swIfIndex: p.sw_if_index,
      publicKey: p.public_key,
      endpoint: addressText(p.endpoint),
      port: p.port,
      persistentKeepalive: p.persistent_keepalive,
      tableId: p.table_id,
      flags: p.flags,
      allowedIps: (p.allowed_ips as Msg[]).map((x) => prefixText(x as never)),
    }));
  }

  async ipNeighbor(swIfIndex: number, ip: string, macAddress: string, isAdd: boolean, flags = IP_NEIGHBOR_FLAG_STATIC): Promise<void> {
    await this.conn.request('ip_neighbor_add_del', { is_add: isAdd, neighbor: { sw_if_index: swIfIndex, flags, mac_address: mac(macAddress), ip_address: address(ip) } });
  }

  async ipTable(tableId: number, ipv6: boolean, isAdd: boolean, name = ''): Promise<void> {
    await this.conn.request('ip_table_add_del', { is_add: isAdd, table: { table_id: tableId, is_ip6: ipv6, name } });
  }

  async ipRoute(route: IpRoute, isAdd: boolean): Promise<void> {
    const p = prefix(route.prefix);
    const proto = p.address.af;
    await this.conn.request('ip_route_add_del', {
      is_add: isAdd,
      is_multipath: false,
      route: {
        table_id: route.tableId ?? 0,
        prefix: p,
        paths: route.paths.map((x) => ({
          sw_if_index: x.swIfIndex ?? ANY,
          table_id: x.tableId ?? 0,
          weight: x.weight ?? 1,
          proto,
          nh: { address: x.nextHop ? address(x.nextHop).un : {} },
        })),
      },
    });
  }

  async interfaceDump(nameFilter?: string, swIfIndex = ANY): Promise<InterfaceDetails[]> {
    const rows = await this.conn.dump('sw_interface_dump', { sw_if_index: swIfIndex, name_filter_valid: nameFilter !== undefined, name_filter: nameFilter ?? '' });
    return rows.map((d) => ({
      swIfIndex: d.sw_if_index,
      supSwIfIndex: d.sup_sw_if_index,
      name: d.interface_name,
      devType: d.interface_dev_type,
      mac: macText(d.l2_address),
      flags: d.flags,
      adminUp: (d.flags & IF_STATUS_ADMIN_UP) !== 0,
      linkUp: (d.flags & IF_STATUS_LINK_UP) !== 0,
      linkMtu: d.link_mtu,
      mtu: d.mtu,
      tag: d.tag,
    }));
  }

  /** Stops router advertisements on an IPv6-enabled interface (VPP sends them every 150-200 s by
   *  default, and a Linux pod behind it then takes VPP as its IPv6 default router). */
  async suppressRouterAdvertisements(swIfIndex: number): Promise<void> {
    await this.conn.request('sw_interface_ip6nd_ra_config', { sw_if_index: swIfIndex, suppress: 1 });
  }

  /** A learning, flooding bridge domain (bridge_domain_add_del_v2), or its removal; returns its id. */
  async bridgeDomain(bdId: number, isAdd: boolean, tag = ''): Promise<number> {
    const r = await this.conn.request('bridge_domain_add_del_v2', { bd_id: bdId, flood: true, uu_flood: true, forward: true, learn: true, arp_term: false, arp_ufwd: false, mac_age: 0, bd_tag: tag, is_add: isAdd });
    return isAdd ? r.bd_id : bdId;
  }

  async bridgeDomainDump(): Promise<Array<{ bdId: number; tag: string; swIfIndexes: number[] }>> {
    return (await this.conn.dump('bridge_domain_dump', { bd_id: ANY, sw_if_index: ANY })).map((d) => ({
      bdId: d.bd_id,
      tag: d.bd_tag,
      swIfIndexes: (d.sw_if_details as Msg[]).map((x) => x.sw_if_index),
    }));
  }

  /** Puts an interface into a bridge domain as an ordinary port, or back to L3. */
  async l2Bridge(swIfIndex: number, bdId: number, enable: boolean): Promise<void> {
    await this.conn.request('sw_interface_set_l2_bridge', { rx_sw_if_index: swIfIndex, bd_id: bdId, port_type: L2_API_PORT_TYPE_NORMAL, shg: 0, enable });
  }

  async createVlanSubif(swIfIndex: number, vlanId: number): Promise<number> {
    return (await this.conn.request('create_vlan_subif', { sw_if_index: swIfIndex, vlan_id: vlanId })).sw_if_index;
  }

  async deleteSubif(swIfIndex: number): Promise<void> {
    await this.conn.request('delete_subif', { sw_if_index: swIfIndex });
  }

  /** Tag rewrite on an L2 (sub-)interface; POP_1 strips the tag on ingress and pushes it back on egress. */
  async vlanTagRewrite(swIfIndex: number, op: number, tag1 = 0): Promise<void> {
    await this.conn.request('l2_interface_vlan_tag_rewrite', { sw_if_index: swIfIndex, vtr_op: op, push_dot1q: 1, tag1, tag2: 0 });
  }

  /** Registers a memif socket file; returns the socket id VPP chose. */
  async memifSocketAdd(path: string): Promise<number> {
    return (await this.conn.request('memif_socket_filename_add_del_v2', { is_add: true, socket_id: ANY, socket_filename: path })).socket_id;
  }

  async memifSocketDelete(socketId: number): Promise<void> {
    await this.conn.request('memif_socket_filename_add_del_v2', { is_add: false, socket_id: socketId, socket_filename: '' });
  }

  async memifCreate(o: MemifCreate): Promise<number> {
    const r = await this.conn.request('memif_create_v2', {
      role: o.role,
      mode: o.mode,
      rx_queues: 1,
      tx_queues: 1,
      id: o.id ?? 0,
      socket_id: o.socketId,
      ring_size: o.ringSize ?? 1024,
      buffer_size: o.bufferSize ?? 2048,
      no_zero_copy: false,
      use_dma: false,
      hw_addr: o.hwAddr ? mac(o.hwAddr) : Buffer.alloc(6),
      secret: o.secret ?? '',
    });
    return r.sw_if_index;
  }

  async memifDelete(swIfIndex: number): Promise<void> {
    await this.conn.request('memif_delete', { sw_if_index: swIfIndex });
  }

  async memifDump(): Promise<Array<{ swIfIndex: number; id: number; role: number; mode: number; socketId: number; name: string; linkUp: boolean }>> {
    return (await this.conn.dump('memif_dump')).map((d) => ({
      swIfIndex: d.sw_if_index,
      id: d.id,
      role: d.role,
      mode: d.mode,
      socketId: d.socket_id,
      name: d.if_name,
      linkUp: (d.flags & IF_STATUS_LINK_UP) !== 0,
    }));
  }

  async memifSocketDump(): Promise<Array<{ socketId: number; path: string }>> {
    return (await this.conn.dump('memif_socket_filename_dump')).map((d) => ({ socketId: d.socket_id, path: d.socket_filename }));
  }

  async ipTableDump(): Promise<Array<{ tableId: number; ipv6: boolean; name: string }>> {
    return (await this.conn.dump('ip_table_dump')).map(({ table: t }) => ({ tableId: t.table_id, ipv6: t.is_ip6, name: t.name }));
  }

  /** Routes of one table; next hops read by the route's family. */
  async ipRouteDump(tableId: number, ipv6: boolean): Promise<Array<{ prefix: string; paths: Array<{ swIfIndex: number; nextHop: string }> }>> {
    const rows = await this.conn.dump('ip_route_dump', { table: { table_id: tableId, is_ip6: ipv6, name: '' } });
    return rows.map(({ route: r }) => ({
      prefix: prefixText(r.prefix),
      paths: (r.paths as Msg[]).map((p) => ({ swIfIndex: p.sw_if_index, nextHop: addressText({ af: ipv6 ? 1 : 0, un: p.nh.address }) })),
    }));
  }

  async ipNeighborDump(ipv6: boolean, swIfIndex = ANY): Promise<Array<{ swIfIndex: number; ip: string; mac: string; flags: number }>> {
    return (await this.conn.dump('ip_neighbor_dump', { sw_if_index: swIfIndex, af: ipv6 ? 1 : 0 })).map(({ neighbor: n }) => ({
      swIfIndex: n.sw_if_index,
      ip: addressText(n.ip_address),
      mac: macText(n.mac_address),
      flags: n.flags,
    }));
  }

  async ipAddressDump(swIfIndex: number, ipv6: boolean): Promise<string[]> {
    return (await this.conn.dump('ip_address_dump', { sw_if_index: swIfIndex, is_ipv6: ipv6 })).map((d) => prefixText(d.prefix));
  }
}
