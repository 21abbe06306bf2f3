package router

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/sqlerr"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the plans made now")

// testSchema is four shards (-40 on s0, the default cluster, 40-80 on s1,
// 80-c0 on s2, c0- on s3) with the delivery tables, and unsharded tables
// placed on s2 (payments, refunds) and s3 (coupons).
func testSchema(t testing.TB) *Schema {
	t.Helper()
	var shards []topo.Shard
	for i, r := range topo.Even(4) {
		shards = append(shards, topo.Shard{Name: r.String(), Range: r, Cluster: fmt.Sprint("s", i)})
	}
	tp, err := topo.New(shards)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSchema([]Table{
		{Name: "orders", Kind: Sharded, Key: "order_id", KeyType: vindex.Int, Func: vindex.Hash{}, Sequence: "orders_seq",
			Indexes: []GlobalIndex{
				{Column: "user_id", Table: "orders_by_user_id", KeyType: vindex.Int, Sharded: true},
				{Column: "code", Table: "orders_by_code", KeyType: vindex.Bytes, Unique: true, Sharded: true},
				{Column: "merchant_id", Table: "orders_by_merchant_id", KeyType: vindex.Int},
			}},
		{Name: "order_items", Kind: Sharded, Key: "order_id", KeyType: vindex.Int, Func: vindex.Hash{}},
		{Name: "riders_log", Kind: Sharded, Key: "rider_id", KeyType: vindex.Int, Func: vindex.Mod{N: 4}},
		{Name: "cities", Kind: Reference},
		{Name: "payments", Kind: Unsharded, Cluster: "s2"},
		{Name: "refunds", Kind: Unsharded, Cluster: "s2"},
		{Name: "coupons", Kind: Unsharded, Cluster: "s3"},
	}, tp, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testPlanner(t testing.TB) (*Planner, *sqlparser.Parser) {
	p, err := sqlparser.New(sqlparser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return NewPlanner(testSchema(t), p), p
}

// describe plans sql (its ? are the shape's values) and prints the plan.
func describe(pl *Planner, p *sqlparser.Parser, sql string) string {
	stmt, vars, err := p.Parse2(sql)
	if err != nil {
		return "parse error: " + err.Error()
	}
	plan := pl.Plan(stmt, len(vars), Options{})
	var b strings.Builder
	if plan.Err != nil {
		var se *sqlerr.Error
		if errors.As(plan.Err, &se) {
			fmt.Fprintf(&b, "error %d: %s\n", se.Num, se.Message)
		} else {
			fmt.Fprintf(&b, "error: %v\n", plan.Err)
		}
	} else {
		b.WriteString(engine.Format(plan.Root))
	}
	fmt.Fprintf(&b, "class %s, slots %d", plan.Class, plan.Slots)
	if len(plan.Consts) > 0 {
		fmt.Fprintf(&b, ", consts")
		for _, c := range plan.Consts {
			fmt.Fprintf(&b, " :%d=%s", c.Slot, c.Val.String())
		}
	}
	for _, a := range plan.Access {
		w := "r"
		if a.Write {
			w = "w"
		}
		fmt.Fprintf(&b, ", %s %s.%s", w, a.DB, a.Table)
	}
	return b.String()
}

// TestPlans plans every statement of testdata/plans.txt and compares the
// plans with the file (go test ./router -run TestPlans -update rewrites
// it). Each case is a comment line, the statement, "----", and the plan.
func TestPlans(t *testing.T) {
	pl, p := testPlanner(t)
	path := "testdata/plans.txt"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, block := range strings.Split(strings.TrimSpace(string(data)), "\n\n") {
		lines := strings.Split(block, "\n")
		var comment, sql []string
		i := 0
		for ; i < len(lines) && strings.HasPrefix(lines[i], "#"); i++ {
			comment = append(comment, lines[i])
		}
		for ; i < len(lines) && lines[i] != "----"; i++ {
			sql = append(sql, lines[i])
		}
		want := ""
		if i < len(lines) {
			want = strings.Join(lines[i+1:], "\n")
		}
		q := strings.Join(sql, "\n")
		got := strings.TrimSpace(describe(pl, p, q))
		if !*update && got != want {
			t.Errorf("%s\n%s\ngot:\n%s\nwant:\n%s", strings.Join(comment, "\n"), q, got, want)
		}
		for _, c := range comment {
			out.WriteString(c + "\n")
		}
		fmt.Fprintf(&out, "%s\n----\n%s\n\n", q, got)
	}
	if *update {
		if err := os.WriteFile(path, bytes.TrimSpace(out.Bytes()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
