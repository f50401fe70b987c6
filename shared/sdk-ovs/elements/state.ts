// The OVS bridge a forwarder owns, how it joins the two sides of a connection, and what it made for
// each connection (kept in metadata).
import { createKey } from '@nsm/sdk/core/context';
import type { Netns } from '@nsm/sdk-kernel/netns';
import type { Ovs } from '../ovs';

/**
 * How two kernel devices on the node are joined (NSM_DATAPATH):
 *  - `auto`: in the kernel with tc redirects when both sides are plain kernel devices (veth, VXLAN
 *    device), through Open vSwitch when a side needs it (a VLAN trunk toward an endpoint, a VLAN
 *    breakout uplink);
 *  - `tc`: only in the kernel; a connection that would need Open vSwitch is refused;
 *  - `ovs`: always through Open vSwitch (OpenFlow rules), as before the kernel fast path.
 * WireGuard devices carry IP only and are joined by kernel routing whatever the setting.
 */
export type DatapathMode = 'auto' | 'tc' | 'ovs';
export const DATAPATH_MODES = ['auto', 'tc', 'ovs'] as const;

/** How one connection was joined: what logs show and tests check. */
export type ConnectionPath = 'tc' | 'ovs' | 'routed';

export interface OvsBridge {
  ovs: Ovs;
  bridge: string;
  /** Default `auto`. */
  datapath?: DatapathMode;
  /** Told about a veth that already existed when a request needed it (adopted after a restart). */
  adopt?(hostName: string): void;
}

/**
 * One side of a connection: a device in the forwarder's namespace. The mechanism elements make it;
 * the xconnect element joins it with the other side: tc redirects between the two devices, or OVS
 * ports and OpenFlow rules (it then adds the device to the bridge itself), or kernel routing for an
 * L3 device (WireGuard: `routed`).
 */
export interface PortRecord {
  /** The device in the forwarder's namespace (a veth's host end, a VXLAN or WireGuard device, a trunk, an uplink). */
  name: string;
  /** Its interface index, when known from its creation (a tc join then need not look it up). */
  index?: number;
  /**
   * OpenFlow port when the device is already a bridge port this side does not own alone (a VLAN
   * trunk shared by connections, the VLAN uplink): such a side can only be joined through OVS.
   * 0 for a device the xconnect element may join either way.
   */
  ofport: number;
  /** external-ids value of EXT_SIDE when the xconnect element makes the device an OVS port. */
  side?: string;
  /** For a veth: its pod end, whose offloads go off when it is joined through the OVS userspace datapath. */
  pod?: { netns: Netns; name: string };
  /** The device existed already (left by a forwarder before a restart) and was adopted. */
  existed?: boolean;
  /** Removes what was made for this side (the device). Safe to call twice. */
  release(): Promise<void>;
  /**
   * Called once the cross-connect is in place. A pod that sent before it was (its interface has an
   * address and a route as soon as it exists, and the other side's may not be up yet) has an
   * unresolved neighbour entry, and Linux asks again only after a second (the delay once seen on new
   * OVS ports, and on tc joins alike): clearing it makes the next packet resolve at once.
   */
  settle?(): Promise<void>;
  /** This port is a trunk: the connection's frames carry this VLAN id on it. */
  vlan?: number;
  /**
   * Installs the cross-connect with the other side's OpenFlow port itself (a port shared by several
   * connections, e.g. the VLAN uplink); returns what removes it. Used instead of the plain rules.
   */
  crossConnect?(other: number, cookie: string): Promise<() => Promise<void>>;
  /** Present when this side is cross-connected by kernel routing rather than OpenFlow. */
  routed?: {
    /** For a veth: MAC of the pod end (the node's static neighbour for the pod's addresses). */
    podMac?: string;
  };
}

/** Caller side (server half) and next-hop side (client half). */
export const serverPortKey = createKey<PortRecord>('ovs.serverPort');
export const clientPortKey = createKey<PortRecord>('ovs.clientPort');

/**
 * Server half: this connection is cross-connected by kernel routing (an L3 tunnel, WireGuard), so
 * the kernel elements keep their veth out of OVS and give the pod static neighbours.
 */
export const routedKey = createKey<boolean>('ovs.routed');

/** external-ids that let a restarted forwarder recognise its predecessor's ports. */
export const EXT_CONN = 'nsm-connection-id';
export const EXT_SIDE = 'nsm-side';

/** Makes a release function safe to call more than once. */
export function once(f: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= f());
}
