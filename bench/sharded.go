package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/router/topo"
)

// shardedShards is the number of shards of the sharded subjects.
const shardedShards = 4

// setupSharded starts the shards of the sharded subjects (with one replica
// each, replicating with GTIDs, when courier-sharded-rw runs), creates the
// sysbench account and schema on each primary, and starts every sharded
// Courier o.Subjects asks for, each sharding every sysbench table by id
// over shardedShards even key ranges: courier-sharded over the primaries
// alone, courier-sharded-rw over the primaries and their replicas, and
// the twins with the same configurations. All of them share the servers
// and the data, which are loaded later through one of them
// (prepareSharded).
func (e *env) setupSharded(ctx context.Context, o options, logw io.Writer) error {
	replicas := 0
	if slices.ContainsFunc(o.Subjects, withReplicas) {
		replicas = 1
	}
	fmt.Fprintf(logw, "bench: starting MariaDB for the sharded subjects (%d shards, %d replica(s) each)\n", shardedShards, replicas)
	c, err := e.startCluster(ctx, "shards", shardedShards, replicas, logw)
	if err != nil {
		return err
	}
	primaries := c.Primaries()
	for _, p := range primaries {
		if err := createSysbenchUser(ctx, c, p, sbDB); err != nil {
			return err
		}
	}
	var tables []string
	for i := 1; i <= o.Tables; i++ {
		tables = append(tables, fmt.Sprintf("sbtest%d", i))
	}
	for _, s := range o.Subjects {
		if !isSharded(s) {
			continue
		}
		rw := withReplicas(s)
		sets := make([]backendSet, len(primaries))
		for i, p := range primaries {
			sets[i] = backendSet{primary: p.Addr}
			if rw {
				for _, r := range c.Replicas(p.Shard) {
					sets[i].replicas = append(sets[i].replicas, r.Addr)
				}
			}
		}
		cfg := func(listen string) string {
			return courierConfig(listen, "", c.Spec.User, c.Spec.Password, sets, shardingYAML(len(sets), tables, "id", ""))
		}
		if err := e.startCourier(ctx, s, e.courierBin(s), cfg, shardPIDs(primaries), logw); err != nil {
			return err
		}
		se := e.subjects[s]
		se.shards, se.shardsOf = primaries, c
		if rw {
			se.replicasOf = c
		}
	}
	return nil
}

// withReplicas reports whether subject (or the subject it is the twin of)
// is courier-sharded-rw, whose Courier reads from the shards' replicas.
func withReplicas(subject string) bool {
	s, _ := ofTwin(subject)
	return s == subjectCourierShardedRW
}

// loader is the sharded subject the sysbench tables are loaded through:
// the first of o.Subjects that is not a twin (the new Courier), or "".
func loader(subjects []string) string {
	for _, s := range subjects {
		if _, isTwin := ofTwin(s); isSharded(s) && !isTwin {
			return s
		}
	}
	return ""
}

// shardingYAML is the sharding section of a Courier configuration whose
// clusters s0..s(n-1) hold n even key ranges, with tables sharded by key
// (hash function) and, when index is not "", a global index on that
// column of each table (its index table named <table>_by_<index>, sharded
// by the column over the same shards).
func shardingYAML(n int, tables []string, key, index string) string {
	var b strings.Builder
	b.WriteString("sharding:\n  shards:\n")
	for i, r := range topo.Even(n) {
		fmt.Fprintf(&b, "    - {range: %q, cluster: s%d}\n", r.String(), i)
	}
	b.WriteString("  tables:\n")
	for _, t := range tables {
		if index != "" {
			fmt.Fprintf(&b, "    - {name: %s, key: %s, indexes: [{column: %s}]}\n", t, key, index)
			continue
		}
		fmt.Fprintf(&b, "    - {name: %s, key: %s}\n", t, key)
	}
	return b.String()
}

// prepareSharded creates and loads the sysbench tables through the
// sharded Courier. --auto-inc=off makes sysbench give every row its id, so
// each multi-row INSERT can be split by shard.
func prepareSharded(ctx context.Context, t sbTarget) error {
	return prepare(ctx, t, "--auto-inc=off")
}

// shardPIDs lists the process ids of instances.
func shardPIDs(insts []localcluster.Instance) []int {
	out := make([]int, len(insts))
	for i, inst := range insts {
		out[i] = inst.PID
	}
	return out
}

// Bounds of the waits for replicas: after the load, and before each run.
const (
	loadCatchUp = 5 * time.Minute
	runCatchUp  = time.Minute
)

// waitReplicas waits until the replicas every subject reads from have
// caught up with their primaries, after the data is loaded: before that,
// a read through Courier could miss rows.
func (e *env) waitReplicas(ctx context.Context, logw io.Writer) error {
	var done []*localcluster.Cluster
	for _, s := range slices.Sorted(maps.Keys(e.subjects)) {
		c := e.subjects[s].replicasOf
		if c == nil || slices.Contains(done, c) {
			continue
		}
		start := time.Now()
		if err := waitCaughtUp(ctx, c, loadCatchUp); err != nil {
			return err
		}
		done = append(done, c)
		fmt.Fprintf(logw, "bench: replicas of %s caught up with their primaries (%s)\n", filepath.Base(c.Spec.Dir), time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// waitCaughtUp waits until every replica of c has applied everything its
// primary had written when the wait began (MASTER_GTID_WAIT on the
// primary's gtid_binlog_pos, as the proxy's tests wait), for at most
// timeout.
func waitCaughtUp(ctx context.Context, c *localcluster.Cluster, timeout time.Duration) error {
	for _, p := range c.Primaries() {
		var pos string
		if err := queryInstance(ctx, c, p, "SELECT @@gtid_binlog_pos", &pos); err != nil {
			return err
		}
		for _, r := range c.Replicas(p.Shard) {
			var got sql.NullInt64
			q := fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', %d)", pos, int(timeout/time.Second))
			if err := queryInstance(ctx, c, r, q, &got); err != nil {
				return err
			}
			if !got.Valid || got.Int64 != 0 {
				return fmt.Errorf("replica %s did not reach its primary's GTID position %s within %s", r.Name, pos, timeout)
			}
		}
	}
	return nil
}

// queryInstance runs a one-row, one-column query on inst, an instance of
// c, as the cluster's application user.
func queryInstance(ctx context.Context, c *localcluster.Cluster, inst localcluster.Instance, q string, dst any) error {
	db, err := sql.Open("mysql", c.DSN(inst, ""))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, q).Scan(dst); err != nil {
		return fmt.Errorf("%s on %s: %w", q, inst.Name, err)
	}
	return nil
}
