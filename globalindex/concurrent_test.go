package globalindex

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/courier-proxy/courier/router/vindex"
)

// TestBackfillUnderWrites runs a backfill while a writer changes orders
// the way Courier does (entry before the row commits, entry removed after
// the row's change commits): afterwards nothing is missing, and repair
// clears whatever orphans the race left.
func TestBackfillUnderWrites(t *testing.T) {
	e := newEnv(t)
	data := orders(nOrders)
	e.load(data)
	x := e.openIndex("orders", "user_id")
	ctx := context.Background()
	if _, err := x.Create(ctx); err != nil {
		t.Fatal(err)
	}
	ic := orderIndexes[0]
	users := map[int64]*int64{} // order id → user_id, as the writer knows it
	var ids []int64
	for _, o := range data {
		users[o.id] = o.user
		ids = append(ids, o.id)
	}
	entry := func(u int64) int { return e.entryShard(ic, sqlNum(&u)) }
	row := func(k int64) int { return e.shardOf(vindex.Int, vindex.IntValue(k)) }

	// do runs a write from the writer goroutine, where t.Fatal may not be
	// called.
	do := func(s int, q string, args ...any) {
		if _, err := e.shards[s].Exec(q, args...); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	steps := 0
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		next := int64(5_000_000)
		for {
			select {
			case <-stop:
				return
			default:
			}
			steps++
			switch op := rng.IntN(3); {
			case op == 0: // insert
				next++
				u := rng.Int64N(97)
				do(entry(u), "INSERT INTO orders_by_user_id VALUES (?, ?)", u, next)
				do(row(next), "INSERT INTO orders (order_id, user_id) VALUES (?, ?)", next, u)
				users[next] = &u
				ids = append(ids, next)
			case op == 1: // change user_id
				k := ids[rng.IntN(len(ids))]
				old, u := users[k], rng.Int64N(97)
				if old == nil || *old == u {
					continue
				}
				do(entry(u), "INSERT IGNORE INTO orders_by_user_id VALUES (?, ?)", u, k)
				do(row(k), "UPDATE orders SET user_id = ? WHERE order_id = ?", u, k)
				do(entry(*old), "DELETE FROM orders_by_user_id WHERE user_id = ? AND order_id = ?", *old, k)
				users[k] = &u
			default: // delete
				k := ids[rng.IntN(len(ids))]
				old, ok := users[k]
				if !ok {
					continue
				}
				do(row(k), "DELETE FROM orders WHERE order_id = ?", k)
				if old != nil {
					do(entry(*old), "DELETE FROM orders_by_user_id WHERE user_id = ? AND order_id = ?", *old, k)
				}
				delete(users, k)
			}
		}
	}()
	_, err := x.Backfill(ctx, Options{Chunk: 50, Rate: 4000})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if steps < 50 {
		t.Fatalf("only %d writer steps overlapped the backfill", steps)
	}
	rep, err := x.Verify(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Missing != 0 {
		t.Fatalf("%d entries missing after a backfill under writes: %v", rep.Missing, rep.MissingSamples)
	}
	t.Logf("%d writer steps during the backfill left %d orphans", steps, rep.Orphans)
	if _, err := x.Repair(ctx, Options{Grace: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	checkVerify(t, x, 0, 0)
}
