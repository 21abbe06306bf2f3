package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/layout"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/testbed"
)

// TestIndexCommands runs create, backfill, verify and repair on two real
// shards and checks their output and exit codes.
func TestIndexCommands(t *testing.T) {
	lc := testbed.ClusterT(t, t.TempDir(), 2, 0)
	yaml := fmt.Sprintf(`
users: [{name: app, password: app}]
clusters:
  - {name: s0, user: %[1]s, password: %[2]s, primary: {address: "%[3]s"}}
  - {name: s1, user: %[1]s, password: %[2]s, primary: {address: "%[4]s"}}
default_cluster: s0
sharding:
  shards: [{range: "-80", cluster: s0}, {range: "80-", cluster: s1}]
  tables:
    - {name: orders, key: order_id, indexes: [{column: user_id}]}
`, lc.Spec.User, lc.Spec.Password, lc.Primary(0).Addr, lc.Primary(1).Addr)
	cfgPath := filepath.Join(t.TempDir(), "courier.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := layout.Schema(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var shards []*sql.DB
	for i := range 2 {
		db, err := sql.Open("mysql", lc.DSN(lc.Primary(i), ""))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		for _, q := range []string{"CREATE DATABASE shop", "CREATE TABLE shop.orders (order_id BIGINT PRIMARY KEY, user_id INT)"} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		shards = append(shards, db)
	}
	shardOf := func(kt vindex.KeyType, v int64) *sql.DB {
		id, _ := vindex.Hash{}.Map(kt, vindex.IntValue(v))
		if schema.Topo.Shard(id).Cluster == "s0" {
			return shards[0]
		}
		return shards[1]
	}
	for k := int64(1); k <= 50; k++ {
		if _, err := shardOf(vindex.Int, k).Exec("INSERT INTO shop.orders VALUES (?, ?)", k, k%7); err != nil {
			t.Fatal(err)
		}
	}

	run := func(args ...string) (string, int) {
		t.Helper()
		// The subcommand, the usual flags, then the test's own, which win.
		all := append(args[:2:2], "--config", cfgPath, "--schema", "shop", "--table", "orders", "--column", "user_id")
		return runCtl(append(all, args[2:]...)...)
	}
	expect := func(out string, code, wantCode int, want ...string) {
		t.Helper()
		expectOutput(t, out, code, wantCode, want...)
	}

	out, code := run("index", "create")
	expect(out, code, 0, "PRIMARY KEY (`user_id`, `order_id`)", "s0: created", "s1: created")
	out, code = run("index", "create", "--output", "json")
	expect(out, code, 0, `"clusters":{"s0":"exists","s1":"exists"}`)
	out, code = run("index", "backfill", "--rate", "0", "--chunk", "10")
	expect(out, code, 0, "read 50 rows, 50 with a value, 50 entries written", "backfill orders.user_id (orders_by_user_id): backfill s0=")
	out, code = run("index", "backfill", "--rate", "0", "--output", "json")
	expect(out, code, 0, `{"rows":0,"entries":0,"inserted":0,"finished":["s0","s1"],"conflicts":0}`)
	out, code = run("index", "verify")
	expect(out, code, 0, "50 rows, 50 entries", "missing entries: 0", "orphan entries: 0")

	if _, err := shardOf(vindex.Int, 3).Exec("DELETE FROM shop.orders_by_user_id WHERE user_id = 3 AND order_id = 3"); err != nil {
		t.Fatal(err)
	}
	out, code = run("index", "verify")
	expect(out, code, exitFindings, "missing entries: 1", "  user_id=3 order_id=3", "1 missing, 0 orphan entries")
	out, code = run("index", "verify", "--output", "json")
	expect(out, code, exitFindings, `{"rows":50,"entries":49,"missing":1,"missing_samples":[{"value":"3","key":"3"}],"orphans":0}`)
	out, code = run("index", "repair", "--grace", "10ms", "--output", "json")
	expect(out, code, 0, `"added":1,"deleted":0,"kept":0,"conflicts":0`)
	out, code = run("index", "verify")
	expect(out, code, 0, "missing entries: 0")

	out, code = run("index", "verify", "--column", "status")
	expect(out, code, 1, "no global index on orders.status")
}
