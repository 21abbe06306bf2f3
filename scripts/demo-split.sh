#!/usr/bin/env bash
# demo-split.sh splits the running demo (scripts/demo.sh) from two shards
# into four, online, while a load of writes runs through Courier:
#
#   1. starts four new clusters, each a primary and a GTID replica
#      (127.0.0.1:3420-3427), and creates the moved tables on them with
#      the definitions they have on the demo's shards;
#   2. restarts Courier with the new clusters configured (clusters change
#      with a restart) and the same layout: .courier/demo/split-from.yaml;
#   3. starts a load (updates and inserts of orders through Courier);
#   4. runs courierctl migrate plan, then start --mode online to the
#      layout of .courier/demo/split-to.yaml (-40, 40-80, 80-c0 and c0-,
#      one new cluster each), then status;
#   5. stops the load and checks every order it wrote through Courier.
#
#   scripts/demo-split.sh          run it (the demo must be running)
#   scripts/demo-split.sh stop     stop the four new clusters
#
# scripts/demo.sh restarts the demo on its two shards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

dir=.courier/demo
splitdir=.courier/demo-split
bin=.courier/bin
from="$dir/split-from.yaml"
to="$dir/split-to.yaml"
tables=(orders order_items cities orders_by_user_id orders_by_rider_id orders_by_merchant_id)

if [ "${1:-run}" = stop ]; then
	[ -x "$bin/courierctl" ] && "$bin/courierctl" local down --dir "$splitdir"
	exit 0
fi
if ! mariadb -h127.0.0.1 -P3307 -uapp -papp -e 'SELECT 1' >/dev/null 2>&1; then
	echo "the demo is not running: start it with scripts/demo.sh" >&2
	exit 1
fi
ensure_go
go build -o "$bin/" ./cmd/courier ./cmd/courierctl

echo "== 1. four new clusters, each a primary and a replica"
"$bin/courierctl" local down --dir "$splitdir" --purge >/dev/null 2>&1 || true
"$bin/courierctl" local up --dir "$splitdir" --shards 4 --replicas 1 --base-port 3420 >/dev/null
mariadb-dump -h127.0.0.1 -P3406 -ucourier -pcourier --no-data --skip-comments delivery "${tables[@]}" >"$splitdir/tables.sql"
for port in 3420 3422 3424 3426; do
	mariadb -h127.0.0.1 -P"$port" -ucourier -pcourier \
		-e 'CREATE DATABASE IF NOT EXISTS delivery DEFAULT CHARACTER SET utf8mb4'
	mariadb -h127.0.0.1 -P"$port" -ucourier -pcourier delivery <"$splitdir/tables.sql"
done

# The demo's configuration with the new clusters (s2-s5), and the same
# with the shards on them.
clusters=""
for i in 0 1 2 3; do
	p=$((3420 + 2 * i))
	clusters+="  - {name: s$((i + 2)), user: courier, password: courier, primary: {address: \"127.0.0.1:$p\"}, replicas: [{address: \"127.0.0.1:$((p + 1))\"}]}
"
done
awk -v add="$clusters" '/^# How tables are split across the clusters/ { printf "%s\n", add } { print }' \
	testdata/courier.sharded.yaml >"$from"
awk '/^  shards:$/ { print; print "    - {range: \"-40\", cluster: s2}"; print "    - {range: \"40-80\", cluster: s3}";
		print "    - {range: \"80-c0\", cluster: s4}"; print "    - {range: \"c0-\", cluster: s5}"; skip = 1; next }
	skip && /^  # Tables not listed here/ { skip = 0 }
	!skip { print }' "$from" >"$to"
"$bin/courierctl" config check "$from" >/dev/null
"$bin/courierctl" config check "$to" >/dev/null

echo "== 2. Courier restarted with the new clusters configured"
if [ -f "$dir/courier.pid" ]; then
	kill "$(cat "$dir/courier.pid")" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$(cat "$dir/courier.pid")" 2>/dev/null || break; sleep 0.1; done
fi
nohup "$bin/courier" --config "$from" >"$dir/courier.log" 2>&1 &
echo $! >"$dir/courier.pid"
for _ in $(seq 100); do
	mariadb -h127.0.0.1 -P3307 -uapp -papp -e 'SELECT 1' >/dev/null 2>&1 && break
	sleep 0.1
done

echo "== 3. a load through Courier: updates of orders and new orders"
load() {
	local n=0
	while [ ! -f "$splitdir/stop-load" ]; do
		n=$((n + 1))
		mariadb -h127.0.0.1 -P3307 -uapp -papp delivery -e \
			"UPDATE orders SET total_cents = total_cents + 1 WHERE order_id = $(((n * 37) % 5000 + 1));
			 INSERT INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at)
			 VALUES ($((900000 + n)), 7, 1, 1, 1, 'placed', 1000, NOW())" 2>>"$splitdir/load.err" ||
			echo "write $n failed" >>"$splitdir/load.err"
		echo "$n" >"$splitdir/load.count"
	done
}
rm -f "$splitdir/stop-load" "$splitdir/load.err"
mariadb -h127.0.0.1 -P3307 -uapp -papp delivery -e 'DELETE FROM orders WHERE order_id > 900000'
load &
loadpid=$!
sleep 2

echo "== 4. the migration"
"$bin/courierctl" migrate plan --config "$from" --to "$to" --schema delivery
"$bin/courierctl" migrate start --config "$from" --to "$to" --schema delivery \
	--admin 127.0.0.1:9104 --mode online --name demo-split
"$bin/courierctl" migrate status --config "$from" --name demo-split
sleep 2
touch "$splitdir/stop-load"
wait "$loadpid"

echo "== 5. what the load wrote, read back through Courier on four shards"
written=$(cat "$splitdir/load.count")
seen=$(mariadb -h127.0.0.1 -P3307 -uapp -papp delivery -N -e 'SELECT COUNT(*) FROM orders WHERE order_id > 900000')
echo "the load wrote $written new orders (and as many updates); Courier reads $seen of them"
if [ -s "$splitdir/load.err" ]; then
	echo "writes that failed:" >&2
	cat "$splitdir/load.err" >&2
	exit 1
fi
if [ "$written" != "$seen" ]; then
	echo "the orders read back differ from those written" >&2
	exit 1
fi
mariadb -h127.0.0.1 -P3307 -uapp -papp delivery -e \
	'SELECT COUNT(*) AS orders FROM orders; SELECT order_id, status FROM orders WHERE user_id = 7 ORDER BY order_id LIMIT 3'
cat <<MSG

Courier now serves four shards (clusters s2-s5 on 127.0.0.1:3420-3427);
the old copies stay on s0 and s1 until:

  $bin/courierctl migrate complete --config $from --name demo-split

and "migrate reverse" (the same flags) goes back to two shards.
scripts/demo.sh restarts the demo on two shards; scripts/demo-split.sh stop
stops the four new clusters.
MSG
