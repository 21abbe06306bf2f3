package router

import (
	"testing"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
)

// BenchmarkPlanPointSelect measures planning a point select on a table
// sharded over four shards: the per-statement cost a sharded Courier adds
// to the unsharded path, which only classifies.
func BenchmarkPlanPointSelect(b *testing.B) {
	var shards []topo.Shard
	for i, r := range topo.Even(4) {
		shards = append(shards, topo.Shard{Name: r.String(), Range: r, Cluster: "s" + string(rune('0'+i))})
	}
	tp, err := topo.New(shards)
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewSchema([]Table{{Name: "sbtest1", Kind: Sharded, Key: "id", KeyType: vindex.Int, Func: vindex.Hash{}}}, tp)
	if err != nil {
		b.Fatal(err)
	}
	p, err := sqlparser.New(sqlparser.Options{})
	if err != nil {
		b.Fatal(err)
	}
	pl := NewPlanner(p, s)
	for _, bc := range []struct {
		name string
		sql  string
		args []vindex.Value
	}{
		{"text", "SELECT c FROM sbtest1 WHERE id=4711", nil},
		{"prepared", "SELECT c FROM sbtest1 WHERE id=?", []vindex.Value{vindex.IntValue(4711)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				plan, err := pl.Plan(bc.sql, bc.args)
				if err != nil || plan.Kind != RouteShards || len(plan.Queries) != 1 {
					b.Fatalf("plan %v, %v", plan, err)
				}
			}
		})
	}
}
