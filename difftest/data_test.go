package difftest_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/courier-proxy/courier/difftest"
)

var small = difftest.Sizes{Users: 50, Merchants: 10, Riders: 20, Orders: 600}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b, c := difftest.Generate(1, small), difftest.Generate(1, small), difftest.Generate(2, small)
	inserts := func(d *difftest.Dataset) string {
		var all []string
		for _, tb := range d.Tables() {
			all = append(all, tb.Inserts(100)...)
		}
		return strings.Join(all, ";\n")
	}
	if inserts(a) != inserts(b) {
		t.Fatal("the same seed gave different data")
	}
	if inserts(a) == inserts(c) {
		t.Fatal("different seeds gave the same data")
	}
	seen := map[int64]bool{}
	var nulls, negative int
	for _, o := range a.Orders {
		if seen[o.ID] {
			t.Fatalf("key %d twice", o.ID)
		}
		seen[o.ID] = true
		if o.RiderID == 0 {
			nulls++
		}
		if o.ID < 0 {
			negative++
		}
	}
	if !seen[0] || nulls == 0 || negative == 0 {
		t.Fatalf("want key 0, orders without rider and negative keys; got %v, %d, %d", seen[0], nulls, negative)
	}
	for _, it := range a.Items {
		if !seen[it.OrderID] || it.LineNo < 1 || it.LineNo > 4 {
			t.Fatalf("item %+v", it)
		}
	}
}

func TestInsertsBatchEveryRow(t *testing.T) {
	tb := difftest.Table{Name: "t", Columns: []string{"a", "b"}, Rows: [][]string{{"1", "'x'"}, {"2", "NULL"}, {"3", "'it''s'"}}}
	got := tb.Inserts(2)
	want := []string{"INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL)", "INSERT INTO t (a, b) VALUES (3, 'it''s')"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
	if q := difftest.Quote(`a'b\c`); q != `'a''b\\c'` {
		t.Fatalf("Quote: %s", q)
	}
}

func TestTableStatements(t *testing.T) {
	schema, err := os.ReadFile("../testdata/delivery/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	st := difftest.TableStatements(string(schema))
	if len(st) != 6 {
		t.Fatalf("%d statements: %q", len(st), st)
	}
	for _, s := range st {
		if !strings.HasPrefix(s, "CREATE TABLE") || strings.Contains(s, "--") {
			t.Fatalf("statement %q", s)
		}
	}
}
