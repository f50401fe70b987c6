// The OVS bridge a forwarder owns, and what it made for each connection (kept in metadata).
import { createKey } from '@nsm/sdk/core/context';
import type { Ovs } from '../ovs';

export interface OvsBridge {
  ovs: Ovs;
  bridge: string;
  /** Told about a veth that already existed when a request needed it (adopted after a restart). */
  adopt?(hostName: string): void;
}

/**
 * One side of a connection: an OVS port (ofport > 0), or, for L3 cross-connects (WireGuard), a device
 * the node's kernel routes to (ofport 0, `routed` set).
 */
export interface PortRecord {
  name: string;
  ofport: number;
  /** Removes what was made for this side (port and device). Safe to call twice. */
  release(): Promise<void>;
  /**
   * Called once the cross-connect is in place. A pod that sent before it was (its interface has an
   * address and a route as soon as it exists) has an unresolved neighbour entry, and Linux asks again
   * only after a second: clearing it makes the next packet resolve at once.
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
