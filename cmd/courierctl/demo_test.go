package main

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/globalindex"
	"github.com/courier-proxy/courier/testbed"
)

// TestDemoLoadThroughCourier loads the delivery schema and a small data
// set through Courier configured with the demo's own file (pointed at two
// fresh shard primaries): orders are split over the shards, cities are on
// both, users only on the default cluster, and a second load changes
// nothing.
func TestDemoLoadThroughCourier(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lc := testbed.ClusterT(t, t.TempDir(), 2, 0)
	cfg, err := config.Load("../../testdata/courier.sharded.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.Admin, cfg.Log.Level = "127.0.0.1:0", "", "warn"
	shards := make([]*sql.DB, len(cfg.Clusters))
	for i := range cfg.Clusters {
		cfg.Clusters[i].Primary.Address = lc.Primary(i).Addr
		cfg.Clusters[i].Replicas = nil
		shards[i] = open(t, lc.DSN(lc.Primary(i), ""))
		exec(t, shards[i], "CREATE DATABASE delivery")
	}
	courier := testbed.StartT(t, cfg)

	schema, err := os.ReadFile("../../testdata/delivery/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	app := open(t, courier.DSN("app", "app", "", ""))
	app.SetMaxOpenConns(1) // USE delivery holds for the statements after it
	for _, stmt := range sqlStatements(string(schema)) {
		exec(t, app, stmt)
	}
	// The global index tables of orders, as scripts/demo.sh makes them.
	for _, column := range []string{"user_id", "rider_id", "merchant_id"} {
		ix, err := globalindex.Open(cfg, "delivery", "orders", column)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ix.Create(ctx); err != nil {
			t.Fatal(err)
		}
		ix.Close()
	}

	size := demoSize{Users: 50, Merchants: 5, Riders: 10, Orders: 400}
	load := demoLoad{Addr: courier.Addr, User: "app", Password: "app", DB: "delivery", Seed: 3, Size: size, Batch: 64}
	for range 2 {
		if err := loadDemo(ctx, load, io.Discard); err != nil {
			t.Fatal(err)
		}
	}

	count := func(db *sql.DB, table string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM delivery."+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		return n
	}
	s0, s1 := count(shards[0], "orders"), count(shards[1], "orders")
	if s0 == 0 || s1 == 0 || s0+s1 != size.Orders {
		t.Errorf("orders per shard: %d and %d, want both > 0 summing to %d", s0, s1, size.Orders)
	}
	for i, db := range shards {
		if n := count(db, "cities"); n != len(demoCities) {
			t.Errorf("shard %d has %d cities, want %d", i, n, len(demoCities))
		}
	}
	if n := count(shards[0], "users"); n != size.Users {
		t.Errorf("default cluster has %d users, want %d", n, size.Users)
	}
	var me *mysql.MySQLError
	if _, err := shards[1].ExecContext(ctx, "SELECT 1 FROM delivery.users"); !errors.As(err, &me) || me.Number != 1146 {
		t.Errorf("users on the second shard: got %v, want error 1146 (it is unsharded)", err)
	}

	db := open(t, courier.DSN("app", "app", "delivery", ""))
	want := generateDemo(3, size)[4].Rows[41] // order 42
	var id, user int
	if err := db.QueryRowContext(ctx, "SELECT order_id, user_id FROM orders WHERE order_id = 42").Scan(&id, &user); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(want, "(42, "+itoa(user)+", ") {
		t.Errorf("order 42 read through Courier has user %d; generated %s", user, want)
	}
}

// sqlStatements splits a SQL file into statements: lines starting with --
// are dropped and statements end with ';'. Enough for schema.sql.
func sqlStatements(file string) []string {
	var b strings.Builder
	for line := range strings.Lines(file) {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	var out []string
	for s := range strings.SplitSeq(b.String(), ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%.80s: %v", q, err)
	}
}
