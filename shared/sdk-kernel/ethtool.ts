// Offload control. With the OVS userspace (netdev) datapath, TCP through a veth stalls unless the
// sending end computes checksums and segments itself: packets leave a veth with partial checksums
// and as GSO super-frames, which the userspace datapath forwards unchanged and the receiver drops.
// So the pod-side ends of OVS-joined connections get TX checksum, TSO and GSO turned off (see
// perf-notes.md). Connections joined in the kernel (tc) keep their offloads: they need none of this.
// Spoken over ethtool's generic netlink family (./netlink/ethtool.ts), not an `ethtool -K` process.
export { disableOffloads, OVS_NETDEV_OFFLOADS_OFF } from './netlink/ethtool';
