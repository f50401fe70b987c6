// Offload control. With the OVS userspace (netdev) datapath, TCP through a veth stalls unless the
// sending end computes checksums and segments itself: packets leave a veth with partial checksums
// and as GSO super-frames, which the userspace datapath forwards unchanged and the receiver drops.
// So the pod-side ends get TX checksum, TSO and GSO turned off (see perf-notes.md).
import { exec } from './exec';
import { assertIfName } from './names';
import { inNetnsArgv, NetnsRef } from './netns';

export const OVS_NETDEV_OFFLOADS_OFF: readonly string[] = ['tx', 'tso', 'gso'];

/** `ethtool -K IF <feature> off ...` inside `ns`; idempotent (turning off what is off is a no-op). */
export async function disableOffloads(ns: NetnsRef, ifName: string, features: readonly string[] = OVS_NETDEV_OFFLOADS_OFF): Promise<void> {
  assertIfName(ifName);
  if (features.length === 0) return;
  const args = features.flatMap((f) => [f, 'off']);
  await exec(inNetnsArgv(ns, ['ethtool', '-K', ifName, ...args]), { timeoutMs: 10_000 });
}
