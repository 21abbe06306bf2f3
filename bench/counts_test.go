package main

import (
	"math"
	"testing"
)

func TestPromSum(t *testing.T) {
	const text = `# HELP courier_index_lookups_total Global index reads, by index (table.column).
# TYPE courier_index_lookups_total counter
courier_index_lookups_total{index="orders.user_id"} 1200
courier_index_lookups_total{index="odd name} x"} 3
courier_index_lookups_total_other 99
# TYPE courier_shards_per_statement histogram
courier_shards_per_statement_bucket{route="lookup",le="1"} 10
courier_shards_per_statement_sum{route="lookup"} 4536
courier_shards_per_statement_sum{route="scatter"} 8e+02
courier_shards_per_statement_count{route="lookup"} 1200
courier_connections 5 1700000000000
`
	tests := []struct {
		name string
		want float64
	}{
		{"courier_index_lookups_total", 1203},
		{"courier_shards_per_statement_sum", 5336},
		{"courier_connections", 5},
		{"courier_absent_total", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := promSum(text, tc.name); got != tc.want {
				t.Errorf("promSum(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestRouteCountsSince(t *testing.T) {
	before := routeCounts{Selects: 100, IndexReads: 10, Shards: 40}
	after := routeCounts{Selects: 578, IndexReads: 110, Shards: 418}
	if got := after.since(before, 100); got != (routeCounts{Selects: 4.78, IndexReads: 1, Shards: 3.78}) {
		t.Errorf("since = %+v", got)
	}
	if got := after.since(before, 0); !math.IsNaN(got.Selects) {
		t.Errorf("no queries: %+v, want NaN", got)
	}
}
