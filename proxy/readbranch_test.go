package proxy_test

import (
	"context"
	"strings"
	"testing"
)

// TestTransactionReadsOnAnyShard: with multi_shard_transactions: reject,
// a transaction may read on every shard (by key, and across them) but
// write on one only; a write on a second is refused with 1235 and the
// transaction goes on and commits its writes, in text and prepared
// statements and with autocommit off.
func TestTransactionReadsOnAnyShard(t *testing.T) {
	e := newGovernedEnv(t, "", "")
	ctx := context.Background()
	for _, params := range []string{"", "interpolateParams=true"} {
		db := e.proxied(params)
		a, b := keyOn(0, 0), keyOn(1, 0)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, "UPDATE orders SET amount = amount + 100 WHERE order_id = ?", a)
		var n, sum int
		if err := tx.QueryRow("SELECT amount FROM orders WHERE order_id = ?", b).Scan(&n); err != nil {
			t.Fatalf("%q: a read on the other shard in the transaction: %v", params, err)
		}
		if err := tx.QueryRow("SELECT COUNT(*), SUM(amount) FROM orders").Scan(&n, &sum); err != nil || n != 40 {
			t.Fatalf("%q: a read across the shards in the transaction: %d, %v", params, n, err)
		}
		_, err = tx.Exec("UPDATE orders SET amount = amount + 100 WHERE order_id = ?", b)
		wantMySQLError(t, err, 1235, "42000")
		if err != nil && !strings.Contains(err.Error(), "a transaction that writes on two shards") {
			t.Fatalf("%q: %v", params, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("%q: commit: %v", params, err)
		}
		var ga, gb int
		if err := db.QueryRow("SELECT amount FROM orders WHERE order_id = ?", a).Scan(&ga); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT amount FROM orders WHERE order_id = ?", b).Scan(&gb); err != nil {
			t.Fatal(err)
		}
		if ga < 100 || gb >= 100 {
			t.Fatalf("%q: after the commit: order %d %d (written), order %d %d (refused)", params, a, ga, b, gb)
		}
		mustExec(t, db, "UPDATE orders SET amount = amount - 100 WHERE order_id = ?", a)
	}

	// Autocommit off: every statement is in a transaction, reads across
	// the shards included; the first shard written is the one.
	c, err := e.proxied("").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustExec(t, c, "SET autocommit = 0")
	var n int
	if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 40 {
		t.Fatalf("autocommit off, a read across the shards: %d, %v", n, err)
	}
	mustExec(t, c, "UPDATE orders SET amount = amount WHERE order_id = ?", keyOn(1, 1))
	_, err = c.ExecContext(ctx, "UPDATE orders SET amount = amount WHERE order_id = ?", keyOn(0, 1))
	wantMySQLError(t, err, 1235, "42000")
	mustExec(t, c, "COMMIT")
	mustExec(t, c, "UPDATE orders SET amount = amount WHERE order_id = ?", keyOn(0, 1)) // a new transaction: any shard
	mustExec(t, c, "ROLLBACK")
}
