package migrate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkStopTheWorld measures a stop-the-world split of shard -80
// into two new shards at the demo's size (20,000 orders, 40,000 order
// items and their user_id index entries, about half of them moved) under
// four writers through two Courier instances: how long writes were held,
// the copy's rows per second, and the writers' rate before and during
// the migration. Run it with:
//
//	go test ./migrate -run '^$' -bench StopTheWorld -benchtime 1x
func BenchmarkStopTheWorld(b *testing.B) { benchMigration(b, "stop") }

// BenchmarkOnline is BenchmarkStopTheWorld in the online mode: the copy
// and the catch-up run while the writers go on; writes are held only for
// the switch.
//
//	go test ./migrate -run '^$' -bench Online -benchtime 1x
func BenchmarkOnline(b *testing.B) { benchMigration(b, "online") }

func benchMigration(b *testing.B, mode string) {
	from, to := layoutFile("-80=s0,80-=s1"), layoutFile("-40=s2,40-80=s3,80-=s1")
	for range b.N {
		b.StopTimer()
		e := newEnv(b, "mbench", from, 2)
		w := e.bulk(20000)
		w.start(4)
		time.Sleep(2 * time.Second)
		before := w.count()
		var moved int64
		opt := e.options("mbench")
		opt.Event, opt.Mode, opt.Chunk = func(string) {}, mode, 1000
		m, err := Open(context.Background(), from, to, e.db, NewFleet(e.admins, ""), opt)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Plan.Check(context.Background(), false); err != nil {
			b.Fatal(err)
		}
		for _, t := range m.Plan.Tables {
			moved += t.Estimate
		}
		b.StartTimer()
		mark := w.count()
		start := time.Now()
		if err := m.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		during := w.count() - mark
		b.StopTimer()
		time.Sleep(time.Second)
		w.finish()
		w.check()
		m.Close()
		b.ReportMetric(float64(m.State.Pause.Milliseconds()), "ms-held")
		b.ReportMetric(float64(moved)/took.Seconds(), "rows/s")
		b.ReportMetric(float64(before)/2, "writes/s-before")
		b.ReportMetric(float64(during)/took.Seconds(), "writes/s-during")
		b.Logf("%s: moved %d rows (orders, items, index entries, cities) in %s; writes held %s",
			mode, moved, took.Round(time.Millisecond), m.State.Pause.Round(time.Millisecond))
	}
}

// bulk loads n orders with two items each through the first instance,
// in multi-row inserts.
func (e *env) bulk(n int) *workload {
	w := &workload{e: e, orders: map[int64][2]int64{}, items: map[[2]int64]int{}, next: map[int]int64{}}
	db := e.clients[0]
	const batch = 500
	for lo := 1; lo <= n; lo += batch {
		var orders, items []string
		for k := int64(lo); k < int64(min(lo+batch, n+1)); k++ {
			orders = append(orders, fmt.Sprintf("(%d, %d, %d)", k, k%97, k))
			items = append(items, fmt.Sprintf("(%d, 1, 1), (%d, 2, 2)", k, k))
			w.orders[k] = [2]int64{k % 97, k}
			w.items[[2]int64{k, 1}], w.items[[2]int64{k, 2}] = 1, 2
		}
		mustExec(e.t, db, "INSERT INTO orders (order_id, user_id, amount) VALUES "+strings.Join(orders, ", "))
		mustExec(e.t, db, "INSERT INTO order_items (order_id, item, qty) VALUES "+strings.Join(items, ", "))
	}
	for i := 1; i <= 5; i++ {
		mustExec(e.t, db, "INSERT INTO cities (id, name) VALUES (?, ?)", i, fmt.Sprint("city", i))
	}
	return w
}

// count is the writes acknowledged so far.
func (w *workload) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}
