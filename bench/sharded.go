package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/router/topo"
)

// shardedShards is the number of shards of the courier-sharded subject,
// each one primary without replicas.
const shardedShards = 4

// setupSharded starts the shard primaries of courier-sharded, creates the
// sysbench account and schema on each, and starts Courier sharding every
// sysbench table by id over shardedShards even key ranges. The tables are
// created and loaded later, through Courier (prepareSharded).
func (e *env) setupSharded(ctx context.Context, o options, bin string, logw io.Writer) error {
	fmt.Fprintf(logw, "bench: starting MariaDB for %s (%d shard primaries)\n", subjectCourierSharded, shardedShards)
	c, err := e.startCluster(ctx, "shards", shardedShards, 0, logw)
	if err != nil {
		return err
	}
	primaries := c.Primaries()
	sets := make([]backendSet, len(primaries))
	for i, p := range primaries {
		if err := createSysbenchUser(ctx, c, p, sbDB); err != nil {
			return err
		}
		sets[i] = backendSet{primary: p.Addr}
	}
	var tables []string
	for i := 1; i <= o.Tables; i++ {
		tables = append(tables, fmt.Sprintf("sbtest%d", i))
	}
	cfg := func(listen string) string {
		return courierConfig(listen, "", c.Spec.User, c.Spec.Password, sets, shardingYAML(len(sets), tables, "id", ""))
	}
	if err := e.startCourier(ctx, subjectCourierSharded, bin, cfg, shardPIDs(primaries), logw); err != nil {
		return err
	}
	se := e.subjects[subjectCourierSharded]
	se.shards, se.shardsOf = primaries, c
	return nil
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
