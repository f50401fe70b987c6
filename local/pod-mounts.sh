#!/bin/sh
# Runs a pod's process with the pod's own /etc/resolv.conf: started by the runtime as
#   unshare --mount --propagation slave -- sh pod-mounts.sh <pod's resolv.conf> <argv...>
# so the bind mount is made in a mount namespace of the process's own (a slave: mounts of the host still
# appear in it, as under `ip netns exec`, but none made in it goes back) and never reaches the node's
# or the host's file. The arguments are passed on as they are ("$@"), never read as shell text.
set -eu
resolv=$1
shift
mount --bind "$resolv" /etc/resolv.conf
exec "$@"
