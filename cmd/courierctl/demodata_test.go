package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestGenerateDemoIsDeterministic(t *testing.T) {
	a, b := generateDemo(1, defaultDemoSize), generateDemo(1, defaultDemoSize)
	if !slices.EqualFunc(a, b, func(x, y demoTable) bool { return slices.Equal(x.Rows, y.Rows) }) {
		t.Fatal("two data sets from seed 1 differ")
	}
	c := generateDemo(2, defaultDemoSize)
	if slices.Equal(a[4].Rows, c[4].Rows) {
		t.Fatal("seeds 1 and 2 gave the same orders")
	}
}

func TestGenerateDemoShape(t *testing.T) {
	size := demoSize{Users: 300, Merchants: 20, Riders: 40, Orders: 2000}
	tables := generateDemo(7, size)
	byName := map[string]demoTable{}
	for _, tb := range tables {
		byName[tb.Name] = tb
	}
	want := map[string]int{"cities": 8, "users": 300, "merchants": 20, "riders": 40, "orders": 2000}
	for name, n := range want {
		if got := len(byName[name].Rows); got != n {
			t.Errorf("%s: %d rows, want %d", name, got, n)
		}
	}
	if n := len(byName["order_items"].Rows); n < 2000 || n > 4*2000 {
		t.Errorf("order_items: %d rows for 2000 orders, want 1 to 4 each", n)
	}
	for i, row := range byName["orders"].Rows {
		if !strings.HasPrefix(row, fmt.Sprintf("(%d, ", i+1)) {
			t.Fatalf("order %d does not start with its key: %s", i+1, row)
		}
	}
	perUser := map[string]int{}
	for _, row := range byName["orders"].Rows {
		perUser[strings.Split(row, ", ")[1]]++
	}
	busiest := 0
	for _, n := range perUser {
		busiest = max(busiest, n)
	}
	if mean := 2000 / 300; busiest < 10*mean {
		t.Errorf("the busiest user has %d orders, the mean is %d: want a skew of 10× or more", busiest, mean)
	}
}

func TestDemoInserts(t *testing.T) {
	orders := generateDemo(1, demoSize{Users: 10, Merchants: 2, Riders: 2, Orders: 1001})[4]
	stmts := orders.inserts(500)
	if len(stmts) != 3 {
		t.Fatalf("%d statements for 1001 rows by 500, want 3", len(stmts))
	}
	head := "INSERT IGNORE INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at) VALUES ("
	for i, s := range stmts {
		if !strings.HasPrefix(s, head) {
			t.Fatalf("statement %d: %.120s", i, s)
		}
	}
	if got := strings.Count(stmts[2], "), ("); got != 0 {
		t.Fatalf("the last statement has %d rows, want 1", got+1)
	}
}
