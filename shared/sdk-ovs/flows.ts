// OpenFlow rule text for NSM cross-connects, the cookie that tags a connection's rules, and a parser
// for `ovs-ofctl dump-flows` output. Pure functions: no OVS needed to test them.
import { createHash } from 'node:crypto';
import { invalidArgument } from '@nsm/sdk/core/errors';

/** Upstream installs every NSM rule at this priority. */
export const NSM_FLOW_PRIORITY = 100;

/**
 * A port in a rule: its OpenFlow number (from Ovs.addPorts / Ovs.ofports). Not names: resolving
 * names makes every ovs-ofctl call download the switch's table descriptions first.
 */
export type PortRef = number;

function port(p: PortRef): number {
  if (!Number.isInteger(p) || p < 1 || p > 0xfeff) throw invalidArgument(`invalid OpenFlow port number ${p}`);
  return p;
}

/**
 * A 64-bit cookie derived from the connection id, as "0x" + 16 hex digits. All rules of a
 * connection carry it, so they can be removed exactly (`del-flows cookie=C/-1`) and found again by a
 * restarted forwarder. 0 and all-ones are avoided: OVS treats all-ones as "no cookie" in some requests.
 */
export function flowCookie(connectionId: string): string {
  let hex = createHash('sha256').update(connectionId).digest('hex').slice(0, 16);
  if (/^0+$/.test(hex) || /^f+$/i.test(hex)) hex = `1${hex.slice(1)}`;
  return `0x${hex}`;
}

function rule(cookie: string, match: string, actions: string, priority = NSM_FLOW_PRIORITY): string {
  return `cookie=${cookie},priority=${priority},${match},actions=${actions}`;
}

/** Kernel <-> kernel on one node: everything from A goes out of B and back. */
export function crossConnectFlows(a: PortRef, b: PortRef, cookie: string, priority = NSM_FLOW_PRIORITY): string[] {
  port(a);
  port(b);
  return [rule(cookie, `in_port=${a}`, `output:${b}`, priority), rule(cookie, `in_port=${b}`, `output:${a}`, priority)];
}

/**
 * Kernel <-> kernel where `trunk` carries VLAN `vlan` (NSE-side trunking): frames from the trunk with
 * that tag are untagged towards `access`; frames from `access` are tagged towards the trunk.
 */
export function vlanFlows(trunk: PortRef, access: PortRef, vlan: number, cookie: string, priority = NSM_FLOW_PRIORITY): string[] {
  assertVlan(vlan);
  port(trunk);
  port(access);
  return [
    rule(cookie, `in_port=${trunk},dl_vlan=${vlan}`, `strip_vlan,output:${access}`, priority),
    // OpenFlow 1.3 vlan_vid carries the "VLAN present" bit (0x1000) next to the 12-bit id.
    rule(cookie, `in_port=${access}`, `push_vlan:0x8100,set_field:${vlan + 4096}->vlan_vid,output:${trunk}`, priority),
  ];
}

/**
 * A VLAN on a shared uplink with several member ports (VLAN breakout): each member's frames go to the
 * other members and out of the uplink tagged (one rule per member, under the member's cookie); the
 * VLAN's frames from the uplink are untagged to every member (one rule, under the VLAN's cookie).
 * All are rewritten as members come and go. Like a hub: a member's kernel ignores unicast frames for
 * another member's MAC.
 */
export function vlanUplinkMemberFlow(uplink: PortRef, member: PortRef, vlan: number, cookie: string, peers: readonly PortRef[] = [], priority = NSM_FLOW_PRIORITY): string {
  assertVlan(vlan);
  // Untagged to the other members of the VLAN first, then tagged out of the uplink.
  const toPeers = peers.map((p) => `output:${port(p)},`).join('');
  return rule(cookie, `in_port=${port(member)}`, `${toPeers}push_vlan:0x8100,set_field:${vlan + 4096}->vlan_vid,output:${port(uplink)}`, priority);
}

export function vlanUplinkDownFlow(uplink: PortRef, members: readonly PortRef[], vlan: number, cookie: string, priority = NSM_FLOW_PRIORITY): string {
  assertVlan(vlan);
  if (members.length === 0) throw invalidArgument('a VLAN downlink rule needs at least one member port');
  return rule(cookie, `in_port=${port(uplink)},dl_vlan=${vlan}`, `strip_vlan,${members.map((m) => `output:${port(m)}`).join(',')}`, priority);
}

/** Kernel <-> VXLAN: the VNI is chosen per connection by tun_id on a shared `options:key=flow` port. */
export function vxlanFlows(local: PortRef, tunnel: PortRef, vni: number, cookie: string, priority = NSM_FLOW_PRIORITY): string[] {
  if (!Number.isInteger(vni) || vni < 0 || vni > 0xffffff) throw invalidArgument(`invalid VNI ${vni}`);
  port(local);
  port(tunnel);
  return [rule(cookie, `in_port=${local}`, `set_field:${vni}->tun_id,output:${tunnel}`, priority), rule(cookie, `in_port=${tunnel},tun_id=${vni}`, `output:${local}`, priority)];
}

export function assertVlan(vlan: number): void {
  if (!Number.isInteger(vlan) || vlan < 1 || vlan > 4094) throw invalidArgument(`invalid VLAN id ${vlan}`);
}

export interface Flow {
  cookie: string;
  table: number;
  priority: number;
  nPackets: number;
  nBytes: number;
  /** Match fields as printed, e.g. "in_port=2" or "in_port=1,dl_vlan=10". */
  match: string;
  actions: string;
  raw: string;
}

// Fields ovs-ofctl prints before the match that are not part of it.
const META = new Set(['cookie', 'duration', 'table', 'n_packets', 'n_bytes', 'idle_age', 'hard_age', 'idle_timeout', 'hard_timeout', 'importance', 'reset_counts', 'send_flow_rem', 'check_overlap', 'no_packet_counts', 'no_byte_counts']);

/** Parses `ovs-ofctl dump-flows` output (any OpenFlow version); header lines are skipped. */
export function parseDumpFlows(text: string): Flow[] {
  const flows: Flow[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const at = line.indexOf(' actions=');
    if (!line || at < 0 || /^(OFPST|NXST)_FLOW/.test(line)) continue;
    const head = line.slice(0, at);
    const actions = line.slice(at + ' actions='.length);
    const flow: Flow = { cookie: '0x0', table: 0, priority: 32768, nPackets: 0, nBytes: 0, match: '', actions, raw: line };
    const match: string[] = [];
    for (const part of head.split(',').map((p) => p.trim()).filter(Boolean)) {
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? '' : part.slice(eq + 1);
      if (key === 'cookie') flow.cookie = value;
      else if (key === 'table') flow.table = Number(value);
      else if (key === 'n_packets') flow.nPackets = Number(value);
      else if (key === 'n_bytes') flow.nBytes = Number(value);
      else if (key === 'priority') flow.priority = Number(value);
      else if (!META.has(key)) match.push(part);
    }
    flow.match = match.join(',');
    flows.push(flow);
  }
  return flows;
}
