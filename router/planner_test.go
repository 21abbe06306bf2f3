package router

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/sqlerr"
)

func testPlanner(t testing.TB) *Planner {
	t.Helper()
	var shards []topo.Shard
	for _, name := range []string{"-40", "40-80", "80-c0", "c0-"} {
		r, _ := topo.ParseKeyRange(name)
		shards = append(shards, topo.Shard{Name: name, Range: r})
	}
	tp, err := topo.New(shards)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSchema([]Table{
		{Name: "orders", Kind: Sharded, Key: "order_id", KeyType: vindex.Int, Func: vindex.Hash{}, Sequence: "orders_seq"},
		{Name: "order_items", Kind: Sharded, Key: "order_id", KeyType: vindex.Int, Func: vindex.Hash{}},
		{Name: "riders_log", Kind: Sharded, Key: "rider_id", KeyType: vindex.Int, Func: vindex.Mod{N: 4}},
		{Name: "cities", Kind: Reference},
	}, tp)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := sqlparser.New(sqlparser.Options{})
	return NewPlanner(p, s)
}

// shardOf is the shard an orders key lives on.
func shardOf(pl *Planner, key int64) string {
	id, _ := vindex.Hash{}.Map(vindex.Int, vindex.IntValue(key))
	return pl.schema.Topo.Shard(id).Name
}

func TestPlanRoutes(t *testing.T) {
	pl := testPlanner(t)
	tests := []struct {
		sql  string
		args []vindex.Value
		kind RouteKind
		// shards: the keys whose shards the plan must reach (exactly)
		keys []int64
	}{
		{"SELECT * FROM users WHERE user_id = 7", nil, RouteUnsharded, nil},
		{"SELECT 1", nil, RouteUnsharded, nil},
		{"SELECT * FROM cities", nil, RouteAnyShard, nil},
		{"SHOW CREATE TABLE orders", nil, RouteAnyShard, nil},
		{"SHOW COLUMNS FROM orders", nil, RouteAnyShard, nil},
		{"SHOW INDEX FROM cities", nil, RouteAnyShard, nil},
		{"DESCRIBE orders", nil, RouteAnyShard, nil},
		{"SHOW CREATE TABLE users", nil, RouteUnsharded, nil},
		{"SHOW TABLES", nil, RouteUnsharded, nil},
		{"EXPLAIN SELECT * FROM orders WHERE order_id = 42", nil, RouteShards, []int64{42}},
		{"EXPLAIN SELECT * FROM orders", nil, RouteAnyShard, nil},
		{"SELECT order_id FROM orders WHERE order_id = 42 UNION SELECT order_id FROM orders WHERE order_id = 42", nil, RouteShards, []int64{42}},
		{"SELECT name FROM cities UNION ALL SELECT name FROM cities", nil, RouteAnyShard, nil},
		{"SELECT 1 UNION SELECT 2", nil, RouteUnsharded, nil},
		{"SELECT * FROM orders WHERE order_id = 42", nil, RouteShards, []int64{42}},
		{"SELECT * FROM orders WHERE order_id = '42'", nil, RouteShards, []int64{42}},
		{"SELECT * FROM orders WHERE order_id = ?", []vindex.Value{vindex.IntValue(42)}, RouteShards, []int64{42}},
		{"SELECT * FROM orders WHERE status = 'placed' AND order_id = 42", nil, RouteShards, []int64{42}},
		{"SELECT * FROM orders WHERE order_id IN (1, 2, 3, 4, 5, 6, 7, 8)", nil, RouteShards, []int64{1, 2, 3, 4, 5, 6, 7, 8}},
		{"SELECT * FROM orders WHERE order_id = 1 OR order_id = 2", nil, RouteShards, []int64{1, 2}},
		{"SELECT * FROM orders o JOIN order_items i ON o.order_id = i.order_id WHERE o.order_id = 42", nil, RouteShards, []int64{42}},
		{"SELECT * FROM orders o JOIN cities c ON o.city_id = c.city_id WHERE o.order_id = 42", nil, RouteShards, []int64{42}},
		{"SELECT * FROM orders", nil, RouteScatter, nil},
		{"SELECT COUNT(*) FROM orders WHERE order_id = 9", nil, RouteShards, []int64{9}},
		{"SELECT * FROM orders WHERE order_id > 5", nil, RouteScatter, nil},
		{"SELECT * FROM orders WHERE order_id = 1 OR status = 'x'", nil, RouteScatter, nil},
		{"INSERT INTO orders (order_id, user_id) VALUES (42, 1)", nil, RouteShards, []int64{42}},
		{"INSERT INTO orders (user_id, order_id) VALUES (1, 1), (1, 2), (1, 3), (1, 4), (1, 5)", nil, RouteShards, []int64{1, 2, 3, 4, 5}},
		{"INSERT INTO cities VALUES (1, 'x')", nil, RouteAllShards, nil},
		{"INSERT INTO users VALUES (1, 'x')", nil, RouteUnsharded, nil},
		{"UPDATE orders SET status = 'delivered' WHERE order_id = 42", nil, RouteShards, []int64{42}},
		{"UPDATE orders SET status = 'x'", nil, RouteScatter, nil},
		{"DELETE FROM orders WHERE order_id IN (7, 8)", nil, RouteShards, []int64{7, 8}},
		{"UPDATE cities SET name = 'x' WHERE city_id = 1", nil, RouteAllShards, nil},
		{"CREATE TABLE orders (order_id BIGINT PRIMARY KEY)", nil, RouteAllShards, nil},
		{"ALTER TABLE orders ADD COLUMN note TEXT", nil, RouteAllShards, nil},
		{"CREATE TABLE users2 (id INT)", nil, RouteUnsharded, nil},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			p, err := pl.Plan(tc.sql, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tc.kind {
				t.Fatalf("plan %s, want %s", p, tc.kind)
			}
			if tc.kind != RouteShards {
				return
			}
			want := map[string]bool{}
			for _, k := range tc.keys {
				want[shardOf(pl, k)] = true
			}
			got := map[string]bool{}
			for _, q := range p.Queries {
				if got[q.Shard.Name] {
					t.Fatalf("shard %s twice in %s", q.Shard.Name, p)
				}
				got[q.Shard.Name] = true
			}
			if len(got) != len(want) {
				t.Fatalf("plan reaches %v, want %v:\n%s", got, want, p)
			}
			for s := range want {
				if !got[s] {
					t.Fatalf("plan misses shard %s:\n%s", s, p)
				}
			}
		})
	}
}

