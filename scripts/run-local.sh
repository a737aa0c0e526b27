#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-local.sh - what `make run` starts: a stream manager (SQLite, local controller) with one
# node group of an origin and the policy's minimum edges, each a `sluice node` on its own
# 127.0.1.N address; then where to publish and watch.  Ctrl-C stops the manager, which stops
# the nodes it started (and nothing else).
set -eu
bin=${1:-build/sluice}
state=${SLUICE_STATE:-${TMPDIR:-/tmp}/sluice-local-$(id -u)}
listen=${SLUICE_MANAGER_LISTEN:-127.0.0.1:5070}
base=${SLUICE_NODE_BASE:-127.0.1}
mkdir -p "$state"
rm -f "$state/manager.db" "$state/manager.db-wal" "$state/manager.db-shm"
token=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
umask 077
printf 'admin-token = %s\ncluster-secret = %s\n' "$token" "$secret" >"$state/manager.conf"

"$bin" manager --config "$state/manager.conf" --listen "$listen" --db "sqlite:$state/manager.db" \
	--local-addr-base "$base" --node-dir "$state/nodes" --stop-nodes-on-exit \
	--drain-timeout 2m 2>"$state/manager.log" &
mgr=$!
stop() {
	trap - INT TERM EXIT
	kill "$mgr" 2>/dev/null || true
	wait "$mgr" 2>/dev/null || true
	echo "stopped the manager and its nodes (logs in $state)"
}
trap stop INT TERM EXIT

export SLUICE_MANAGER="http://$listen" SLUICE_TOKEN="$token"
ctl() { "$bin" ctl "$@"; }
i=0
until ctl status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 "$mgr" 2>/dev/null; then
		echo "the manager did not start:" >&2
		cat "$state/manager.log" >&2
		exit 1
	fi
	sleep 0.1
done

cat >"$state/launchconfig.json" <<JSON
{"launchconfig": {"name": "local", "description": "sluice nodes on this machine",
  "image": "sluice", "version": "0.0.1",
  "targets": {"target": [
    {"role": "origin", "instanceType": "local", "connectionCapacity": "500"},
    {"role": "edge", "instanceType": "local", "connectionCapacity": "200"}]}}}
JSON
cat >"$state/policy.json" <<JSON
{"policy": {"name": "local", "description": "1 origin, 1 to 3 edges", "version": "0.0.1",
  "targets": {"target": [
    {"role": "origin", "minLimit": "1", "maxLimit": "1", "scaleAdjustment": "1",
     "coolDownPeriod": "60000", "estimatedWarmUpTime": "10000"},
    {"role": "edge", "minLimit": "1", "maxLimit": "3", "scaleAdjustment": "1",
     "coolDownPeriod": "30000", "estimatedWarmUpTime": "10000"}]}}}
JSON
ctl launchconfig create "$state/launchconfig.json" >/dev/null
ctl policy create "$state/policy.json" >/dev/null
ctl group create --name local --launch-config local --scale-policy local --replace-dead >/dev/null
ctl group add-origin local >/dev/null

i=0
until [ "$(ctl --json nodes | grep -o '"state": *"alive"' | wc -l)" -ge 2 ]; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "the nodes did not come up:" >&2
		ctl nodes >&2
		exit 1
	fi
	sleep 0.1
done
pub=$(ctl --json route live/demo --publish | sed -n 's/.*"rtmp": *"\([^"]*\)".*/\1/p')
edge=$(ctl --json nodes | tr '{' '\n' | grep '"role": *"edge"' | head -1 |
	sed -n 's/.*"host": *"\([^"]*\)".*/\1/p')
cat <<TXT
Console: http://$listen/   (log in with the admin token $token)

sluice is running: a stream manager on http://$listen and a node group "local".

$(ctl nodes)

  Publish (the origin the manager routes publishers to)
    ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine \\
      -c:v libx264 -preset veryfast -tune zerolatency -g 60 -c:a aac -f flv $pub
    (OBS: Settings > Stream > Custom; Server ${pub%/demo}, Stream Key demo)

  Watch (on an edge)
    open http://$edge:5080/live/demo/ in a browser        # the watch page (LL-HLS)
    ffplay http://$edge:5080/live/demo/index.m3u8
    ffplay rtmp://$edge:1935/live/demo
    ffplay http://$edge:5080/live/demo.flv
    curl 'http://$listen/api/v1/streams/live/demo?action=subscribe'   # where the manager sends viewers

  Look inside (SLUICE_MANAGER=http://$listen SLUICE_TOKEN=$token)
    $bin ctl nodes | groups | streams | events
    open http://$edge:5080/ in a browser                 # a node's status page

Ctrl-C stops everything. Manager log: $state/manager.log
TXT
wait "$mgr"
