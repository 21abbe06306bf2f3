package proxy_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFiveHundredClients: 500 concurrent client connections doing mixed
// work (reads, autocommit writes, transactions, prepared statements,
// session variables) through Courier, with zero errors.
func TestFiveHundredClients(t *testing.T) {
	e := newEnv(t)
	mustExec(t, e.direct(""), "CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, amount INT, KEY (user_id)) ENGINE=InnoDB")
	db := e.proxied("")
	db.SetMaxOpenConns(500)
	db.SetMaxIdleConns(500)
	const clients, rounds = 500, 6
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var failures atomic.Int64
	var firstErr sync.Once
	fail := func(err error) {
		failures.Add(1)
		firstErr.Do(func() { t.Errorf("first failure: %v", err) })
	}
	var ready, wg sync.WaitGroup
	ready.Add(clients)
	start := make(chan struct{})
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := db.Conn(ctx)
			ready.Done()
			if err != nil {
				fail(err)
				return
			}
			defer c.Close()
			<-start
			if _, err := c.ExecContext(ctx, "SET SESSION sql_mode = ?", fmt.Sprintf("STRICT_TRANS_TABLES%s", map[bool]string{true: ",ANSI_QUOTES"}[w%2 == 0])); err != nil {
				fail(err)
				return
			}
			for r := range rounds {
				id := w*100 + r
				if _, err := c.ExecContext(ctx, "INSERT INTO orders VALUES (?, ?, ?)", id, w, r); err != nil {
					fail(err)
					return
				}
				tx, err := c.BeginTx(ctx, nil)
				if err != nil {
					fail(err)
					return
				}
				if _, err := tx.ExecContext(ctx, "UPDATE orders SET amount = amount + 1 WHERE id = ?", id); err != nil {
					fail(err)
					tx.Rollback()
					return
				}
				if err := tx.Commit(); err != nil {
					fail(err)
					return
				}
				var sum, n int
				if err := c.QueryRowContext(ctx, "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM orders WHERE user_id = ?", w).Scan(&sum, &n); err != nil {
					fail(err)
					return
				}
				if n != r+1 {
					fail(fmt.Errorf("client %d round %d sees %d of its orders", w, r, n))
					return
				}
				var mode string
				if err := c.QueryRowContext(ctx, "SELECT @@sql_mode").Scan(&mode); err != nil {
					fail(err)
					return
				}
				if (w%2 == 0) != (len(mode) > len("STRICT_TRANS_TABLES")) {
					fail(fmt.Errorf("client %d has sql_mode %q", w, mode))
					return
				}
			}
		}()
	}
	ready.Wait()
	close(start)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d clients failed", n, clients)
	}
	if got := queryString(t, e.direct(""), "SELECT COUNT(*) FROM orders"); got != fmt.Sprint(clients*rounds) {
		t.Fatalf("rows = %s", got)
	}
}
