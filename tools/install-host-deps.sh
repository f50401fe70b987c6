#!/usr/bin/env bash
# Installs the host tools the forwarders and their tests drive: Open vSwitch (userspace datapath),
# iproute2, ethtool, iperf3, tcpdump, nsenter; strace (the fuzz test traces the programs the mesh
# starts); dnsmasq (dnsmasq-base: the binary only, no system service; the local runtime runs it as a
# pod's DNS server, `dnsServer:` in a topology); a C compiler with the C library's headers for the netlink addon
# (shared/sdk-kernel/netlink/addon, built by tools/build-addon.mjs; Node's own headers come with Node);
# and the Debian libraries the VPP runtime beside the repository (../shared/vpp/runtime, run by
# start-vpp.sh and the local runtime's VPP nodes) links against, with xz-utils to unpack it (its
# NOTICE lists them). For the multi-cluster local runtime (local/clusters.ts): dnsmasq (the internet's
# DNS server; dnsmasq-base has no system service, the runtime supervises its own), nftables (each
# cluster gateway's NAT) and dig (DNS queries from inside the nodes, in tests and examples).
#
# Idempotent: does nothing when every tool is already there, and runs `apt-get update` only when
# something has to be installed. The openvswitch-switch package's own system service is never
# started: our forwarder runs its own ovsdb-server/ovs-vswitchd per instance (see shared/sdk-ovs),
# and a system-wide pair would hold /var/run/openvswitch and confuse tests that look for leftovers.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-host-deps: must run as root" >&2
  exit 1
fi

# command that must exist -> Debian package that provides it
declare -A NEED=(
  [dnsmasq]=dnsmasq-base
  [ovs-vsctl]=openvswitch-switch
  [ovs-vswitchd]=openvswitch-switch
  [ovsdb-server]=openvswitch-switch
  [ovsdb-tool]=openvswitch-switch
  [ovs-ofctl]=openvswitch-switch
  [ip]=iproute2
  [ethtool]=ethtool
  [iperf3]=iperf3
  [tcpdump]=tcpdump
  [nsenter]=util-linux
  [ping]=iputils-ping
  [wireguard-go]=wireguard-go
  [wg]=wireguard-tools
  [cc]=gcc
  [strace]=strace
  [dnsmasq]=dnsmasq-base
  [nft]=nftables
  [dig]=bind9-dnsutils
)

missing=()
for cmd in "${!NEED[@]}"; do
  # sbin directories are not always on a non-login PATH.
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1; then
    missing+=("${NEED[$cmd]}")
  fi
done
[ -f /usr/share/openvswitch/vswitch.ovsschema ] || missing+=(openvswitch-switch)
# The addon includes <linux/netlink.h> and libc headers.
[ -f /usr/include/linux/netlink.h ] && [ -f /usr/include/stdio.h ] || missing+=(libc6-dev)

# Libraries (no command to look for): the VPP runtime's.
for pkg in libc6 libssl3 libunwind8 liblzma5 xz-utils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-host-deps: all present"
  exit 0
fi

# De-duplicate the package list.
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "install-host-deps: installing ${pkgs[*]}"

# policy-rc.d exiting 101 tells invoke-rc.d/deb-systemd-invoke not to start services during the
# install. Create it only if the host has none, and remove only what we created.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${pkgs[@]}"

# Belt and braces: on hosts with systemd, keep the system OVS service from starting at boot.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now openvswitch-switch.service >/dev/null 2>&1 || true
fi
echo "install-host-deps: done"