// keysIn parses a shard's SQL and returns the integer literals of its IN
// list, or of its inserted rows' first column.
func keysIn(t *testing.T, sql string) []int64 {
	t.Helper()
	p, _ := sqlparser.New(sqlparser.Options{})
	stmt, err := p.Parse(sql)
	if err != nil {
		t.Fatalf("shard SQL %q does not parse: %v", sql, err)
	}
	var keys []int64
	add := func(e sqlparser.Expr) {
		if l, ok := e.(*sqlparser.Literal); ok {
			k, _ := strconv.ParseInt(l.Val, 10, 64)
			keys = append(keys, k)
		}
	}
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n := n.(type) {
		case *sqlparser.ComparisonExpr:
			if tuple, ok := n.Right.(sqlparser.ValTuple); ok && n.Operator == sqlparser.InOp {
				for _, e := range tuple {
					add(e)
				}
			}
		case sqlparser.Values:
			for _, row := range n {
				add(row[0])
			}
			return false, nil
		}
		return true, nil
	}, stmt)
	return keys
}

// TestPlanSplitsInListsAndInserts: each shard gets exactly its own keys.
func TestPlanSplitsInListsAndInserts(t *testing.T) {
	pl := testPlanner(t)
	for _, sql := range []string{
		"SELECT * FROM orders WHERE order_id IN (1, 2, 3, 4, 5, 6, 7, 8) AND status <> 'x'",
		"INSERT INTO orders (order_id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e'), (6, 'f'), (7, 'g'), (8, 'h')",
	} {
		p, err := pl.Plan(sql, nil)
		if err != nil {
			t.Fatal(err)
		}
		placed := map[int64]bool{}
		for _, q := range p.Queries {
			for _, k := range keysIn(t, q.SQL) {
				if shardOf(pl, k) != q.Shard.Name {
					t.Fatalf("key %d sent to shard %s, lives on %s:\n%s", k, q.Shard.Name, shardOf(pl, k), p)
				}
				if placed[k] {
					t.Fatalf("key %d placed twice:\n%s", k, p)
				}
				placed[k] = true
			}
		}
		if len(placed) != 8 {
			t.Fatalf("%d of 8 keys placed:\n%s", len(placed), p)
		}
	}
}

