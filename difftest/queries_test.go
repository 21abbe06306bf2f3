package difftest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/courier-proxy/courier/difftest"
)

func TestQueriesCoverEveryShape(t *testing.T) {
	d := difftest.Generate(1, small)
	o := difftest.Options{Seed: 3, N: 3000, ShardOf: func(k int64) int { return int(uint64(k) % 4) }}
	qs := difftest.Queries(d, o)
	if again := difftest.Queries(d, o); !slices.EqualFunc(qs, again, func(a, b difftest.Query) bool { return a.SQL == b.SQL }) {
		t.Fatal("the same seed gave different statements")
	}
	count := map[string]int{}
	for _, q := range qs {
		count[q.Shape]++
		if q.Ordered && !strings.Contains(q.SQL, "ORDER BY") {
			t.Errorf("ordered without ORDER BY: %s", q.SQL)
		}
		if q.Steps == nil && q.Write != (len(q.Then) > 0) {
			t.Errorf("a write must be followed by reads, and only a write: %s", q.SQL)
		}
		if (q.Steps == nil) != (q.SQL != "") || (q.Txn || q.Batch) && q.Steps == nil {
			t.Errorf("a query is one statement or a script of steps: %+v", q)
		}
		second := 0
		for _, st := range q.Steps {
			if st.SecondShard {
				second++
			}
			if st.Write && len(q.Then) == 0 && !strings.HasPrefix(st.SQL, "UPDATE") {
				t.Errorf("a script that writes must read back what it wrote: %+v", q)
			}
		}
		if second > 1 || second == 1 && (!q.Txn || q.OneShard) {
			t.Errorf("one step of a two-shard transaction reaches the second shard: %+v", q)
		}
		if q.Refuse != 0 && difftest.Refusable(q.Shape) {
			t.Errorf("shape %s both must and may be refused", q.Shape)
		}
	}
	for _, s := range difftest.Shapes() {
		if count[s] < 10 {
			t.Errorf("shape %s: %d statements", s, count[s])
		}
	}
}
