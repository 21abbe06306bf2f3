package clients

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestDatabaseSQL runs the scenarios with go-sql-driver's default DSN
// (server-side prepared statements for every statement with arguments).
func TestDatabaseSQL(t *testing.T) { compare(t, sqlScenario(100_000), "") }

// TestDatabaseSQLInterpolated runs them with interpolateParams=true
// (the driver writes the values into the text).
func TestDatabaseSQLInterpolated(t *testing.T) {
	compare(t, sqlScenario(200_000), "interpolateParams=true")
}

// sqlScenario is the matrix's scenarios in plain database/sql, on the
// order_ids from base on.
func sqlScenario(base int64) func(dsn string, tr *transcript) error {
	return func(dsn string, tr *transcript) error {
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		ctx := context.Background()
		rows := func(q string, args ...any) error {
			rs, err := db.QueryContext(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rs.Close()
			cols, _ := rs.Columns()
			tr.add("%s %v → columns %v", q, args, cols)
			for rs.Next() {
				vals := make([]sql.NullString, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rs.Scan(ptrs...); err != nil {
					return err
				}
				var cells []string
				for _, v := range vals {
					cells = append(cells, fmt.Sprint(v.String, v.Valid))
				}
				tr.add("  %s", strings.Join(cells, " | "))
			}
			return rs.Err()
		}
		exec := func(q string, args ...any) error {
			r, err := db.ExecContext(ctx, q, args...)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			tr.add("%s %v → %d affected", q, args, n)
			return nil
		}
		order := "INSERT INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
		when := "2026-12-01 12:00:00.125"

		// Create, read, update and delete by order_id.
		for k := base; k < base+6; k++ {
			if err := exec(order, k, base+k%3, 7, nil, 1, "placed", 1000+k%100, when); err != nil {
				return err
			}
		}
		for _, step := range []func() error{
			func() error {
				return rows("SELECT order_id, user_id, rider_id, status, total_cents, created_at FROM orders WHERE order_id = ?", base+1)
			},
			func() error {
				return exec("UPDATE orders SET status = ?, rider_id = ? WHERE order_id = ?", "accepted", 42, base+1)
			},
			func() error { return rows("SELECT status, rider_id FROM orders WHERE order_id = ?", base+1) },
			func() error { return exec("DELETE FROM orders WHERE order_id = ?", base+5) },
			func() error { return rows("SELECT COUNT(*) FROM orders WHERE order_id = ?", base+5) },
			// By user_id: the global index.
			func() error {
				return rows("SELECT order_id, status FROM orders WHERE user_id = ? ORDER BY order_id", base+1)
			},
		} {
			if err := step(); err != nil {
				return err
			}
		}

		// A transaction of several statements by key.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		k := base + 10
		for _, s := range []struct {
			q    string
			args []any
		}{
			{order, []any{k, base + 9, 7, nil, 1, "placed", 0, when}},
			{"INSERT INTO order_items (order_id, line_no, item, qty, price_cents) VALUES (?, ?, ?, ?, ?)", []any{k, 1, "noodles", 2, 850}},
			{"INSERT INTO order_items (order_id, line_no, item, qty, price_cents) VALUES (?, ?, ?, ?, ?)", []any{k, 2, "tea", 1, 300}},
		} {
			r, err := tx.ExecContext(ctx, s.q, s.args...)
			if err != nil {
				_ = tx.Rollback()
				return fmt.Errorf("%s: %w", s.q, err)
			}
			n, _ := r.RowsAffected()
			tr.add("in a transaction: %s → %d affected", s.q, n)
		}
		var total int
		if err := tx.QueryRowContext(ctx, "SELECT SUM(qty * price_cents) FROM order_items WHERE order_id = ?", k).Scan(&total); err != nil {
			_ = tx.Rollback()
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE orders SET total_cents = ? WHERE order_id = ?", total, k); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT total_cents FROM orders WHERE order_id = ?", k).Scan(&total); err != nil {
			_ = tx.Rollback()
			return err
		}
		tr.add("in the transaction, its total: %d", total)
		if err := tx.Commit(); err != nil {
			return err
		}
		if err := rows("SELECT o.order_id, i.line_no, i.item FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE o.order_id = ? ORDER BY i.line_no", k); err != nil {
			return err
		}

		// A multi-row insert across shards, and an aggregate across them.
		var vals []string
		var args []any
		for k := base + 20; k < base+30; k++ {
			vals = append(vals, "(?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, k, base+k%4, 8, nil, 2, "delivered", 500+k%7, when)
		}
		if err := exec("INSERT INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at) VALUES "+strings.Join(vals, ", "), args...); err != nil {
			return err
		}
		if err := rows("SELECT status, COUNT(*), SUM(total_cents), MIN(order_id), MAX(created_at) FROM orders WHERE order_id BETWEEN ? AND ? GROUP BY status ORDER BY status", base, base+999); err != nil {
			return err
		}

		// An error, then the connection reused.
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		_, err = conn.ExecContext(ctx, "UPDATE orders SET no_such_column = 1 WHERE order_id = ?", base)
		var me *mysql.MySQLError
		if !errors.As(err, &me) {
			conn.Close()
			return fmt.Errorf("no MySQL error for an unknown column: %v", err)
		}
		tr.add("unknown column → error %d (%s)", me.Number, string(me.SQLState[:]))
		var one int
		if err := conn.QueryRowContext(ctx, "SELECT total_cents FROM orders WHERE order_id = ?", base).Scan(&one); err != nil {
			conn.Close()
			return err
		}
		tr.add("the same connection after the error: %d", one)
		conn.Close()

		// The pool under concurrent workers, each on its own orders.
		db.SetMaxOpenConns(4)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 5 {
					k := base + 100 + int64(w*10+i)
					if _, err := db.ExecContext(ctx, order, k, base+int64(w), 9, nil, 3, "placed", i, when); err != nil {
						errs <- err
						return
					}
					if _, err := db.ExecContext(ctx, "UPDATE orders SET total_cents = total_cents + 1 WHERE order_id = ?", k); err != nil {
						errs <- err
						return
					}
					var n int
					if err := db.QueryRowContext(ctx, "SELECT total_cents FROM orders WHERE order_id = ?", k).Scan(&n); err != nil || n != i+1 {
						errs <- fmt.Errorf("order %d: %d, %v", k, n, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			return err
		}
		return rows("SELECT COUNT(*), SUM(total_cents) FROM orders WHERE order_id BETWEEN ? AND ?", base+100, base+199)
	}
}