func TestPlanRefuses(t *testing.T) {
	pl := testPlanner(t)
	for _, sql := range []string{
		"SELECT * FROM orders o JOIN users u ON o.user_id = u.user_id",
		"SELECT * FROM orders o JOIN order_items i ON o.status = i.item",
		"SELECT * FROM orders o JOIN riders_log r ON o.order_id = r.rider_id",
		"INSERT INTO orders (user_id) VALUES (1)",
		"INSERT INTO orders SELECT * FROM orders",
		"UPDATE orders SET order_id = 5 WHERE order_id = 4",
		"INSERT INTO orders (order_id) VALUES (1) ON DUPLICATE KEY UPDATE order_id = 2",
		"DELETE FROM orders WHERE status = 'x' LIMIT 10",
		"SELECT COUNT(DISTINCT user_id) FROM orders",
		"SELECT order_id FROM orders WHERE order_id = 1 UNION SELECT order_id FROM orders WHERE order_id = 3",
		"SELECT order_id FROM orders UNION SELECT 1",
		"SELECT user_id FROM users UNION SELECT name FROM cities",
		"SET @n = (SELECT COUNT(*) FROM orders)",
		"SELECT c.name, o.order_id FROM cities c LEFT JOIN orders o ON o.city_id = c.city_id",
		"SELECT c.name, o.order_id FROM orders o RIGHT JOIN cities c ON o.city_id = c.city_id",
		"SELECT SUM(total) / COUNT(*) FROM orders",
		"SELECT GROUP_CONCAT(status) FROM orders",
		"SELECT * FROM orders WHERE user_id IN (SELECT user_id FROM orders WHERE order_id = 1)",
		"SELECT * FROM (SELECT * FROM orders) t",
		"SELECT *, COUNT(*) FROM orders GROUP BY status",
		"SELECT DISTINCT status FROM orders ORDER BY created_at",
		"SELECT status FROM orders GROUP BY status HAVING MAX(status) LIKE 'a%'",
		"SELECT SQL_CALC_FOUND_ROWS * FROM orders LIMIT 3",
		"SELECT order_id, ROW_NUMBER() OVER (ORDER BY order_id) FROM orders",
		"UPDATE orders o JOIN order_items i ON o.order_id = i.order_id SET o.status = 'x'",
	} {
		t.Run(sql, func(t *testing.T) {
			_, err := pl.Plan(sql, nil)
			var se *sqlerr.Error
			if !errors.As(err, &se) || se.Num != sqlerr.ErrNotSupported {
				t.Fatalf("want error 1235, got %v", err)
			}
		})
	}
}

