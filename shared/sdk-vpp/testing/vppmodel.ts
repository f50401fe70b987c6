// The state and the rules of a fake VPP, taught from what a real VPP 25.02 answered (the probes in
// ../realvpp.test.ts run against both, and must get the same retvals). Plugged into ScriptedVpp as its
// responder, it hands out sw_if_indexes, keeps interfaces, tables, routes, neighbours, tunnels and
// memif sockets, and refuses what VPP refuses: ADAPTIVE rx-mode on af_packet (-9), tap_create_v3
// without /dev/vhost-net (-11), a second address or a table change with addresses on (-105, -114), and
// so on. It also keeps VPP 25.02's upside-down sw_interface_ip4_enable_disable: `enable: true` adds a
// reason to drop IPv4 (ip4-not-enabled), `enable: false` takes one away; an IPv4 address takes one away.
import { addressText, prefixText } from '../addresses';
import { VppApi } from '../api';
import { ApiRegistry, Msg } from '../codec';
import { VppConnection } from '../connection';
import { VPP_DEFS } from '../defs';
import { Responder, ScriptedRequest, ScriptedVpp } from '../testing';

const ANY = 0xffffffff;

export interface ModelInterface {
  swIfIndex: number;
  kind: 'af_packet' | 'tap' | 'vxlan' | 'wireguard' | 'subif' | 'memif';
  name: string;
  up: boolean;
  table: { 4: number; 6: number };
  addrs: Set<string>;
  ip6: boolean;
  /** Reasons VPP drops IPv4 here (ip4-not-enabled instances); IPv4 works at 0. */
  ip4Off: number;
  hostIf?: string;
  parent?: number;
  vlan?: number;
  /** memif: socket id and interface id. */
  memif?: { socket: number; id: number };
  tag?: string;
  /** Bridge domain it is a port of. */
  bd?: number;
}

export interface VppModelOptions {
  /** Whether /dev/vhost-net exists (tap_create_v3 fails with -11 without it, as on this kernel). */
  vhostNet?: boolean;
  /** Host links af_packet may attach to; any name when unset. */
  hostLinks?: (name: string) => boolean;
  /** Whether WireGuard peers report the handshake done (a lone fake has nobody to shake hands with). */
  wgHandshakes?: boolean;
}

const fam = (a: { af: number }) => (a.af === 1 ? 6 : 4);

export class VppModel {
  readonly interfaces = new Map<number, ModelInterface>();
  readonly tables = new Set<string>(['4/0', '6/0']);
  readonly routes = new Set<string>();
  readonly neighbors = new Set<string>();
  readonly vxlan = new Map<string, number>();
  readonly wgPeers = new Map<number, number>();
  readonly memifSockets = new Map<number, string>();
  /** Bridge domains by id, with their tag. */
  readonly bridgeDomains = new Map<number, string>();
  private nextSw = 1;
  private nextPeer = 0;
  private nextSocket = 1000;

  constructor(private readonly o: VppModelOptions = {}) {}

  /** Whether VPP would process IPv4 arriving on this interface. */
  ip4Enabled(sw: number): boolean {
    return this.interfaces.get(sw)?.ip4Off === 0;
  }

  /** The responder for ScriptedVpp. */
  readonly respond: Responder = (req) => this.handle(req);

  private add(kind: ModelInterface['kind'], name: string, extra: Partial<ModelInterface> = {}): number {
    const swIfIndex = this.nextSw++;
    this.interfaces.set(swIfIndex, { swIfIndex, kind, name, up: false, table: { 4: 0, 6: 0 }, addrs: new Set(), ip6: false, ip4Off: 1, ...extra });
    return swIfIndex;
  }

