// A veth pair whose host end stays in the forwarder's namespace and whose peer lands in a pod.
//
// The peer is created directly in the pod namespace (`... peer name TMP netns POD`): moving an
// existing link between namespaces costs ~10x more. It is created under a random temporary name and
// then renamed, because the kernel creates both ends atomically: with the final name, a name already
// taken in the pod would fail the whole `link add` with an ambiguous "File exists", and we could not
// tell whether the host or the pod name clashed. With the rename as a separate step a clash is
// reported precisely and the pair is deleted again, leaving nothing behind.
import { existsSync } from 'node:fs';
import { alreadyExists, invalidArgument, notFound } from '@nsm/sdk/core/errors';
import { ip, ipBatch, IpBatchError } from './ipbatch';
import { deleteLink, getLink } from './link';
import { assertIfName, tempIfName } from './names';
import { describeNetns, ipNetnsArg, Netns, NetnsRef } from './netns';

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
}

const EXISTS = /File exists/;
const BAD_NETNS = /Invalid "netns" value|Cannot open network namespace|No such file or directory/;

export async function createVethPair(spec: VethPairSpec): Promise<VethPair> {
  const { hostName, peerName, peerNetns } = spec;
  const hostNetns = spec.hostNetns;
  assertIfName(hostName);
  assertIfName(peerName);
  if (spec.mtu !== undefined && (!Number.isInteger(spec.mtu) || spec.mtu < 68 || spec.mtu > 65535)) {
    throw invalidArgument(`invalid MTU ${spec.mtu}`);
  }
  // Cheap early check (no process); the kernel's answer below covers a namespace vanishing meanwhile.
  for (const ns of [peerNetns, hostNetns]) {
    if (ns && !existsSync(ns.path)) throw notFound(`netns ${ns.label} does not exist`);
  }
  const up = spec.up ?? true;
  const mtu = spec.mtu !== undefined ? ` mtu ${spec.mtu}` : '';
  const result: VethPair = { hostName, hostNetns, peerName, peerNetns, existed: false };

  // 1. Both ends at once, the peer straight into the pod under a temporary name (kept down: a link
  //    must be down to be renamed).
  const tmp = tempIfName();
  try {
    await ip(hostNetns, `link add ${hostName}${mtu}${up ? ' up' : ''} type veth peer name ${tmp} netns ${ipNetnsArg(peerNetns)}${mtu}`);
  } catch (e) {
    if (!(e instanceof IpBatchError)) throw e;
    if (e.onlyFailuresMatching(EXISTS)) {
      if (await isSamePair(spec)) return { ...result, existed: true };
      throw alreadyExists(`interface ${hostName} already exists in netns ${describeNetns(hostNetns)}`, e);
    }
    if (e.onlyFailuresMatching(BAD_NETNS)) {
      throw notFound(`netns ${peerNetns.label} does not exist or cannot be opened`, e);
    }
    throw e;
  }

  // 2. Rename in the pod; on any failure remove the pair again (deleting one end deletes both).
  try {
    await ipBatch(peerNetns, [`link set dev ${tmp} name ${peerName}`, ...(up ? [`link set dev ${peerName} up`] : [])]);
  } catch (e) {
    await deleteLink(hostNetns, hostName).catch(() => deleteLink(peerNetns, tmp).catch(() => undefined));
    if (e instanceof IpBatchError && e.failures[0]?.line === 1 && EXISTS.test(e.failures[0].message)) {
      throw alreadyExists(`interface ${peerName} already exists in netns ${peerNetns.label}`, e);
    }
    throw e;
  }
  return result;
}

/**
 * Whether `hostName` is already a veth whose peer is `peerName` in `peerNetns`: then creation is a
 * repeat (refresh, or a restarted forwarder) and succeeds without changes. Peers are matched by the
 * ifindex the host end reports for its peer, which is unambiguous within the peer namespace.
 */
async function isSamePair(spec: VethPairSpec): Promise<boolean> {
  const host = await getLink(spec.hostNetns, spec.hostName);
  if (!host || host.kind !== 'veth' || host.peerIndex === undefined) return false;
  const peer = await getLink(spec.peerNetns, spec.peerName).catch(() => undefined);
  return peer !== undefined && peer.index === host.peerIndex;
}

/** Deletes the pair through its host end; idempotent. */
export function deleteVethPair(hostNetns: NetnsRef, hostName: string): Promise<void> {
  return deleteLink(hostNetns, hostName);
}
