package difftest_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// healer undoes on the shards what a defect left behind, so that one
// defect shows as one mismatch rather than as every later statement that
// meets its traces. It ends the transactions Courier left open on the
// shards (their row locks would stall later statements for the lock wait
// timeout), and puts rows back as the reference server holds them after
// a write Courier got wrong (or every later read of them, a scatter read
// or an aggregate, would report the same defect again). It works on the
// shards' primaries directly, never through Courier, and keeps the
// global index tables (see courierConfig) in step with the rows.
type healer struct {
	e      *env
	ref    *sql.DB
	shards [shards]*sql.DB
	// Healed counts the orders set right, Ended the transactions ended.
	Healed, Ended int
}

func newHealer(t *testing.T, e *env, ref *sql.DB) *healer {
	h := &healer{e: e, ref: ref}
	for i := range shards {
		h.shards[i] = e.shardDB(t, i, "delivery")
	}
	return h
}

// heal sets the orders with keys ks, their items and their index entries
// on the shards to the reference's, then waits until the replicas have
// them too (they are no session's own writes).
func (h *healer) heal(ctx context.Context, t *testing.T, ks []int64) error {
	if len(ks) == 0 {
		return nil
	}
	texts := make([]string, len(ks))
	for i, k := range ks {
		texts[i] = strconv.FormatInt(k, 10)
	}
	list := strings.Join(texts, ", ")
	orders, err := h.rows(ctx, "SELECT order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at FROM orders WHERE order_id IN ("+list+")")
	if err != nil {
		return err
	}
	items, err := h.rows(ctx, "SELECT order_id, line_no, item, qty, price_cents FROM order_items WHERE order_id IN ("+list+")")
	if err != nil {
		return err
	}
	// Every shard loses the rows and their entries (a wrong write may have
	// put a row on a shard that does not own it); the owners get the
	// reference's.
	var stmts [shards][]stmt
	for i := range shards {
		for _, table := range []string{"orders", "order_items", "orders_by_user_id", "orders_by_rider_id"} {
			stmts[i] = append(stmts[i], stmt{"DELETE FROM " + table + " WHERE order_id IN (" + list + ")", nil})
		}
	}
	stmts[0] = append(stmts[0], stmt{"DELETE FROM orders_by_merchant_id WHERE order_id IN (" + list + ")", nil})
	for _, o := range orders {
		k, user, merchant, rider := o[0], o[1], o[2], o[3]
		s := shardOf(atoi(k))
		stmts[s] = append(stmts[s], stmt{"INSERT INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", o})
		stmts[shardOf(atoi(user))] = append(stmts[shardOf(atoi(user))], stmt{"INSERT INTO orders_by_user_id (user_id, order_id) VALUES (?, ?)", []any{user, k}})
		stmts[0] = append(stmts[0], stmt{"INSERT INTO orders_by_merchant_id (merchant_id, order_id) VALUES (?, ?)", []any{merchant, k}})
		if rider != nil {
			stmts[shardOf(atoi(rider))] = append(stmts[shardOf(atoi(rider))], stmt{"INSERT INTO orders_by_rider_id (rider_id, order_id) VALUES (?, ?)", []any{rider, k}})
		}
	}
	for _, it := range items {
		s := shardOf(atoi(it[0]))
		stmts[s] = append(stmts[s], stmt{"INSERT INTO order_items (order_id, line_no, item, qty, price_cents) VALUES (?, ?, ?, ?, ?)", it})
	}
	for i, st := range stmts {
		if err := h.apply(ctx, h.shards[i], st); err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
	}
	h.Healed += len(ks)
	h.e.syncReplicas(t)
	return nil
}

