#!/usr/bin/env bash
# demo.sh starts Courier's demo on a sharded layout: two shards, each a
# MariaDB cluster of one primary and two replicas with GTID replication
# (shard -80 on 127.0.0.1:3406-3408, shard 80- on 3409-3411), and Courier
# on 127.0.0.1:3307 with testdata/courier.sharded.yaml. The sample delivery
# schema (testdata/delivery/schema.sql) and its generated rows
# (`courierctl demo load`) are loaded through Courier: DDL fans out to the
# shards, orders and order_items are split by order_id, cities is copied to
# both shards, users, merchants and riders stay on shard -80's cluster. It
# installs what is missing first.
#
#   scripts/demo.sh          start (or restart) the demo
#   scripts/demo.sh stop     stop Courier and the clusters
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

dir=.courier/demo
bin=.courier/bin
pidfile="$dir/courier.pid"
config=testdata/courier.sharded.yaml
primaries=(3406 3409) # the first instance of each shard: see $config

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

stop_courier
# A demo started with another layout (the unsharded one) is replaced.
if [ -f "$dir/cluster.json" ] && ! { grep -q '"Shards": 2,' "$dir/cluster.json" &&
	grep -q '"Replicas": 2,' "$dir/cluster.json"; }; then
	echo "replacing the earlier demo's cluster in $dir" >&2
	"$bin/courierctl" local down --dir "$dir" --purge >/dev/null
fi
"$bin/courierctl" local up --dir "$dir" --shards 2 --replicas 2 --base-port 3406 >/dev/null
# A fresh demo: the layout an earlier run's migration recorded
# (scripts/demo-split.sh) is forgotten. The schema itself exists on every
# shard; its tables are created through Courier below.
mariadb -h127.0.0.1 -P3406 -ucourier -pcourier -e 'DROP DATABASE IF EXISTS courier_control'
for port in "${primaries[@]}"; do
	mariadb -h127.0.0.1 -P"$port" -ucourier -pcourier \
		-e 'CREATE DATABASE IF NOT EXISTS delivery DEFAULT CHARACTER SET utf8mb4'
done

nohup "$bin/courier" --config "$config" >"$dir/courier.log" 2>&1 &
echo $! >"$pidfile"
up=
for _ in $(seq 100); do
	if mariadb -h127.0.0.1 -P3307 -uapp -papp -e 'SELECT 1' >/dev/null 2>&1; then
		up=1
		break
	fi
	sleep 0.1
done
if [ -z "$up" ]; then
	echo "Courier did not start; its log:" >&2
	cat "$dir/courier.log" >&2
	exit 1
fi

mariadb -h127.0.0.1 -P3307 -uapp -papp <testdata/delivery/schema.sql
# Global index tables of orders (see the config); Courier fills them as
# the rows are loaded.
for column in user_id rider_id merchant_id; do
	"$bin/courierctl" index create --config "$config" --schema delivery --table orders --column "$column" >/dev/null
done
"$bin/courierctl" demo load --addr 127.0.0.1:3307 --user app --password app --db delivery
# orders' sequence (see the config) is created on first use, after the
# largest order_id loaded; drop one left by an earlier run.
mariadb -h127.0.0.1 -P3406 -ucourier -pcourier -e 'DROP TABLE IF EXISTS delivery.orders_seq'
"$bin/courierctl" local status --dir "$dir" || true
cat <<MSG

Courier is listening on 127.0.0.1:3307 in front of two shards
(log: $dir/courier.log, metrics: http://127.0.0.1:9104/metrics).
Connect with:

  mariadb -h127.0.0.1 -P3307 -uapp -papp delivery

and try:

  SELECT * FROM orders WHERE order_id = 42;         -- one shard
  SELECT * FROM orders WHERE order_id IN (1, 2, 3); -- split per shard
  SELECT order_id, status FROM orders WHERE user_id = 7; -- global index: only user 7's shards
  SELECT status, COUNT(*) FROM orders GROUP BY status;    -- every shard, merged
  SELECT * FROM cities;                             -- reference: any shard
  SELECT * FROM users WHERE user_id = 7;            -- unsharded: shard -80's cluster

Each shard directly: mariadb -h127.0.0.1 -P3406 (or -P3409) -ucourier -pcourier delivery
Stop with: scripts/demo.sh stop
MSG
