package globalindex

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-proxy/courier/router/vindex"
)

const nOrders = 3000

// indexCase is one of the configured indexes of orders, with how to read
// the value of an order and where its entries live.
type indexCase struct {
	column  string
	value   func(order) (string, bool)
	kt      vindex.KeyType
	sharded bool
}

var orderIndexes = []indexCase{
	{"user_id", func(o order) (string, bool) { return sqlNum(o.user), o.user != nil }, vindex.Int, true},
	{"rider_id", func(o order) (string, bool) { return sqlNum(o.rider), o.rider != nil }, vindex.Uint, false},
	{"code", func(o order) (string, bool) {
		if o.code == nil {
			return "", false
		}
		return *o.code, true
	}, vindex.Bytes, true},
}

// entryShard is the cluster index (s0..s3) holding value v's entries.
func (e *env) entryShard(ic indexCase, v string) int {
	if !ic.sharded {
		return 0 // default_cluster s0
	}
	val, err := vindex.ParseValue(ic.kt, v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.shardOf(ic.kt, val)
}

// TestBackfillVerifyRepair builds each index of orders, damages it and
// repairs it, checking verify's exact counts at every step.
func TestBackfillVerifyRepair(t *testing.T) {
	e := newEnv(t)
	data := orders(nOrders)
	e.load(data)
	ctx := context.Background()
	for _, ic := range orderIndexes {
		t.Run(ic.column, func(t *testing.T) {
			x := e.openIndex("orders", ic.column)
			table := x.Layout().Table
			want := map[int]bool{0: true, 1: true, 2: true, 3: true}
			if !ic.sharded {
				want = map[int]bool{0: true}
			}
			created, err := x.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(created) != len(want) {
				t.Fatalf("created on %v", created)
			}
			if again, err := x.Create(ctx); err != nil || len(again) != 0 {
				t.Fatalf("second create: %v, %v", again, err)
			}

			var entries int64
			for _, o := range data {
				if _, ok := ic.value(o); ok {
					entries++
				}
			}
			res, err := x.Backfill(ctx, Options{Chunk: 256, Batch: 100})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != nOrders || res.Entries != entries || res.Inserted != entries || res.Conflicts != 0 {
				t.Fatalf("backfill = %+v; want %d rows, %d entries", res, nOrders, entries)
			}
			var onShards int64
			for s := range 4 {
				if n := e.count(s, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", table); n == 1 {
					onShards += e.count(s, "SELECT COUNT(*) FROM "+table)
				} else if want[s] {
					t.Fatalf("no %s on s%d", table, s)
				}
			}
			if onShards != entries {
				t.Fatalf("%d entries on the shards, want %d", onShards, entries)
			}
			checkVerify(t, x, 0, 0)

			// Damage: delete entries of 7 rows; add orphans: 3 whose key has
			// no row, 2 whose row holds another value, and for a sharded
			// index 1 correct entry on the wrong index shard.
			var deleted []Entry
			for _, o := range data {
				if v, ok := ic.value(o); ok && len(deleted) < 7 {
					deleted = append(deleted, Entry{v, strconv.FormatInt(o.id, 10)})
					e.exec(e.shards[e.entryShard(ic, v)], fmt.Sprintf("DELETE FROM %s WHERE %s = ? AND order_id = ?", table, ic.column), v, o.id)
				}
			}
			bogus := []Entry{{"5", "1000004"}, {"6", "1000005"}, {"7", "1000006"}}
			if ic.column == "code" {
				bogus = []Entry{{"X1", "1000004"}, {"X2", "1000005"}, {"X3", "1000006"}}
			}
			bogus = append(bogus, Entry{"11", strconv.FormatInt(data[0].id, 10)}, Entry{"12", strconv.FormatInt(data[1].id, 10)})
			if ic.column == "code" {
				bogus[3].Value, bogus[4].Value = "X4", "X5"
			}
			for _, b := range bogus {
				e.exec(e.shards[e.entryShard(ic, b.Value)], fmt.Sprintf("INSERT INTO %s (%s, order_id) VALUES (?, ?)", table, ic.column), b.Value, b.Key)
			}
			orphans := len(bogus)
			if ic.sharded {
				// data[10]'s entry, copied to the next shard.
				v, ok := ic.value(data[10])
				if !ok {
					t.Fatal("data[10] has no value")
				}
				wrong := (e.entryShard(ic, v) + 1) % 4
				e.exec(e.shards[wrong], fmt.Sprintf("INSERT INTO %s (%s, order_id) VALUES (?, ?)", table, ic.column), v, data[10].id)
				orphans++
			}
			rep := checkVerify(t, x, len(deleted), orphans)
			if !slices.Contains(rep.MissingSamples, deleted[0]) || !slices.Contains(rep.OrphanSamples, bogus[0]) {
				t.Errorf("samples: missing %v, orphans %v", rep.MissingSamples, rep.OrphanSamples)
			}

			rr, err := x.Repair(ctx, Options{Grace: 200 * time.Millisecond, Batch: 100})
			if err != nil {
				t.Fatal(err)
			}
			if rr.Missing != int64(len(deleted)) || rr.Added != int64(len(deleted)) || rr.Orphans != int64(orphans) ||
				rr.Deleted != int64(orphans) || rr.Kept != 0 || rr.Conflicts != 0 {
				t.Fatalf("repair = %+v", rr)
			}
			checkVerify(t, x, 0, 0)
		})
	}
}

func checkVerify(t *testing.T, x *Index, missing, orphans int) *Report {
	t.Helper()
	rep, err := x.Verify(context.Background(), Options{Chunk: 300, Batch: 128})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Missing != int64(missing) || rep.Orphans != int64(orphans) || rep.Clean() != (missing+orphans == 0) {
		t.Fatalf("verify: %d missing %v, %d orphans %v; want %d and %d",
			rep.Missing, rep.MissingSamples, rep.Orphans, rep.OrphanSamples, missing, orphans)
	}
	if rep.Rows == 0 || rep.Entries == 0 {
		t.Fatalf("verify read %d rows and %d entries", rep.Rows, rep.Entries)
	}
	return rep
}

// TestRepairSparesWritesInFlight: an entry whose row commits during the
// grace period is kept; a real orphan is deleted.
func TestRepairSparesWritesInFlight(t *testing.T) {
	e := newEnv(t)
	e.load(orders(200))
	x := e.openIndex("orders", "user_id")
	ctx := context.Background()
	if _, err := x.Create(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Backfill(ctx, Options{}); err != nil {
		t.Fatal(err)
	}
	ic := orderIndexes[0]
	const inFlight, orphan = 2000001, 2000002
	for _, k := range []int64{inFlight, orphan} {
		e.exec(e.shards[e.entryShard(ic, "42")], "INSERT INTO orders_by_user_id (user_id, order_id) VALUES (42, ?)", k)
	}
	var once sync.Once
	rr, err := x.Repair(ctx, Options{Grace: 500 * time.Millisecond, Progress: func(p Progress) {
		if p.Phase == "grace" {
			once.Do(func() {
				// The write through Courier commits its row.
				e.exec(e.shards[e.shardOf(vindex.Int, vindex.IntValue(inFlight))],
					"INSERT INTO orders (order_id, user_id) VALUES (?, 42)", inFlight)
			})
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rr.Orphans != 2 || rr.Deleted != 1 || rr.Kept != 1 {
		t.Fatalf("repair = %+v; want 2 orphans seen, 1 deleted, 1 kept", rr)
	}
	checkVerify(t, x, 0, 0)
}

// TestBackfillResumes stops a backfill after a few chunks and runs it
// again: the second run reads only what the first did not checkpoint.
func TestBackfillResumes(t *testing.T) {
	e := newEnv(t)
	e.load(orders(nOrders))
	x := e.openIndex("orders", "user_id")
	bg := context.Background()
	if _, err := x.Create(bg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	var mu sync.Mutex
	chunks := 0
	_, err := x.Backfill(ctx, Options{Chunk: 100, Progress: func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if chunks++; chunks == 6 {
			cancel()
		}
	}})
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped backfill: %v", err)
	}
	cps, err := x.Checkpoints(bg)
	if err != nil {
		t.Fatal(err)
	}
	var saved int64
	for _, cp := range cps {
		if cp.Done {
			t.Errorf("%s done after a few chunks", cp.Cluster)
		}
		saved += cp.Rows
	}
	if saved == 0 || saved >= nOrders {
		t.Fatalf("checkpoints hold %d rows: %+v", saved, cps)
	}

	res, err := x.Backfill(bg, Options{Chunk: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != nOrders-saved {
		t.Fatalf("resumed backfill read %d rows; want %d (%d were checkpointed)", res.Rows, nOrders-saved, saved)
	}
	checkVerify(t, x, 0, 0)

	res, err = x.Backfill(bg, Options{})
	if err != nil || res.Rows != 0 || len(res.Finished) != 4 {
		t.Fatalf("backfill after completion = %+v, %v", res, err)
	}
	res, err = x.Backfill(bg, Options{Restart: true})
	if err != nil || res.Rows != nOrders || res.Inserted != 0 {
		t.Fatalf("restarted backfill = %+v, %v", res, err)
	}
}

// TestUniqueConflict: two rows share a value of a unique index; the
// second is reported, never overwrites the first's entry.
func TestUniqueConflict(t *testing.T) {
	e := newEnv(t)
	data := orders(300)
	*data[1].code = *data[0].code
	e.load(data)
	x := e.openIndex("orders", "code")
	ctx := context.Background()
	if _, err := x.Create(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := x.Backfill(ctx, Options{Chunk: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Conflicts != 1 || len(res.ConflictSamples) != 1 || res.ConflictSamples[0].Value != *data[0].code {
		t.Fatalf("backfill conflicts = %d %+v", res.Conflicts, res.ConflictSamples)
	}
	c := res.ConflictSamples[0]
	ids := []string{strconv.FormatInt(data[0].id, 10), strconv.FormatInt(data[1].id, 10)}
	if !slices.Contains(ids, c.Key) || !slices.Contains(ids, c.Existing) || c.Key == c.Existing {
		t.Fatalf("conflict %+v; want keys %v", c, ids)
	}
	checkVerify(t, x, 1, 0)
	rr, err := x.Repair(ctx, Options{Grace: time.Millisecond})
	if err != nil || rr.Conflicts != 1 || rr.Added != 0 {
		t.Fatalf("repair = %+v, %v", rr, err)
	}
}

// TestNonUniqueKeyChunks: order_items has several rows per order_id; a
// chunk boundary inside one key's rows must not skip any of them.
func TestNonUniqueKeyChunks(t *testing.T) {
	e := newEnv(t)
	var want int64
	for id := int64(1); id <= 60; id++ {
		s := e.shardOf(vindex.Int, vindex.IntValue(id))
		for item := range int(id%9) + 1 {
			sku := fmt.Sprintf("SKU%d", (id*int64(item+3))%50)
			e.exec(e.shards[s], "INSERT INTO order_items VALUES (?, ?, ?)", id, item, sku)
			want++
		}
	}
	x := e.openIndex("order_items", "sku")
	ctx := context.Background()
	if _, err := x.Create(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := x.Backfill(ctx, Options{Chunk: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != want {
		t.Fatalf("backfill read %d rows, want %d", res.Rows, want)
	}
	checkVerify(t, x, 0, 0)
}

func TestOpenErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ table, column, want string }{
		{"orders", "status", "no global index on orders.status; the configuration defines orders.user_id, orders.rider_id, orders.code, order_items.sku"},
		{"cities", "name", "no global index on cities.name;"},
	} {
		if _, err := Open(e.cfg, e.db, tc.table, tc.column); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Open(%s, %s) = %v; want %q", tc.table, tc.column, err, tc.want)
		}
	}
	x := e.openIndex("orders", "user_id")
	_, err := x.Verify(context.Background(), Options{})
	if errNumber(err) != errNoSuchTable || !strings.Contains(err.Error(), "courierctl index create") {
		t.Errorf("verify without the index table: %v", err)
	}
}