// endLeaked ends every transaction open on an idle connection to a
// shard's primary: between two statements of the run no session has
// one, so any there is one Courier kept after its session's transaction
// was over. It returns how many it ended.
//
// The transactions come from SHOW ENGINE INNODB STATUS, which is read
// live; information_schema.innodb_trx would do, but InnoDB serves it
// from a cache that a read within 100 ms of the last returns unchanged.
func (h *healer) endLeaked(ctx context.Context) (int, error) {
	n := 0
	for i, db := range h.shards {
		active, err := innodbActive(ctx, db)
		if err != nil {
			return n, fmt.Errorf("shard %d: %w", i, err)
		}
		if len(active) == 0 {
			continue
		}
		rows, err := db.QueryContext(ctx, "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND id <> CONNECTION_ID()")
		if err != nil {
			return n, fmt.Errorf("shard %d: %w", i, err)
		}
		var idle []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return n, err
			}
			if active[id] != "" {
				idle = append(idle, id)
			}
		}
		rows.Close()
		// A transaction seen again after its connection was seen idle was
		// open between statements; one that ended meanwhile (a statement
		// of Courier's own, in flight at the first look) was not.
		again, err := innodbActive(ctx, db)
		if err != nil {
			return n, fmt.Errorf("shard %d: %w", i, err)
		}
		idle = slices.DeleteFunc(idle, func(id int64) bool { return again[id] != active[id] })
		for _, id := range idle {
			// Gone already is as good as ended.
			if _, err := db.ExecContext(ctx, "KILL CONNECTION "+strconv.FormatInt(id, 10)); err == nil {
				n++
			}
		}
	}
	h.Ended += n
	return n, nil
}

// innodbActive reads the active transactions of db's server, by thread.
func innodbActive(ctx context.Context, db *sql.DB) (map[int64]string, error) {
	var typ, name, status string
	if err := db.QueryRowContext(ctx, "SHOW ENGINE INNODB STATUS").Scan(&typ, &name, &status); err != nil {
		return nil, err
	}
	return activeThreads(status), nil
}

// activeThreads maps the connection ids with an active transaction in
// the TRANSACTIONS part of SHOW ENGINE INNODB STATUS, where each
// "---TRANSACTION id, ACTIVE ..." line is followed by a
// "MariaDB thread id N, ..." line ("MySQL thread id" in MySQL), to the
// transaction's id.
func activeThreads(status string) map[int64]string {
	out := map[int64]string{}
	active, trx := false, ""
	for _, line := range strings.Split(status, "\n") {
		switch {
		case strings.HasPrefix(line, "---TRANSACTION"):
			active = strings.Contains(line, "ACTIVE")
			trx, _, _ = strings.Cut(strings.TrimPrefix(line, "---TRANSACTION "), ",")
		case active && (strings.HasPrefix(line, "MariaDB thread id ") || strings.HasPrefix(line, "MySQL thread id ")):
			_, rest, _ := strings.Cut(line, " thread id ")
			f := strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' })
			if len(f) > 0 {
				if id, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					out[id] = trx
				}
			}
			active = false
		}
	}
	return out
}

type stmt struct {
	sql  string
	args []any
}

// apply runs stmts in one transaction on db.
func (h *healer) apply(ctx context.Context, db *sql.DB, stmts []stmt) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("%s: %w", s.sql, err)
		}
	}
	return tx.Commit()
}

// rows reads the reference's rows as values to write back (nil for NULL).
func (h *healer) rows(ctx context.Context, q string) ([][]any, error) {
	rows, err := h.ref.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make([]any, len(cols))
		for i, v := range vals {
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// atoi is a key the reference sent as text.
func atoi(v any) int64 {
	n, err := strconv.ParseInt(v.(string), 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}

func TestActiveThreads(t *testing.T) {
	status := `------------
TRANSACTIONS
------------
Trx id counter 740
LIST OF TRANSACTIONS FOR EACH SESSION:
---TRANSACTION 736, ACTIVE 2 sec
2 lock struct(s), heap size 1128, 1 row lock(s), undo log entries 1
MariaDB thread id 30, OS thread handle 140462008772288, query id 403 127.0.0.1 courier
---TRANSACTION (0x7fbfdd00a180), not started
0 lock struct(s), heap size 1128, 0 row lock(s)
MariaDB thread id 31, OS thread handle 1, query id 1 127.0.0.1 courier
---TRANSACTION 737, ACTIVE 0 sec
MySQL thread id 7, OS thread handle 2, query id 5 localhost root
--------
FILE I/O
--------
`
	got := activeThreads(status)
	if len(got) != 2 || got[30] != "736" || got[7] != "737" {
		t.Fatalf("activeThreads = %v, want 30 and 7", got)
	}
}
