package proxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
)

// heapAfterGC is the live heap of the process (Courier runs in the test's
// process).
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// The bound the README documents: what 10,000 distinct 1 MiB statements
// leave on the heap beyond an idle Courier, plan cache included.
const heapBound = 64 << 20

// testHeapBound sends 10,000 distinct statements of 1 MiB each (reads by
// key, each of its own shape; statements Courier refuses; statements too
// long for the plan cache), from two clients: the heap after GC stays
// within heapBound of the idle heap while the clients are connected and
// after they leave, and no error quotes more than a short prefix of its
// statement.
func testHeapBound(t *testing.T, e *replEnv) {
	if raceDetector {
		t.Skip("heap sizes under the race detector say nothing; scripts/test.sh runs this test without -race")
	}
	c := e.courier(t, "", nil)
	db := openDB(t, c.DSN("app", "app", "shop", ""))
	db.SetMaxOpenConns(2)
	mustExec(t, db, "SELECT order_id FROM orders WHERE order_id = 1")
	idle := heapAfterGC()

	// Statements of 1 MiB, the most Courier normalizes: their values are
	// bound into cached plans. One in a hundred has a shape of its own
	// longer than the plan cache keeps (planned each time).
	const n, size = 10000, 1 << 20
	pad := strings.Repeat("x", size-200)
	statement := func(i int) string {
		switch {
		case i%100 == 99:
			var b bytes.Buffer
			fmt.Fprintf(&b, "SELECT order_id FROM orders WHERE order_id = %d AND (0", i)
			for b.Len() < 128<<10 {
				fmt.Fprintf(&b, " OR status = c%d", b.Len())
			}
			b.WriteString(")")
			return b.String()
		case i%2 == 0: // a read by key, of its own shape (its alias)
			return fmt.Sprintf("SELECT order_id AS c%d FROM orders WHERE order_id = %d AND status <> '%s'", i, i, pad)
		}
		// refused by Courier (1235), of its own shape
		return fmt.Sprintf("SELECT GROUP_CONCAT(status LIMIT 2) AS c%d FROM orders WHERE status <> '%s'", i, pad)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 2 {
				rows, err := db.QueryContext(context.Background(), statement(i))
				if err == nil {
					for rows.Next() {
					}
					err = rows.Err()
					rows.Close()
				}
				var me *mysql.MySQLError
				switch {
				case err == nil:
				case errors.As(err, &me):
					if len(me.Message) > 512 {
						errs <- fmt.Errorf("statement %d: a %d-byte error message", i, len(me.Message))
						return
					}
				default:
					errs <- fmt.Errorf("statement %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	connected := heapAfterGC()
	db.Close()
	gone := heapAfterGC()
	t.Logf("heap after GC: idle %d MiB, after %d statements of 1 MiB %d MiB with the clients connected, %d MiB after they left",
		idle>>20, n, connected>>20, gone>>20)
	for _, h := range []uint64{connected, gone} {
		if h > idle+heapBound {
			t.Fatalf("heap after GC %d MiB, idle %d MiB: over the %d MiB bound", h>>20, idle>>20, heapBound>>20)
		}
	}
}

// testMergeBudget runs a GROUP BY whose groups, held for ORDER BY, exceed
// limits.merge_memory: error 1041, and the connection stays usable, with
// the budget given back.
func testMergeBudget(t *testing.T, e *replEnv) {
	c := e.courier(t, "", func(cfg *config.Config) { cfg.Limits.MergeMemory = 1 << 20 })
	const base, rows = 50_000_000, 40_000
	var stmts [replShards]strings.Builder
	for k := int64(base); k < base+rows; k++ {
		s := &stmts[replShardOf(k)]
		if s.Len() == 0 {
			s.WriteString("INSERT INTO shop.orders (order_id, user_id, status, total) VALUES ")
		} else {
			s.WriteString(",")
		}
		fmt.Fprintf(s, "(%d, %d, 'budget', 1)", k, k)
	}
	for i := range replShards {
		p := e.primary(i, "")
		mustExec(t, p, stmts[i].String())
		t.Cleanup(func() { mustExec(t, p, "DELETE FROM shop.orders WHERE status = 'budget'") })
	}
	syncReplicas(t, e)
	db := openDB(t, c.DSN("app", "app", "shop", ""))
	db.SetMaxOpenConns(1)
	q := "SELECT user_id, COUNT(*) AS c FROM orders WHERE status = 'budget' GROUP BY user_id ORDER BY c DESC, user_id LIMIT 3"
	for range 2 { // the second time too: the first gave back what it held
		_, err := db.Exec(q)
		wantMySQLError(t, err, 1041, "HY000")
		if got := queryString(t, db, "SELECT COUNT(*) FROM orders WHERE status = 'budget'"); got != fmt.Sprint(rows) {
			t.Fatalf("after the refused GROUP BY: %s rows", got)
		}
	}
	// Within the budget, the same shape answers.
	if got := queryString(t, db, "SELECT user_id FROM orders WHERE status = 'budget' AND user_id < 50000100 GROUP BY user_id ORDER BY COUNT(*) DESC, user_id LIMIT 1"); got != "50000000" {
		t.Fatalf("a GROUP BY within the budget: %s", got)
	}
}
