#!/usr/bin/env bash
# demo.sh starts Courier's demo: a local MariaDB cluster (one primary and
# two replicas with GTID replication, on 127.0.0.1:3406-3408) loaded with
# the sample delivery schema from testdata/, and Courier listening on
# 127.0.0.1:3307 with testdata/courier.example.yaml. It installs what is
# missing first.
#
#   scripts/demo.sh          start (or restart) the demo
#   scripts/demo.sh stop     stop Courier and the cluster
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

dir=.courier/demo
bin=.courier/bin
pidfile="$dir/courier.pid"

stop_courier() {
	if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		kill "$(cat "$pidfile")"
		for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$pidfile"
}

if [ "${1:-start}" = stop ]; then
	stop_courier
	[ -x "$bin/courierctl" ] && "$bin/courierctl" local down --dir "$dir"
	echo "demo stopped"
	exit 0
fi

ensure_packages
ensure_go
mkdir -p "$bin" "$dir"
go build -o "$bin/" ./cmd/courier ./cmd/courierctl

"$bin/courierctl" local up --dir "$dir" --shards 1 --replicas 2 --base-port 3406 >/dev/null
for f in testdata/delivery/schema.sql testdata/delivery/data.sql; do
	mariadb -h127.0.0.1 -P3406 -ucourier -pcourier <"$f"
done

stop_courier
nohup "$bin/courier" --config testdata/courier.example.yaml >"$dir/courier.log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 100); do
	if mariadb -h127.0.0.1 -P3307 -uapp -papp -e 'SELECT 1' >/dev/null 2>&1; then
		"$bin/courierctl" local status --dir "$dir" || true
		cat <<MSG

Courier is listening on 127.0.0.1:3307 (log: $dir/courier.log, metrics: http://127.0.0.1:9104/metrics).
Connect with:

  mariadb -h127.0.0.1 -P3307 -uapp -papp delivery

Stop with: scripts/demo.sh stop
MSG
		exit 0
	fi
	sleep 0.1
done
echo "Courier did not start; its log:" >&2
cat "$dir/courier.log" >&2
exit 1
