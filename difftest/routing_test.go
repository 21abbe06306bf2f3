package difftest_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestBackendQueryCounts checks where statements go by counting what each
// shard receives, its primary and its replica together (which of the two
// serves a read is the read/write split's choice, tested in proxy/; which
// shards a statement reaches is the router's, tested here): a point read
// or write reaches exactly its shard, an IN list or a multi-row INSERT
// only the shards that own its keys (once each), a reference read one
// shard, and a scatter read every shard once.
func TestBackendQueryCounts(t *testing.T) {
	e := setup(t)
	e.createSchema(t, "routing")
	db := e.courierDB(t, "routing")
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE trips (order_id BIGINT PRIMARY KEY, user_id INT NOT NULL)")
	mustExec(t, db, "CREATE TABLE cities (city_id INT PRIMARY KEY, name VARCHAR(20))")
	mustExec(t, db, "INSERT INTO cities VALUES (1, 'Lisboa'), (2, 'Porto')")
	var rows []string
	for k := 1; k <= 400; k++ {
		rows = append(rows, fmt.Sprintf("(%d, %d)", k, k%13))
	}
	mustExec(t, db, "INSERT INTO trips (order_id, user_id) VALUES "+strings.Join(rows, ", "))

	// expect runs q and checks that shard i received want[i] statements.
	expect := func(q string, want [shards]int64, read bool) {
		t.Helper()
		before := e.allQueries(t)
		if read {
			r, err := db.Query(q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			for r.Next() {
			}
			if err := r.Err(); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			r.Close()
		} else {
			mustExec(t, db, q)
		}
		after := e.allQueries(t)
		var got [shards]int64
		for i := range got {
			got[i] = after[i] - before[i]
		}
		if got != want {
			t.Errorf("%s: shards received %v statements, want %v", q, got, want)
		}
	}
	one := func(k int64) [shards]int64 {
		var w [shards]int64
		w[shardOf(k)] = 1
		return w
	}

	for k := int64(1); k <= 40; k++ {
		expect(fmt.Sprintf("SELECT user_id FROM trips WHERE order_id = %d", k), one(k), true)
	}
	for k := int64(1); k <= 10; k++ {
		expect(fmt.Sprintf("UPDATE trips SET user_id = user_id + 1 WHERE order_id = %d", k), one(k), false)
		expect(fmt.Sprintf("SELECT * FROM trips WHERE order_id = '%d'", k), one(k), true)
	}

	r := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		var keys []string
		var want [shards]int64
		for range 1 + r.IntN(8) {
			k := 1 + r.Int64N(400)
			keys = append(keys, strconv.FormatInt(k, 10))
			want[shardOf(k)] = 1
		}
		list := strings.Join(keys, ", ")
		expect("SELECT order_id, user_id FROM trips WHERE order_id IN ("+list+")", want, true)
		expect("DELETE FROM trips WHERE order_id IN ("+list+") AND user_id < 0", want, false)
	}
	// Keys chosen to fall on one shard only, then on exactly two.
	for s := range shards {
		var keys []string
		for k := int64(1); len(keys) < 5; k++ {
			if shardOf(k) == s {
				keys = append(keys, strconv.FormatInt(k, 10))
			}
		}
		var want [shards]int64
		want[s] = 1
		expect("SELECT * FROM trips WHERE order_id IN ("+strings.Join(keys, ", ")+")", want, true)
		other := int64(1)
		for shardOf(other) == s {
			other++
		}
		want[shardOf(other)] = 1
		expect(fmt.Sprintf("SELECT * FROM trips WHERE order_id IN (%s) OR order_id = %d", strings.Join(keys, ", "), other), want, true)
	}

	// A multi-row INSERT: one statement per shard that gets rows.
	var ins []string
	var want [shards]int64
	for k := int64(1000); k < 1006; k++ {
		ins = append(ins, fmt.Sprintf("(%d, 1)", k))
		want[shardOf(k)] = 1
	}
	expect("INSERT INTO trips (order_id, user_id) VALUES "+strings.Join(ins, ", "), want, false)

	all := [shards]int64{1, 1, 1, 1}
	expect("SELECT order_id FROM trips WHERE user_id = 3", all, true)
	expect("INSERT INTO cities VALUES (3, 'Madrid')", all, false)
	before := e.allQueries(t)
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM cities").Scan(&n); err != nil || n != 3 {
		t.Fatalf("cities: %d %v", n, err)
	}
	after := e.allQueries(t)
	var total int64
	for i := range after {
		total += after[i] - before[i]
	}
	if total != 1 {
		t.Errorf("a reference read reached %d shards; want one (%v -> %v)", total, before, after)
	}
}
