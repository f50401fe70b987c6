// A veth pair whose host end stays in the forwarder's namespace and whose peer lands in a pod.
//
// Created over rtnetlink in one request (./netlink/veth.ts) with the peer made directly in the pod
// namespace under its final name: moving an existing link between namespaces costs ~10x more, and
// the kernel creates both ends atomically, so a clash of either name leaves nothing behind. A pair
// that already exists as asked (a refresh, or a restarted forwarder) is reported with `existed`.
export { createVethPair, deleteVethPair } from './netlink/veth';
import type { Netns, NetnsRef } from './netns';

export interface VethPairSpec {
  /** Name of the end that stays in `hostNetns` (e.g. the OVS port). */
  hostName: string;
  /** Where the host end lives; undefined = this process's namespace. */
  hostNetns?: NetnsRef;
  /** Final name of the pod-side end (the mechanism's `name`, e.g. nsm-1). */
  peerName: string;
  peerNetns: Netns;
  /** Applied to both ends at creation; the kernel default (1500) when omitted. */
  mtu?: number;
  /** Set both ends administratively up (default true). */
  up?: boolean;
}

export interface VethPair {
  hostName: string;
  hostNetns: NetnsRef;
  peerName: string;
  peerNetns: Netns;
  /** True when an identical pair already existed (e.g. made by a forwarder before a restart). */
  existed: boolean;
  /** Interface indexes of both ends, when the kernel reported them at creation (saves looking them up). */
  hostIndex?: number;
  peerIndex?: number;
}
