// createVethPair / deleteVethPair of ../veth.ts (same contract) over netlink: the pair is created
// in one request with the peer already in the pod under its final name, then the peer is set up.
//
// ../veth.ts creates the peer under a temporary name and renames it, because `ip` reports a clash
// of either name as the same "File exists". Here creation is atomic (both ends or neither), so
// there is no half-made pair to recover and no temporary name: on EEXIST two lookups tell whether
// the pair already exists as asked (a repeat, e.g. after a forwarder restart: success) or which of
// the two names is taken (ALREADY_EXISTS naming it).
import { existsSync } from 'node:fs';
import { Code, StatusError } from '@nsm/sdk/core/errors';
import type { VethPair, VethPairSpec } from '../veth';
import { assertIfName } from '../names';
import { describeNetns, NetnsRef } from '../netns';
import { isErrno } from './errors';
import { defaultNetlink, NetlinkCache } from './handles';
import { addVeth, assertMtu, deleteLink, getLink } from './link';

export interface NlVethPairSpec extends VethPairSpec {
  /** IFLA_IFALIAS of the host end: lets a restarted forwarder find what it made (e.g. the connection id). */
  alias?: string;
  /** Bring the pod end up too (default: as `up`); false when the caller configures it right after. */
  peerUp?: boolean;
  /** Create through the threadpool: the calling thread goes on while the kernel makes the pair. */
  offThread?: boolean;
}

export async function createVethPair(spec: NlVethPairSpec, nl: NetlinkCache = defaultNetlink()): Promise<VethPair> {
  const { hostName, peerName, peerNetns, hostNetns } = spec;
  assertIfName(hostName);
  assertIfName(peerName);
  if (spec.mtu !== undefined) assertMtu(spec.mtu);
  for (const ns of [peerNetns, hostNetns]) {
    if (ns && !existsSync(ns.path)) throw new StatusError(Code.NOT_FOUND, `netns ${ns.label} does not exist`);
  }
  const result: VethPair = { hostName, hostNetns, peerName, peerNetns, existed: false };
  try {
    const made = await addVeth(hostNetns, { name: hostName, peerName, peerNetns, mtu: spec.mtu, up: spec.up ?? true, peerUp: spec.peerUp, alias: spec.alias, offThread: spec.offThread }, nl);
    return { ...result, hostIndex: made.index, peerIndex: made.peerIndex };
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw e;
    if (await isSamePair(spec, nl)) return { ...result, existed: true };
    if (await getLink(hostNetns, hostName, nl)) {
      throw new StatusError(Code.ALREADY_EXISTS, `interface ${hostName} already exists in netns ${describeNetns(hostNetns)}`, { cause: e });
    }
    throw new StatusError(Code.ALREADY_EXISTS, `interface ${peerName} already exists in netns ${peerNetns.label}`, { cause: e });
  }
}

/** `hostName` is a veth whose peer is `peerName` in `peerNetns` (matched by the peer's ifindex). */
async function isSamePair(spec: VethPairSpec, nl: NetlinkCache): Promise<boolean> {
  const host = await getLink(spec.hostNetns, spec.hostName, nl);
  if (!host || host.kind !== 'veth' || host.link === undefined) return false;
  const peer = await getLink(spec.peerNetns, spec.peerName, nl).catch(() => undefined);
  return peer !== undefined && peer.index === host.link;
}

/** Deletes the pair through its host end; idempotent. */
export function deleteVethPair(hostNetns: NetnsRef, hostName: string, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  return deleteLink(hostNetns, hostName, nl);
}
