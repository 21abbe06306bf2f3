package difftest_test

import (
	"slices"
	"testing"

	"github.com/courier-proxy/courier/difftest"
)

func TestParseWays(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []difftest.Way
		err  bool
	}{
		{"", difftest.AllWays, false},
		{"all", difftest.AllWays, false},
		{"text", []difftest.Way{difftest.Text}, false},
		{"prepared, txn", []difftest.Way{difftest.Prepared, difftest.Txn}, false},
		{"txn_reject,text", []difftest.Way{difftest.TxnReject, difftest.Text}, false},
		{"binary", nil, true},
	} {
		got, err := difftest.ParseWays(c.in)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("ParseWays(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.err)
		}
	}
}

// Against the Courier that rejects multi-shard transactions only the
// queries that stay on one shard run, and the two-shard transactions.
func TestRunsTxnReject(t *testing.T) {
	d := difftest.Generate(1, small)
	qs := difftest.Queries(d, difftest.Options{Seed: 5, N: 3000, ShardOf: func(k int64) int { return int(uint64(k) % 4) }})
	shapes := map[string]bool{}
	for _, q := range qs {
		for _, w := range []difftest.Way{difftest.Text, difftest.Prepared, difftest.Txn} {
			if !difftest.Runs(q, w) {
				t.Fatalf("%s does not run %s", q.Shape, w)
			}
		}
		if difftest.Runs(q, difftest.TxnReject) {
			shapes[q.Shape] = true
		}
	}
	for _, s := range []string{"point", "point_single_shard", "txn_keys", "update_key", "delete_key"} {
		if !shapes[s] {
			t.Errorf("no %s statement runs txn_reject", s)
		}
	}
	for _, s := range []string{"scatter", "in_list", "aggregate", "read_your_writes", "batch"} {
		if shapes[s] {
			t.Errorf("%s statements run txn_reject", s)
		}
	}
}
