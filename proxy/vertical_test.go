package proxy_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/testbed"
)

// TestVerticalSplit: an unsharded table placed on a cluster of its own
// (payments on "pay", beside orders sharded over s0 and s1, every
// cluster with a replica) is created, written and read there alone, in
// text and prepared statements, in and out of transactions, with its
// writes read back at once from the replicas; statements that would make
// it meet tables of another cluster are refused with 1235 and the
// connection goes on.
func TestVerticalSplit(t *testing.T) {
	lc := testbed.ClusterT(t, t.TempDir(), 3, 1)
	yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
admin: ""
users: [{name: app, password: app, access: admin}]
clusters:
  - {name: s0, user: %[1]s, password: %[2]s, primary: {address: "%[3]s"}, replicas: [{address: "%[6]s"}]}
  - {name: s1, user: %[1]s, password: %[2]s, primary: {address: "%[4]s"}, replicas: [{address: "%[7]s"}]}
  - {name: pay, user: %[1]s, password: %[2]s, primary: {address: "%[5]s"}, replicas: [{address: "%[8]s"}]}
default_cluster: s0
sharding:
  shards: [{range: "-80", cluster: s0}, {range: "80-", cluster: s1}]
  tables:
    - {name: orders, key: order_id}
    - {name: payments, type: unsharded, cluster: pay}
`, lc.Spec.User, lc.Spec.Password, lc.Primary(0).Addr, lc.Primary(1).Addr, lc.Primary(2).Addr,
		lc.Replicas(0)[0].Addr, lc.Replicas(1)[0].Addr, lc.Replicas(2)[0].Addr)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, courier: testbed.StartT(t, cfg), schema: "shop"}
	for i := range 3 {
		mustExec(t, e.open(lc.DSN(lc.Primary(i), "")), "CREATE DATABASE shop")
	}
	primary := func(i int) *sql.DB { return e.open(lc.DSN(lc.Primary(i), "shop")) }
	ctx := context.Background()
	prepared, text := e.proxied(""), e.proxied("interpolateParams=true")
	mustExec(t, prepared, "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, amount INT)")
	mustExec(t, prepared, "CREATE TABLE payments (payment_id BIGINT PRIMARY KEY, order_id BIGINT, amount INT)")
	for i, want := range []bool{false, false, true} {
		var n int
		if err := primary(i).QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'payments'").Scan(&n); err != nil || (n == 1) != want {
			t.Fatalf("cluster %d holds payments: %d, %v; want %v", i, n, err, want)
		}
	}

	for name, db := range map[string]*sql.DB{"prepared": prepared, "text": text} {
		base := map[string]int64{"prepared": 100, "text": 200}[name]
		// Autocommit writes, read back at once (from pay's replica).
		for k := base; k < base+20; k++ {
			mustExec(t, db, "INSERT INTO payments (payment_id, order_id, amount) VALUES (?, ?, ?)", k, k, 10)
			var amount int
			if err := db.QueryRow("SELECT amount FROM payments WHERE payment_id = ?", k).Scan(&amount); err != nil || amount != 10 {
				t.Fatalf("%s: payment %d read back: %d, %v", name, k, amount, err)
			}
		}
		// A transaction of several statements on the table's cluster.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, "UPDATE payments SET amount = amount + ? WHERE payment_id = ?", 5, base)
		mustExec(t, tx, "DELETE FROM payments WHERE payment_id = ?", base+1)
		var amount int
		if err := tx.QueryRow("SELECT amount FROM payments WHERE payment_id = ?", base).Scan(&amount); err != nil || amount != 15 {
			t.Fatalf("%s: in the transaction: %d, %v", name, amount, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM payments WHERE payment_id BETWEEN ? AND ?", base, base+19).Scan(&n); err != nil || n != 19 {
			t.Fatalf("%s: payments after the transaction: %d, %v", name, n, err)
		}
		// Tables of two clusters do not meet: refused, and the
		// connection goes on.
		for _, q := range []string{
			"SELECT * FROM orders o JOIN payments p ON p.order_id = o.order_id WHERE o.order_id = ?",
			"SELECT * FROM payments WHERE order_id IN (SELECT order_id FROM orders WHERE order_id = ?)",
		} {
			_, err := db.Exec(q, 1)
			wantMySQLError(t, err, 1235, "42000")
		}
		// A transaction that reaches a shard and then pay: the second
		// cluster is refused (multi_shard_transactions: reject) and the
		// transaction stays usable on the first.
		tx, err = db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, "INSERT INTO orders (order_id, amount) VALUES (?, ?)", base, 1)
		_, err = tx.Exec("INSERT INTO payments (payment_id, order_id, amount) VALUES (?, ?, ?)", base+50, base, 1)
		wantMySQLError(t, err, 1235, "42000")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// Every payment is on pay's primary only; every order on a shard.
	var n int
	if err := primary(2).QueryRow("SELECT COUNT(*) FROM payments").Scan(&n); err != nil || n != 38 {
		t.Fatalf("payments on pay: %d, %v", n, err)
	}
	for i := range 2 {
		if err := primary(i).QueryRow("SELECT COUNT(*) FROM payments").Scan(&n); err == nil {
			t.Fatalf("cluster %d has a payments table", i)
		}
	}
	if err := prepared.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 2 {
		t.Fatalf("orders: %d, %v", n, err)
	}
	var name, def string
	if err := prepared.QueryRow("SHOW CREATE TABLE payments").Scan(&name, &def); err != nil || name != "payments" {
		t.Fatalf("SHOW CREATE TABLE payments: %q, %v", name, err)
	}
}
