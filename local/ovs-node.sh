#!/usr/bin/env bash
# A node's Open vSwitch with the userspace (netdev) datapath, run like a host service: the forwarder
# uses it (NSM_OVS_DB_SOCKET) but does not own it, so a forwarder that dies or restarts leaves the
# data path up. Usage: ovs-node.sh RUNDIR. SIGTERM stops both daemons and removes their devices.
set -uo pipefail
dir=$1
mkdir -p "$dir"
export OVS_RUNDIR=$dir OVS_DBDIR=$dir OVS_LOGDIR=$dir OVS_PKGDATADIR=/usr/share/openvswitch
[ -f "$dir/conf.db" ] || ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" --pidfile="$dir/ovsdb-server.pid" \
  --unixctl="$dir/ovsdb-server.ctl" --log-file="$dir/ovsdb-server.log" --no-chdir &
db=$!
for _ in $(seq 100); do [ -S "$dir/db.sock" ] && break; sleep 0.05; done
ovs-vswitchd "unix:$dir/db.sock" --pidfile="$dir/ovs-vswitchd.pid" --unixctl="$dir/ovs-vswitchd.ctl" \
  --log-file="$dir/ovs-vswitchd.log" --no-chdir &
vs=$!
stop() {
  ovs-appctl -t "$dir/ovs-vswitchd.ctl" exit --cleanup >/dev/null 2>&1 || kill "$vs" 2>/dev/null
  ovs-appctl -t "$dir/ovsdb-server.ctl" exit >/dev/null 2>&1 || kill "$db" 2>/dev/null
  wait
  exit 0
}
trap stop TERM INT
# Either daemon dying takes the other down: the supervisor restarts the pair.
wait -n
kill "$vs" "$db" 2>/dev/null
exit 1
