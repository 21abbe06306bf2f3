package router

import (
	"errors"
	"testing"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/router/engine"
)

func testPlans(t testing.TB) *Plans {
	pl, p := testPlanner(t)
	c := NewPlans(pl, p, 1<<20)
	t.Cleanup(c.Close)
	return c
}

func TestPlansCacheShapes(t *testing.T) {
	c := testPlans(t)
	shape := []byte("SELECT * FROM orders WHERE order_id = ?")
	var first *Plan
	for range 3 { // the store admits a shape on its second use
		first = c.Shape(shape, 1, Options{})
	}
	if first.Err != nil {
		t.Fatal(first.Err)
	}
	if got := c.Shape(shape, 1, Options{}); got != first {
		t.Fatal("a cached shape was planned again")
	}
	if got := c.Shape(shape, 1, Options{Mode: parser.AnsiQuotes}); got == first {
		t.Fatal("a plan was shared across sql modes")
	}
	c.Flush()
	if got := c.Shape(shape, 1, Options{}); got == first {
		t.Fatal("Flush kept a plan")
	}
	if c.Planner() == nil || c.Planner().Schema() == nil {
		t.Fatal("no planner")
	}
}

func TestPlansText(t *testing.T) {
	c := testPlans(t)
	p := c.Text([]byte(`SELECT * FROM orders WHERE order_id = 7`), Options{})
	if p.Err != nil || len(p.Consts) != 1 {
		t.Fatalf("plan %+v", p)
	}
	// Under ANSI_QUOTES "x" names a column; read as the server reads it.
	p = c.Text([]byte(`SELECT "status" FROM orders WHERE order_id IN (1, 2)`), Options{Mode: parser.AnsiQuotes})
	if p.Err != nil {
		t.Fatal(p.Err)
	}
	if got := engine.Format(p.Root); got == "" || !contains(got, "`status`") {
		t.Fatalf("plan:\n%s", got)
	}
	p = c.Text([]byte("SELEKT 1"), Options{})
	var pe *ParseError
	if !errors.As(p.Err, &pe) || pe.Unwrap() == nil || pe.Error() == "" {
		t.Fatalf("a parse error: %v", p.Err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestPlanHomeAndPrepare(t *testing.T) {
	c := testPlans(t)
	tests := map[string]int{
		"SELECT * FROM users":                              0,
		"SELECT * FROM orders WHERE order_id = ?":          0,
		"INSERT INTO order_items (order_id) VALUES (?)":    0,
		"ALTER TABLE orders ADD COLUMN x INT":              0,
		"SELECT * FROM orders WHERE order_id IN (?, ?, ?)": 0,
	}
	for sql, want := range tests {
		p := c.Text([]byte(sql), Options{})
		if p.Err != nil {
			t.Fatalf("%s: %v", sql, p.Err)
		}
		if got := p.Home(); got != want {
			t.Errorf("%s: home %d, want %d", sql, got, want)
		}
		if p.CachedSize(true) <= 0 {
			t.Errorf("%s: no size", sql)
		}
	}
	p := c.Text([]byte("SELECT * FROM orders WHERE order_id = 42"), Options{})
	var bv engine.Bind
	p.Prepare(&bv)
	if len(bv.Vals) != p.Slots || bv.Vals[0].ToString() != "42" {
		t.Fatalf("bind %v", bv.Vals)
	}
}
