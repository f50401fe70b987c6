// The OVS bridge a forwarder owns, and what it made for each connection (kept in metadata).
import { createKey } from '@nsm/sdk/core/context';
import type { Ovs } from '../ovs';

export interface OvsBridge {
  ovs: Ovs;
  bridge: string;
}

/** One side of a connection in OVS: the port's name and OpenFlow number. */
export interface PortRecord {
  name: string;
  ofport: number;
  /** Removes what was made for this side (port and device). */
  release(): Promise<void>;
}

/** Caller side (server half) and next-hop side (client half). */
export const serverPortKey = createKey<PortRecord>('ovs.serverPort');
export const clientPortKey = createKey<PortRecord>('ovs.clientPort');

/** external-ids that let a restarted forwarder recognise its predecessor's ports. */
export const EXT_CONN = 'nsm-connection-id';
export const EXT_SIDE = 'nsm-side';
