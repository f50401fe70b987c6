// What a local mesh runs: nodes (each with an nsmgr and a forwarder, like DaemonSets), one registry,
// and pods (a network namespace with one NSM process in it). Read from YAML like a manifest.
import { parse } from 'yaml';

export type PodCommand = 'nsc' | 'nse-icmp-responder';

export interface PodSpec {
  name: string;
  node: string;
  command: PodCommand;
  env: Record<string, string>;
  /** The pod's app is a VPP (a memif peer) running beside its command: `nsm-local vppctl <pod> ...`. */
  vpp?: boolean;
}

export type ForwarderKind = 'ovs' | 'vpp';
export const FORWARDER_KINDS: ForwarderKind[] = ['ovs', 'vpp'];

export interface NodeSpec {
  name: string;
  /** Forwarder flavour: forwarder-ovs on the node's Open vSwitch, or forwarder-vpp on the node's VPP. */
  forwarder: ForwarderKind;
  /** VPP nodes: the forwarder starts VPP itself, inside its own "container" (as the image does),
   *  instead of VPP running as a node service beside it. */
  vppInForwarder?: boolean;
  env: Record<string, string>;
  /** Extra env for this node's forwarder only (after the topology-wide forwarderEnv). */
  forwarderEnv?: Record<string, string>;
}

/**
 * A network outside the mesh on the node network, VLAN-aware: its eth0 (on the fabric bridge) is a
 * trunk, and each VLAN ends in an interface `eth0.<id>` holding the given addresses. The breakout
 * target of the remote VLAN mechanism.
 */
export interface ExternalSpec {
  name: string;
  vlans: { id: number; addresses: string[] }[];
}

export interface Topology {
  nodes: NodeSpec[];
  pods: PodSpec[];
  externals: ExternalSpec[];
  /** Extra env for every nsmgr / forwarder / the registry. */
  nsmgrEnv: Record<string, string>;
  forwarderEnv: Record<string, string>;
  registryEnv: Record<string, string>;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$/;
const COMMANDS: PodCommand[] = ['nsc', 'nse-icmp-responder'];

function strMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where} must be a map of strings`);
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

export function parseTopology(text: string): Partial<Topology> {
  const doc = (parse(text) ?? {}) as Record<string, unknown>;
  const out: Partial<Topology> = {};
  if (doc.nodes !== undefined) {
    if (!Array.isArray(doc.nodes)) throw new Error('nodes must be a list');
    out.nodes = doc.nodes.map((n, i) => {
      const o = typeof n === 'string' ? { name: n } : (n as Record<string, unknown>);
      const name = String(o.name ?? '');
      if (!NAME.test(name)) throw new Error(`nodes[${i}].name "${name}" must be lower-case letters, digits and dashes (max 24)`);
      const forwarder = String(o.forwarder ?? 'ovs') as ForwarderKind;
      if (!FORWARDER_KINDS.includes(forwarder)) throw new Error(`nodes[${i}].forwarder "${forwarder}" must be one of ${FORWARDER_KINDS.join(', ')}`);
      if (o.vppInForwarder !== undefined && (typeof o.vppInForwarder !== 'boolean' || forwarder !== 'vpp')) throw new Error(`nodes[${i}].vppInForwarder must be true or false, on a vpp node`);
      return { name, forwarder, vppInForwarder: o.vppInForwarder === true, env: strMap(o.env, `nodes[${i}].env`), forwarderEnv: strMap(o.forwarderEnv, `nodes[${i}].forwarderEnv`) };
    });
  }
  if (doc.pods !== undefined) {
    if (!Array.isArray(doc.pods)) throw new Error('pods must be a list');
    out.pods = doc.pods.map((p, i) => {
      const o = p as Record<string, unknown>;
      const name = String(o.name ?? '');
      if (!NAME.test(name)) throw new Error(`pods[${i}].name "${name}" must be lower-case letters, digits and dashes (max 24)`);
      const command = String(o.command ?? '') as PodCommand;
      if (!COMMANDS.includes(command)) throw new Error(`pods[${i}].command must be one of ${COMMANDS.join(', ')}`);
      if (o.vpp !== undefined && typeof o.vpp !== 'boolean') throw new Error(`pods[${i}].vpp must be true or false`);
      return { name, node: String(o.node ?? 'node1'), command, env: strMap(o.env, `pods[${i}].env`), vpp: o.vpp === true };
    });
  }
  if (doc.externals !== undefined) {
    if (!Array.isArray(doc.externals)) throw new Error('externals must be a list');
    out.externals = doc.externals.map((x, i) => {
      const o = x as Record<string, unknown>;
      const name = String(o.name ?? '');
      if (!NAME.test(name)) throw new Error(`externals[${i}].name "${name}" must be lower-case letters, digits and dashes (max 24)`);
      if (!Array.isArray(o.vlans) || o.vlans.length === 0) throw new Error(`externals[${i}].vlans must be a non-empty list`);
      const vlans = o.vlans.map((v, j) => {
        const vo = v as Record<string, unknown>;
        const id = Number(vo.id);
        if (!Number.isInteger(id) || id < 1 || id > 4094) throw new Error(`externals[${i}].vlans[${j}].id must be a VLAN id 1-4094`);
        const addresses = Array.isArray(vo.addresses) ? vo.addresses.map(String) : vo.address !== undefined ? [String(vo.address)] : [];
        return { id, addresses };
      });
      return { name, vlans };
    });
  }
  out.nsmgrEnv = strMap(doc.nsmgrEnv, 'nsmgrEnv');
  out.forwarderEnv = strMap(doc.forwarderEnv, 'forwarderEnv');
  out.registryEnv = strMap(doc.registryEnv, 'registryEnv');
  return out;
}
