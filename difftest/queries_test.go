package difftest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/courier-proxy/courier/difftest"
)

func TestQueriesCoverEveryShape(t *testing.T) {
	d := difftest.Generate(1, small)
	qs := difftest.Queries(d, 3, 3000)
	if again := difftest.Queries(d, 3, 3000); !slices.EqualFunc(qs, again, func(a, b difftest.Query) bool { return a.SQL == b.SQL }) {
		t.Fatal("the same seed gave different statements")
	}
	count := map[string]int{}
	for _, q := range qs {
		count[q.Shape]++
		if q.Ordered && !strings.Contains(q.SQL, "ORDER BY") {
			t.Errorf("ordered without ORDER BY: %s", q.SQL)
		}
		if q.Write != (len(q.Then) > 0) {
			t.Errorf("a write must be followed by reads, and only a write: %s", q.SQL)
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
