// Command bench measures what Courier costs: sysbench's OLTP workloads run
// against the same MariaDB primary through three subjects,
//
//   - direct:  sysbench → MariaDB;
//   - relay:   sysbench → a null TCP relay → MariaDB;
//   - courier: sysbench → Courier → MariaDB,
//
// with the same account (sbtest/sbtest) and the same data, so that the
// differences are the price of the extra hop (relay/direct) and of
// Courier's protocol work beyond a hop (courier/relay). More subjects
// measure Courier's routing: courier-rw splits reads over two replicas of
// the primary; courier-sharded shards the sysbench tables by id over four
// primaries of its own (sharded.go), so that it can be compared with
// courier (the same proxy in front of one server) and direct; and
// courier-sharded-rw is Courier over the same four shards, each with one
// replica replicating with GTIDs, which it reads from with causal
// consistency (the default). Asking for courier-sharded-rw gives every
// shard its replica; courier-sharded then still runs over the primaries
// alone, so the two differ only in Courier's configuration. Run it
// through scripts/bench.sh; `-h` lists the flags.
//
// # Workloads
//
// --workloads takes sysbench's oltp_* workloads and rw_point, the
// harness's own (rw_point.lua): per event, in autocommit, an UPDATE of a
// random row by id, then a point SELECT of that row and one of another
// random row. Every statement names one id, so the sharded subjects run
// it (and oltp_point_select; the other oltp_* workloads need merges
// across shards); every subject can. Through courier-sharded-rw each read
// follows a write of the same session, so causal consistency makes it
// wait for its replica to apply that write or go to the primary:
// courier-sharded-rw against courier-sharded at 1 thread is the cost of
// reading one's writes over replicas. Its statements are prepared through
// sysbench's SQL API, so --ps-modes applies as to the oltp_* workloads.
//
// # Baseline
//
// --baseline REV measures a rebuild of Courier against an earlier
// revision in the same run (baseline.go). The harness checks REV out with
// `git worktree add --detach` into a directory of its own under the work
// directory, builds ./cmd/courier there as it builds the working tree, and
// removes the worktree with `git worktree remove --force` as soon as the
// binary is built, also when the build fails or is interrupted (and, if
// that failed, again on exit). Every Courier subject S then gets a twin
// S@base: the baseline binary with the same configuration, in front of
// the same servers and data (the sharded tables are loaded once, through
// the new Courier). Twins are subjects like any other: they run right
// after their subject in every round, interleaved and rotated, and the
// report adds "Courier against its baseline" (QPS new/base, p50, p99 and
// proxy CPU per query new − base) for each subject with a twin. The
// configuration is what courierConfig writes for both; keys newer than
// the baseline must stay out of the twins' configuration.
//
// # Scatter mode
//
// `bench scatter` (scatter.go) measures one statement that reaches every
// shard, at several shard counts (--shards 2,4,8): it starts as many
// primaries as the largest count, one Courier per count sharding an orders
// table by order_id over the first n primaries (each count with a schema
// of its own), loads the same rows through each Courier with multi-row
// INSERTs, and runs --query through them in interleaved rounds with
// sysbench and a small Lua script (scatter.lua) that puts a random integer
// in place of every ?. The default query, a lookup on an indexed
// non-key column, is answered by concatenating the shards' rows; an
// ORDER BY ... LIMIT query, which Courier merges from the shards' sorted
// rows, can be given with --query. The report gives QPS, p50/p99 latency
// and Courier's CPU per query, also per shard.
//
// With --index user_id (lookup.go) every shard count gets a second
// Courier over the same primaries and schema whose configuration declares
// a global index on orders.user_id; the index table is created through
// it and it loads the rows, writing the entries. The default query becomes
// `SELECT order_id, total_cents FROM orders WHERE user_id = ?` for a
// random user, and the report sets the two routes side by side: lookup
// (the index read on one shard, then the shards owning the keys found)
// against scatter (every shard). Around each run the harness reads the
// shard primaries' Com_select and Courier's /metrics (counts.go), so the
// report also gives the backend SELECTs, index reads and shards reached
// per query.
//
// # What happens in one run
//
//  1. Courier is built from the working tree (go build ./cmd/courier), and
//     with --baseline from that revision too. A one-primary cluster starts
//     in a temporary directory on free loopback ports (package
//     localcluster), with the shards' cluster when a sharded subject runs;
//     every Courier is started as a subprocess, and this binary re-executes
//     itself in the hidden "relay" mode (relay.go) as another. They get
//     their own process group and die with the harness (PR_SET_PDEATHSIG);
//     on exit, also after Ctrl-C or an error, the harness stops exactly the
//     PIDs it started and the clusters (unless --keep).
//  2. sysbench prepare loads --tables × --table-size rows directly into
//     MariaDB, and for the sharded subjects through the first of them (the
//     new Courier, never a twin) with --auto-inc=off, so that every INSERT
//     names its rows' ids and is split by shard. The harness waits until
//     every replica a Courier reads from has caught up (MASTER_GTID_WAIT on
//     its primary's gtid_binlog_pos); every subject is then checked by
//     counting sbtest1 through it (and, sharded, on each shard).
//  3. A short unrecorded warmup runs through every subject.
//  4. For every (workload, threads, --db-ps-mode) cell and every round,
//     each subject runs `sysbench <workload> run` for --duration seconds;
//     a subject that reads from replicas first waits (up to a minute) until
//     they have caught up with what the runs before wrote.
//  5. Per cell and subject, the report gives the median over rounds of QPS,
//     p50 and p99 latency, and CPU per query of the proxy and of mariadbd
//     (the primaries only: for a sharded subject its four primaries added
//     up, replicas not counted), then Courier against its baseline (with
//     --baseline), with replicas against without (courier-sharded-rw
//     against courier-sharded, also for the twins when both ran), and
//     Courier's ratios to direct and the relay.
//
// # Why interleaving and medians
//
// The benchmark shares a 2-core machine with the database, the proxy,
// sysbench and whatever else runs there (other people's tests, builds).
// Background load drifts over minutes. Running the subjects back to back
// within each round, with the first subject rotating from round to round,
// spreads that drift evenly over the subjects instead of charging it to
// whichever ran during a busy minute; taking medians over rounds discards
// the one run that was hit hardest. The QPS min–max column shows how noisy
// a cell was: a ratio smaller than that spread is not a finding.
//
// On 2 cores the proxy competes with sysbench and mariadbd for CPU, so
// throughput at high thread counts measures CPU efficiency more than
// latency; the CPU-per-query columns (from utime+stime in /proc/PID/stat,
// in clock ticks of 1/CLK_TCK s, divided by sysbench's total queries) say
// directly what each query costs the proxy and the server.
//
// # Reading the numbers
//
// Latency percentiles come from sysbench's --histogram=on output, whose
// buckets are logarithmic and ~1.8 % wide, and describe events, i.e.
// transactions: 1 query for oltp_point_select, 16 for oltp_read_only, 20
// for oltp_read_write, 3 for rw_point. QPS counts every statement
// including BEGIN and COMMIT. Errors are sysbench's "ignored errors" plus "reconnects"; any in
// a Courier run, or any failed run, makes the harness exit non-zero after
// printing the tables and the end of Courier's log.
//
// # Goroutines
//
// The harness is sequential: one sysbench (or git, or go build) at a
// time. Each subprocess is reaped by one goroutine (child.go). The relay runs one goroutine per
// direction per client connection (io.Copy, which is splice(2) between TCP
// sockets on Linux) and holds no state between connections.
package main
