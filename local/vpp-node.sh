#!/usr/bin/env bash
# A node's VPP, run like a host service: the forwarder uses it (NSM_VPP_API_SOCKET) but does not own
# it, so VPP and the forwarder can each die and be restarted on their own (a VPP restart makes the
# forwarder exit and its successor rebuild). Usage: vpp-node.sh RUNDIR VPP_BINARY; RUNDIR/startup.conf
# is written by the local runtime (local/vpp.ts). SIGTERM stops VPP; its sockets and shared-memory
# files go with it, and those of a killed predecessor are removed before it starts.
set -uo pipefail
dir=$1
bin=$2
prefix=$(sed -n 's/^api-segment { prefix \(.*\) }$/\1/p' "$dir/startup.conf")
clean() {
  rm -f "$dir/api.sock" "$dir/cli.sock" "$dir/stats.sock"
  [ -z "$prefix" ] || rm -f /dev/shm/"$prefix"-*
}
clean
"$bin" -c "$dir/startup.conf" &
vpp=$!
trap 'kill -TERM "$vpp" 2>/dev/null' TERM INT
wait "$vpp"
rc=$?
# A trapped signal ends `wait` early: wait for VPP itself.
while kill -0 "$vpp" 2>/dev/null; do
  wait "$vpp"
  rc=$?
done
clean
exit "$rc"