  private handle({ name, msg: m }: ScriptedRequest): Msg | Msg[] | undefined {
    const sw = (x: number) => this.interfaces.get(x);
    const fail = (retval: number, extra: Msg = {}) => ({ retval, ...extra });
    const created = (x: number) => ({ sw_if_index: x });
    switch (name) {
      case 'af_packet_create_v3': {
        if (m.mode === 0) return fail(-7, { sw_if_index: 0 });
        if (this.o.hostLinks && !this.o.hostLinks(m.host_if_name)) return fail(-71, { sw_if_index: 0 });
        if ([...this.interfaces.values()].some((i) => i.kind === 'af_packet' && i.hostIf === m.host_if_name)) return fail(-79, { sw_if_index: 0 });
        return created(this.add('af_packet', `host-${m.host_if_name}`, { hostIf: m.host_if_name }));
      }
      case 'af_packet_delete': {
        const i = [...this.interfaces.values()].find((x) => x.kind === 'af_packet' && x.hostIf === m.host_if_name);
        if (!i) return fail(-11);
        return void this.remove(i.swIfIndex);
      }
      case 'tap_create_v3':
        if (!this.o.vhostNet) return fail(-11, { sw_if_index: ANY });
        return created(this.add('tap', `tap${this.nextSw}`));
      case 'tap_delete_v2':
      case 'wireguard_interface_delete':
      case 'memif_delete': {
        const kind = name === 'tap_delete_v2' ? 'tap' : name === 'memif_delete' ? 'memif' : 'wireguard';
        if (sw(m.sw_if_index)?.kind !== kind) return fail(-2);
        return void this.remove(m.sw_if_index);
      }
      case 'sw_interface_set_rx_mode':
        if (!sw(m.sw_if_index)) return fail(-2);
        if (m.mode === 3 && sw(m.sw_if_index)!.kind === 'af_packet') return fail(-9);
        return undefined;
      case 'sw_interface_set_flags':
        if (!sw(m.sw_if_index)) return fail(-2);
        sw(m.sw_if_index)!.up = (m.flags & 1) !== 0;
        return undefined;
      case 'sw_interface_ip6nd_ra_config':
        if (!sw(m.sw_if_index)) return fail(-2);
        return sw(m.sw_if_index)!.kind === 'wireguard' ? fail(-62) : undefined;
      case 'sw_interface_set_mtu':
        return sw(m.sw_if_index) ? undefined : fail(-2);
      case 'sw_interface_tag_add_del':
        if (!sw(m.sw_if_index)) return fail(-2);
        sw(m.sw_if_index)!.tag = m.is_add ? m.tag : undefined;
        return undefined;
      case 'bridge_domain_add_del_v2': {
        if (m.is_add) {
          let id = m.bd_id;
          if (id === ANY) for (id = 1; this.bridgeDomains.has(id); id++);
          else if (this.bridgeDomains.has(id)) return fail(-119, { bd_id: ANY });
          this.bridgeDomains.set(id, m.bd_tag);
          return { bd_id: id };
        }
        if (!this.bridgeDomains.has(m.bd_id)) return fail(-6, { bd_id: ANY });
        if ([...this.interfaces.values()].some((i) => i.bd === m.bd_id)) return fail(-120, { bd_id: ANY });
        this.bridgeDomains.delete(m.bd_id);
        return { bd_id: m.bd_id };
      }
      case 'sw_interface_set_l2_bridge': {
        const i = sw(m.rx_sw_if_index);
        if (!i) return fail(-2);
        // VPP makes a bridge domain it does not know (untagged).
        if (m.enable && !this.bridgeDomains.has(m.bd_id)) this.bridgeDomains.set(m.bd_id, '');
        i.bd = m.enable ? m.bd_id : undefined;
        return undefined;
      }
      case 'bridge_domain_dump':
        return [...this.bridgeDomains].map(([id, tag]) => ({ bd_id: id, bd_tag: tag, n_sw_ifs: 0, sw_if_details: [...this.interfaces.values()].filter((i) => i.bd === id).map((i) => ({ sw_if_index: i.swIfIndex })) }));
      case 'wireguard_peers_dump':
        return [...this.wgPeers].map(([peer_index, sw_if_index]) => ({ peer: { peer_index, sw_if_index, flags: this.o.wgHandshakes ? 2 : 0, endpoint: { af: 0, un: { ip4: Buffer.alloc(4) } }, allowed_ips: [] } }));
      case 'sw_interface_set_l2_xconnect':
        return sw(m.rx_sw_if_index) && sw(m.tx_sw_if_index) ? undefined : fail(-2);
      case 'sw_interface_add_del_address': {
        const i = sw(m.sw_if_index);
        if (!i) return fail(-2);
        if (m.del_all) {
          if ([...i.addrs].some((a) => !a.includes(':'))) i.ip4Off++;
          i.addrs.clear();
          return undefined;
        }
        const p = prefixText(m.prefix);
        const v4 = fam(m.prefix.address) === 4;
        const v4Before = [...i.addrs].some((a) => !a.includes(':'));
        if (m.is_add) {
          // VPP refuses an address another interface of the same table holds, whatever the prefix length.
          const ip = p.split('/')[0];
          const f = v4 ? 4 : 6;
          if ([...this.interfaces.values()].some((x) => x.table[f] === i.table[f] && [...x.addrs].some((a) => a.split('/')[0] === ip))) return fail(-105);
          i.addrs.add(p);
          if (v4 && !v4Before) i.ip4Off = Math.max(0, i.ip4Off - 1);
          if (!v4) i.ip6 = true;
        } else {
          if (!i.addrs.delete(p)) return fail(-60);
          if (v4 && ![...i.addrs].some((a) => !a.includes(':'))) i.ip4Off++;
        }
        return undefined;
      }
      case 'sw_interface_set_table': {
        const i = sw(m.sw_if_index);
        if (!i) return fail(-2);
        const f = m.is_ipv6 ? 6 : 4;
        if (m.vrf_id !== 0 && !this.tables.has(`${f}/${m.vrf_id}`)) return fail(-3);
        if ([...i.addrs].some((a) => a.includes(':') === (f === 6))) return fail(-114);
        i.table[f] = m.vrf_id;
        return undefined;
      }
      case 'sw_interface_ip4_enable_disable': {
        const i = sw(m.sw_if_index);
        if (!i) return fail(-2);
        i.ip4Off = m.enable ? i.ip4Off + 1 : Math.max(0, i.ip4Off - 1);
        return undefined;
      }
      case 'sw_interface_ip6_enable_disable': {
        const i = sw(m.sw_if_index);
        if (!i) return fail(-2);
        if (m.enable && i.ip6) return fail(-81);
        i.ip6 = m.enable;
        return undefined;
      }
      case 'ip_table_add_del': {
        const key = `${m.table.is_ip6 ? 6 : 4}/${m.table.table_id}`;
        if (m.is_add) this.tables.add(key);
        else if (m.table.table_id !== 0) this.tables.delete(key);
        return undefined;
      }
      case 'ip_route_add_del': {
        const f = fam(m.route.prefix.address);
        if (!this.tables.has(`${f}/${m.route.table_id}`)) return m.is_add ? fail(-3) : undefined;
        const key = `${f}/${m.route.table_id} ${prefixText(m.route.prefix)}`;
        if (m.is_add) this.routes.add(key);
        else this.routes.delete(key);
        return undefined;
      }
      case 'ip_neighbor_add_del': {
        const n = m.neighbor;
        if (!sw(n.sw_if_index)) return fail(-2);
        const key = `${n.sw_if_index} ${addressText(n.ip_address)}`;
        if (m.is_add) this.neighbors.add(key);
        else if (!this.neighbors.delete(key)) return fail(-6);
        return undefined;
      }
      case 'vxlan_add_del_tunnel_v3': {
        const src = addressText(m.src_address);
        const dst = addressText(m.dst_address);
        if (src === dst) return fail(-82, { sw_if_index: ANY });
        const key = `${src} ${dst} ${m.vni}`;
        const have = this.vxlan.get(key);
        if (m.is_add) {
          if (have !== undefined) return fail(-75, { sw_if_index: ANY });
          const x = this.add('vxlan', `vxlan_tunnel${this.vxlan.size}`);
          this.vxlan.set(key, x);
          return created(x);
        }
        if (have === undefined) return fail(-6, { sw_if_index: ANY });
        this.vxlan.delete(key);
        this.remove(have);
        return created(have);
      }
      case 'wireguard_interface_create':
        return created(this.add('wireguard', `wg${this.nextSw}`));
      case 'wireguard_peer_add': {
        if (sw(m.peer.sw_if_index)?.kind !== 'wireguard') return fail(-2, { peer_index: ANY });
        const p = this.nextPeer++;
        this.wgPeers.set(p, m.peer.sw_if_index);
        return { peer_index: p };
      }
      case 'wireguard_peer_remove':
        return this.wgPeers.delete(m.peer_index) ? undefined : fail(-6);
      case 'create_vlan_subif': {
        const parent = sw(m.sw_if_index);
        if (!parent) return fail(-2, { sw_if_index: ANY });
        if (m.vlan_id < 1 || m.vlan_id > 4095) return fail(-55, { sw_if_index: ANY });
        if ([...this.interfaces.values()].some((i) => i.parent === m.sw_if_index && i.vlan === m.vlan_id)) return fail(-56, { sw_if_index: ANY });
        return created(this.add('subif', `${parent.name}.${m.vlan_id}`, { parent: m.sw_if_index, vlan: m.vlan_id }));
      }
      case 'delete_subif': {
        const i = sw(m.sw_if_index);
        if (!i) return fail(-2);
        if (i.kind !== 'subif') return fail(-98);
        return void this.remove(i.swIfIndex);
      }
      case 'l2_interface_vlan_tag_rewrite': {
        const i = sw(m.sw_if_index);
        if (!i) return fail(-2);
        return m.vtr_op !== 0 && i.kind !== 'subif' ? fail(-72) : undefined;
      }
      case 'memif_socket_filename_add_del_v2': {
        if (m.is_add) {
          const id = m.socket_id === ANY ? this.nextSocket++ : m.socket_id;
          this.memifSockets.set(id, m.socket_filename);
          return { socket_id: id };
        }
        if (!this.memifSockets.has(m.socket_id)) return fail(-73, { socket_id: m.socket_id });
        if ([...this.interfaces.values()].some((i) => i.memif?.socket === m.socket_id)) return fail(-74, { socket_id: m.socket_id });
        this.memifSockets.delete(m.socket_id);
        return { socket_id: m.socket_id };
      }
      case 'memif_create_v2': {
        if (!this.memifSockets.has(m.socket_id)) return fail(-73, { sw_if_index: ANY });
        if ([...this.interfaces.values()].some((i) => i.memif?.socket === m.socket_id && i.memif?.id === m.id)) return fail(-68, { sw_if_index: ANY });
        return created(this.add('memif', `memif${m.socket_id}/${m.id}`, { memif: { socket: m.socket_id, id: m.id } }));
      }
      case 'sw_interface_dump':
        return [{ sw_if_index: 0, interface_name: 'local0' }, ...[...this.interfaces.values()].map((i) => ({ sw_if_index: i.swIfIndex, sup_sw_if_index: i.parent ?? i.swIfIndex, interface_name: i.name, flags: i.up ? 1 : 0, tag: i.tag ?? '' }))].filter(
          (r) => (m.sw_if_index === ANY || r.sw_if_index === m.sw_if_index) && (!m.name_filter_valid || r.interface_name.includes(m.name_filter)),
        );
      default:
        return undefined;
    }
  }