// TestPlanMerge pins the statement each shard runs and the merge of a
// multi-shard SELECT.
func TestPlanMerge(t *testing.T) {
	pl := testPlanner(t)
	tests := []struct{ sql, want string }{
		{"SELECT * FROM orders WHERE status = 'placed'", "scatter"},
		{"SELECT * FROM orders ORDER BY created_at DESC, order_id LIMIT 10, 5",
			"scatter\n  all: select *, created_at, order_id from orders order by created_at desc, order_id asc limit 15" +
				"\n  merge: order by [{-1 true} {-2 false}], limit 10,5, hidden 2"},
		{"SELECT order_id, total FROM orders ORDER BY total LIMIT 3",
			"scatter\n  all: select order_id, total from orders order by total asc limit 3\n  merge: order by [{1 false}], limit 0,3"},
		{"SELECT order_id AS o FROM orders ORDER BY o DESC",
			"scatter\n  all: select order_id as o from orders order by o desc\n  merge: order by [{0 true}]"},
		{"SELECT COUNT(*), SUM(total), AVG(total) FROM orders WHERE status = 'x'",
			"scatter\n  all: select count(*) as `COUNT(*)`, sum(total) as `SUM(total)`, avg(total) as `AVG(total)`, sum(total), count(total) from orders where `status` = 'x'" +
				"\n  merge: group by [] folds [{count 0 0} {sum 0 0} {avg 3 4} {sum 0 0} {count 0 0}], hidden 2"},
		{"SELECT status, COUNT(*) AS n FROM orders GROUP BY status HAVING n > 2 ORDER BY n DESC LIMIT 2",
			"scatter\n  all: select `status`, count(*) as n from orders group by `status`" +
				"\n  merge: group by [0] folds [{any 0 0} {count 0 0}], having, order by [{1 true}], limit 0,2"},
		{"SELECT user_id, MAX(total) FROM orders GROUP BY city_id HAVING MIN(total) > 5",
			"scatter\n  all: select user_id, max(total) as `MAX(total)`, city_id, min(total) from orders group by city_id" +
				"\n  merge: group by [2] folds [{any 0 0} {max 0 0} {any 0 0} {min 0 0}], having, order by [{2 false}], hidden 2"},
		{"SELECT DISTINCT status FROM orders WHERE order_id IN (1, 2, 3, 4, 5, 6, 7, 8) ORDER BY status LIMIT 2",
			"merge: distinct, order by [{0 false}], limit 0,2"},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			p, err := pl.Plan(tt.sql, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := p.String()
			if p.Kind == RouteShards {
				got = p.Merge.String()
			}
			if got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPlanSequence(t *testing.T) {
	pl := testPlanner(t)
	next := int64(100)
	ids := func(tb *Table, n int) (int64, error) {
		if tb.Sequence != "orders_seq" {
			t.Fatalf("sequence %s", tb.Sequence)
		}
		first := next
		next += int64(n)
		return first, nil
	}
	p, err := pl.PlanWithIDs("INSERT INTO orders (user_id) VALUES (1), (2), (3)", nil, ids)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Rewritten || p.InsertID != 100 || next != 103 {
		t.Fatalf("plan %+v, next %d", p, next)
	}
	var all []string
	for _, q := range p.Queries {
		all = append(all, q.SQL)
	}
	joined := strings.Join(all, "\n")
	for k, want := range map[int64]string{100: "last_insert_id(100)", 101: "101", 102: "102"} {
		if !strings.Contains(joined, want) {
			t.Fatalf("key %d missing from\n%s", k, joined)
		}
	}
	// A row that gives its key keeps it; only the NULL one takes an id.
	p, err = pl.PlanWithIDs("INSERT INTO orders (order_id, user_id) VALUES (7, 1), (NULL, 2)", nil, ids)
	if err != nil || p.InsertID != 103 {
		t.Fatalf("%v %+v", err, p)
	}
	_, err = pl.Plan("INSERT INTO order_items (sku) VALUES ('x')", nil)
	if se, ok := sqlerr.From(err); !ok || se.Num != sqlerr.ErrNotSupported {
		t.Fatalf("an INSERT without a key into a table without a sequence: %v, want 1235", err)
	}
}

func TestPlanUnparsed(t *testing.T) {
	pl := testPlanner(t)
	if _, err := pl.Plan("THIS IS NOT SQL", nil); !errors.Is(err, ErrUnparsed) {
		t.Fatalf("got %v", err)
	}
}
