package router

import (
	"fmt"
	"testing"

	"github.com/courier-proxy/courier/router/vindex"
)

// TestTemplateAgreesWithPlan: whenever a template routes an execution
// alone, the full plan routes it to the same place.
func TestTemplateAgreesWithPlan(t *testing.T) {
	pl := testPlanner(t)
	shapes := []string{
		"SELECT * FROM orders WHERE order_id = %s",
		"SELECT c FROM orders WHERE order_id=%s AND status = 'x'",
		"SELECT * FROM orders WHERE order_id IN (%s, %s)",
		"SELECT * FROM orders WHERE order_id = %s OR order_id = %s",
		"UPDATE orders SET status = 'y' WHERE order_id = %s",
		"DELETE FROM orders WHERE order_id = %s LIMIT 1",
		"SELECT * FROM orders o JOIN order_items i ON o.order_id = i.order_id WHERE o.order_id = %s",
		"SELECT * FROM orders WHERE status = %s",
		"SELECT * FROM cities WHERE city_id = %s",
		"SELECT * FROM users WHERE user_id = %s",
		"SELECT COUNT(*) FROM orders WHERE order_id IN (%s, %s) ORDER BY 1 LIMIT 5",
	}
	values := []string{"1", "42", "'42'", "'42abc'", "-7", "18446744073709551615", "'x'", "0", "99999"}
	routed := 0
	for _, shape := range shapes {
		for i, v := range values {
			w := values[(i*3+1)%len(values)]
			sql := fmt.Sprintf(shape, v, w)
			if n := countVerbs(shape); n == 1 {
				sql = fmt.Sprintf(shape, v)
			}
			full, err := pl.Plan(sql, nil)
			kind, shard, ok := pl.RouteText(sql)
			if !ok {
				continue
			}
			routed++
			if err != nil {
				t.Fatalf("%s: template routed it, the full plan refused it: %v", sql, err)
			}
			if kind != full.Kind {
				t.Fatalf("%s: template %s, plan %s", sql, kind, full.Kind)
			}
			if kind == RouteShards && (len(full.Queries) != 1 || full.Queries[0].Shard.Name != shard.Name) {
				t.Fatalf("%s: template shard %s, plan\n%s", sql, shard.Name, full)
			}
		}
	}
	if routed < len(shapes)*len(values)/3 {
		t.Fatalf("only %d executions routed by templates", routed)
	}
	// Prepared statements: the same through Template and Route.
	tpl := pl.Template("SELECT * FROM orders WHERE order_id = ?")
	for k := int64(0); k < 50; k++ {
		_, shard, ok := tpl.Route([]vindex.Value{vindex.IntValue(k)})
		if !ok || shard.Name != shardOf(pl, k) {
			t.Fatalf("key %d: %v %v", k, shard, ok)
		}
	}
}

func countVerbs(s string) int {
	n := 0
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 's' {
			n++
		}
	}
	return n
}

func BenchmarkRouteText(b *testing.B) {
	pl := testPlanner(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, _, ok := pl.RouteText(fmt.Sprintf("SELECT c FROM orders WHERE order_id=%d", i%1000)); !ok {
			b.Fatal("not routed")
		}
	}
}
