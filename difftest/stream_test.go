package difftest_test

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// streamRows is how many rows the streaming test reads across shards.
const streamRows = 1_000_000

// maxHeapGrowth bounds the growth of the test process's heap (Courier
// runs in it) while the rows stream: well under the ~115 MB the rows
// take on the wire, so keeping them, or any sizeable share, would fail.
const maxHeapGrowth = 64 << 20

// TestScatterStreamsMillionRows reads a million rows from four shards
// through Courier with a slow client and checks that the heap stays flat:
// a scatter read without ORDER BY forwards rows as they arrive.
func TestScatterStreamsMillionRows(t *testing.T) {
	e := setup(t)
	e.createSchema(t, "stream")
	mustExec(t, e.courierDB(t, "stream"), "CREATE TABLE nums (id BIGINT PRIMARY KEY, v INT NOT NULL)")
	start := time.Now()
	loadNums(t, e)
	e.syncReplicas(t) // the read goes to the replicas
	t.Logf("loaded %d rows on %d shards in %v", streamRows, shards, time.Since(start).Round(time.Millisecond))

	db := e.courierDB(t, "stream")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap, baseAlloc := ms.HeapInuse, ms.TotalAlloc
	peak := baseHeap
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()

	start = time.Now()
	rows, err := conn.QueryContext(ctx, "SELECT id, v, REPEAT('x', 100) AS pad FROM nums")
	if err != nil {
		t.Fatal(err)
	}
	var (
		n, sum, bytes int64
		id, v         int64
		pad           sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&id, &v, &pad); err != nil {
			t.Fatal(err)
		}
		n++
		sum += id
		bytes += int64(len(pad)) + 16
		if n%10_000 == 0 {
			time.Sleep(5 * time.Millisecond) // a slow reader: Courier must wait, not buffer
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	close(stop)
	sampler.Wait()
	runtime.ReadMemStats(&ms)

	if n != streamRows || sum != streamRows*(streamRows+1)/2 {
		t.Fatalf("read %d rows with key sum %d; want %d rows", n, sum, streamRows)
	}
	growth := int64(peak) - int64(baseHeap)
	t.Logf("streamed %d rows (~%d MiB) in %v; heap in use %d MiB before, peak growth %.1f MiB; %.0f bytes allocated per row",
		n, bytes>>20, time.Since(start).Round(time.Millisecond), baseHeap>>20, float64(growth)/(1<<20), float64(ms.TotalAlloc-baseAlloc)/float64(n))
	if growth > maxHeapGrowth {
		t.Fatalf("heap grew by %d MiB while streaming; want under %d MiB", growth>>20, maxHeapGrowth>>20)
	}
}

// loadNums puts keys 1..streamRows on the shards that own them, with
// large multi-row INSERTs straight to each shard's server.
func loadNums(t *testing.T, e *env) {
	const batch = 25_000
	var dbs [shards]*sql.DB
	var work [shards]chan string
	var wg sync.WaitGroup
	for i := range shards {
		dbs[i] = e.shardDB(t, i, "stream")
		work[i] = make(chan string, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := range work[i] {
				if _, err := dbs[i].Exec(q); err != nil {
					t.Errorf("shard %d: %v", i, err)
				}
			}
		}()
	}
	var parts [shards]strings.Builder
	var counts [shards]int
	flush := func(i int) {
		work[i] <- "INSERT INTO nums (id, v) VALUES " + parts[i].String()
		parts[i].Reset()
		counts[i] = 0
	}
	for k := int64(1); k <= streamRows; k++ {
		i := shardOf(k)
		if counts[i] > 0 {
			parts[i].WriteString(", ")
		}
		fmt.Fprintf(&parts[i], "(%d, %d)", k, k%1000)
		if counts[i]++; counts[i] == batch {
			flush(i)
		}
	}
	for i := range shards {
		if counts[i] > 0 {
			flush(i)
		}
		close(work[i])
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}
