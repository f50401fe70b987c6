#!/bin/bash
# A pod's container set up as a container runtime would, then replaced by the pod's command.
# Runs as PID 1 of the pod's own PID namespace, inside its own mount, UTS and IPC namespaces
# (local/supervisor.ts starts it through `ip netns exec <pod netns> unshare ...`); mounts made here
# are private to the pod.
#   pod-init.sh HOSTNAME N SHARE_1 .. SHARE_N HIDE_1 .. HIDE_M -- COMMAND [ARG...]
# HOSTNAME: the pod's host name (its own UTS namespace). SHARE_i: folders of the host the pod keeps
# at the same path, as hostPath mounts (the node's NSM socket folder, the pod's Workload API socket
# folder, the pod's own folder). HIDE_j: folders replaced by an empty tmpfs of the pod's own (/tmp:
# a private /tmp; the mesh's folder, so that nothing of it but the shares is visible).
# Every value arrives as its own argument and is only ever quoted: nothing here is parsed as shell.
set -euo pipefail

host=$1
count=$2
shift 2
shares=("${@:1:count}")
shift "$count"
hides=()
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
  hides+=("$1")
  shift
done
[ "${1:-}" = -- ] || { echo "pod-init: no -- before the command" >&2; exit 2; }
shift
[ "$#" -gt 0 ] || { echo "pod-init: no command" >&2; exit 2; }

hostname "$host"

# The shares are bind-mounted onto a staging tmpfs first, since hiding a folder also hides what is
# under it; then moved back to their own paths on top of the hiding tmpfs.
stage=/mnt
mount -t tmpfs -o mode=0700,size=1m nsm-pod-stage "$stage"
for i in "${!shares[@]}"; do
  mkdir -p -- "${shares[$i]}"
  mkdir -- "$stage/$i"
  mount --bind -- "${shares[$i]}" "$stage/$i"
done
for h in "${hides[@]}"; do
  mount -t tmpfs -o mode=1777,size=64m nsm-pod-tmp "$h"
done
for i in "${!shares[@]}"; do
  mkdir -p -- "${shares[$i]}"
  mount --move -- "$stage/$i" "${shares[$i]}"
done
umount "$stage"

exec "$@"