  private remove(sw: number) {
    this.interfaces.delete(sw);
    for (const n of [...this.neighbors]) if (n.startsWith(`${sw} `)) this.neighbors.delete(n);
    for (const [p, s] of [...this.wgPeers]) if (s === sw) this.wgPeers.delete(p);
  }
}

/** A message table with made-up ids for every message the shipped definitions know (ids only need to be
 *  consistent between the fake and the client). */
export function syntheticMessageTable(registry: ApiRegistry): Array<{ index: number; name: string }> {
  const names = registry.messageNames().filter((n) => !n.startsWith('sockclnt_create'));
  return [
    { index: 15, name: registry.nameWithCrc('sockclnt_create') },
    { index: 16, name: registry.nameWithCrc('sockclnt_create_reply') },
    ...names.map((n, i) => ({ index: 100 + i, name: registry.nameWithCrc(n) })),
  ];
}

/** A ScriptedVpp answering by `model`, and a client connected to it. */
export async function startModelVpp(model: VppModel): Promise<{ vpp: ScriptedVpp; conn: VppConnection; api: VppApi; stop(): Promise<void> }> {
  const registry = new ApiRegistry(VPP_DEFS);
  const vpp = await ScriptedVpp.start(registry, syntheticMessageTable(registry), model.respond);
  const conn = await VppConnection.connect(vpp.path, { timeoutMs: 2000 });
  return {
    vpp,
    conn,
    api: new VppApi(conn),
    async stop() {
      await conn.close();
      await vpp.stop();
    },
  };
}
