#!/usr/bin/env bash
# bench.sh runs Courier's benchmark harness (./bench): sysbench against
# MariaDB directly, through a null TCP relay and through Courier, on a local
# cluster it starts and stops itself. All flags go to the harness; see
#   scripts/bench.sh -h
# Smoke test (about a minute):
#   scripts/bench.sh --rounds 1 --duration 2 --threads 1,16 --workloads oltp_point_select
# Subjects (--subjects): direct, relay, courier, courier-rw (reads on two
# replicas), courier-sharded (four shard primaries) and courier-sharded-rw
# (the same four shards, each with a replica Courier reads from, causal
# consistency). Besides sysbench's oltp_* workloads, --workloads takes
# rw_point (bench/rw_point.lua): per event an UPDATE of a random row by id,
# then point SELECTs of that row and of another, in autocommit; the sharded
# subjects run it and oltp_point_select.
# Before and after in the same run: --baseline REV builds Courier from git
# revision REV as well (in a temporary worktree, removed once built) and
# runs every Courier subject S twice per round, as S and as S@base, e.g.
#   scripts/bench.sh --rounds 1 --duration 2 --threads 1 --workloads oltp_point_select \
#     --subjects relay,courier,courier-sharded,courier-sharded-rw --baseline d04ccaa
# With "scatter" first, it measures one query that reaches every shard at
# several shard counts instead; see
#   scripts/bench.sh scatter -h
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export GOFLAGS="${GOFLAGS:--mod=mod}"

work="$(mktemp -d "${TMPDIR:-/tmp}/courier-bench-bin.XXXXXX")"
trap 'rm -rf "$work"' EXIT

go build -o "$work/bench" ./bench

# The report shows the command as typed, not the temporary binary; only
# arguments that need it are quoted.
COURIER_BENCH_COMMAND="scripts/bench.sh"
for a in "$@"; do
  if [[ "$a" =~ ^[A-Za-z0-9_./,:=+@%-]+$ ]]; then
    COURIER_BENCH_COMMAND+=" $a"
  else
    COURIER_BENCH_COMMAND+=" $(printf '%q' "$a")"
  fi
done
export COURIER_BENCH_COMMAND

# Not exec: the EXIT trap removes the binary afterwards. Ctrl-C reaches the
# harness, which stops what it started before exiting.
mode=()
if [ "${1:-}" = scatter ]; then
  mode=(scatter)
  shift
fi
status=0
"$work/bench" "${mode[@]}" --src "$root" "$@" || status=$?
exit "$status"
