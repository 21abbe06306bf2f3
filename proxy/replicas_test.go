package proxy_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/testbed"
)

// replShards is how many shards replEnv spreads orders over.
const replShards = 4

// replEnv is Courier over four shards, each a primary with one replica
// replicating with GTIDs, as users run sharding: reads go to replicas,
// causal by default.
type replEnv struct {
	t  *testing.T
	lc *localcluster.Cluster
}

// newReplEnv starts four shards with a replica each for t (every test
// using them runs as a subtest of TestShardsWithReplicas, which starts
// them once).
func newReplEnv(t *testing.T) *replEnv {
	t.Helper()
	lc := testbed.ClusterT(t, t.TempDir(), replShards, 1)
	e := &replEnv{t: t, lc: lc}
	for i := range replShards {
		db := e.primary(i, "")
		mustExec(t, db, "CREATE DATABASE shop")
		mustExec(t, db, "CREATE TABLE shop.orders (order_id BIGINT PRIMARY KEY, user_id BIGINT, status VARCHAR(20), total INT) ENGINE=InnoDB")
		mustExec(t, db, "CREATE TABLE shop.orders_by_user_id (user_id BIGINT NOT NULL, order_id BIGINT NOT NULL, PRIMARY KEY (user_id, order_id)) ENGINE=InnoDB")
	}
	return e
}

func (e *replEnv) primary(i int, db string) *sql.DB {
	d, err := sql.Open("mysql", e.lc.DSN(e.lc.Primary(i), db))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { d.Close() })
	return d
}

// courier starts a Courier over the shards and their replicas.
func (e *replEnv) courier(t *testing.T, extra string, change func(*config.Config)) *testbed.Courier {
	t.Helper()
	var clusters, shards strings.Builder
	for i, r := range topo.Even(replShards) {
		fmt.Fprintf(&clusters, `
  - name: s%d
    user: %s
    password: %s
    pool: {max_open: 64, max_idle: 64}
    primary: {address: "%s"}
    replicas: [{address: "%s"}]
    replication: {check_interval: 200ms, warmup: 0s}`, i, e.lc.Spec.User, e.lc.Spec.Password, e.lc.Primary(i).Addr, e.lc.Replicas(i)[0].Addr)
		fmt.Fprintf(&shards, "\n    - {range: %q, cluster: s%d}", r.String(), i)
	}
	yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
admin: ""
users: [{name: app, password: app}]
clusters:%s
default_cluster: s0
sharding:
  shards:%s
  tables:
    - {name: orders, key: order_id, indexes: [{column: user_id}]}
%s
`, clusters.String(), shards.String(), extra)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(cfg)
	}
	return testbed.StartT(t, cfg)
}

// shardOf is the shard (0-3) an order_id lives on.
func replShardOf(k int64) int {
	id, _ := vindex.Hash{}.Map(vindex.Int, vindex.IntValue(k))
	for i, r := range topo.Even(replShards) {
		if r.Contains(id) {
			return i
		}
	}
	return -1
}

// keysOnShards returns one key per shard, from start on.
func keysOnShards(start int64) []int64 {
	keys := make([]int64, replShards)
	found := 0
	for k := start; found < replShards; k++ {
		if s := replShardOf(k); keys[s] == 0 {
			keys[s] = k
			found++
		}
	}
	return keys
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func decision(c *testbed.Courier, name string) float64 {
	mfs, err := c.Server.Metrics().Registry.Gather()
	if err != nil {
		return -1
	}
	for _, mf := range mfs {
		if mf.GetName() != "courier_routing_decisions_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "decision" && l.GetValue() == name {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestShardsWithReplicas runs, over four shards with a replica each and
// go-sql-driver's default DSN (server-side prepared statements whenever a
// statement has arguments), what the issue of one execution engine
// demands: prepared transactions by key commit on every shard, a session
// reads its own writes by key, IN list and global index at once, batches
// run statement by statement, KILL QUERY stops a scatter, DDL has its own
// time limit, and distinct aggregates are answered across shards.
func TestShardsWithReplicas(t *testing.T) {
	e := newReplEnv(t)
	t.Run("prepared transactions by key", func(t *testing.T) { testPreparedTransactions(t, e) })
	t.Run("read your writes", func(t *testing.T) { testReadYourWrites(t, e) })
	t.Run("causal reads that never wait", func(t *testing.T) { testCausalNoWait(t, e) })
	t.Run("batches", func(t *testing.T) { testBatches(t, e) })
	t.Run("KILL QUERY of a scatter", func(t *testing.T) { testKillScatter(t, e) })
	t.Run("DDL outlives the query timeout", func(t *testing.T) { testLongDDL(t, e) })
	t.Run("distinct aggregates", func(t *testing.T) { testDistinctAggregates(t, e) })
	t.Run("no write on a replica in any sql_mode", func(t *testing.T) { testNoWriteOnReplica(t, e) })
	t.Run("authorisation", func(t *testing.T) { testAuthorisation(t, e) })
	t.Run("SHOW PROCESSLIST", func(t *testing.T) { testProcesslist(t, e) })
	t.Run("CALL leaks nothing", func(t *testing.T) { testCallLeaksNothing(t, e) })
	t.Run("merge memory budget", func(t *testing.T) { testMergeBudget(t, e) })
	t.Run("heap bound", func(t *testing.T) { testHeapBound(t, e) })
	t.Run("layout switch under writes", func(t *testing.T) { testLayoutSwitch(t, e) })
}

func testPreparedTransactions(t *testing.T, e *replEnv) {
	c := e.courier(t, "", nil) // multi_shard_transactions: reject
	db := openDB(t, c.DSN("app", "app", "shop", ""))
	for k := int64(1); k <= 40; k++ {
		mustExec(t, db, "INSERT INTO orders (order_id, user_id, status, total) VALUES (?, ?, ?, ?)", k, k%5, "new", k)
	}
	ctx := context.Background()
	for k := int64(1); k <= 40; k++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var status string
		if err := tx.QueryRow("SELECT status FROM orders WHERE order_id = ? FOR UPDATE", k).Scan(&status); err != nil {
			t.Fatalf("order %d (shard %d): %v", k, replShardOf(k), err)
		}
		if _, err := tx.Exec("UPDATE orders SET status = ? WHERE order_id = ?", "paid", k); err != nil {
			t.Fatalf("order %d (shard %d): %v", k, replShardOf(k), err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("order %d: commit: %v", k, err)
		}
		if got := queryString(t, e.primary(replShardOf(k), "shop"), fmt.Sprintf("SELECT status FROM orders WHERE order_id = %d", k)); got != "paid" {
			t.Fatalf("order %d on its shard: %q after commit", k, got)
		}
	}
	// A transaction over two shards: refused at its second shard under
	// reject (the first stays usable), committed on both under
	// best_effort.
	keys := keysOnShards(1000)
	tx, _ := db.BeginTx(ctx, nil)
	if _, err := tx.Exec("INSERT INTO orders (order_id, user_id, status, total) VALUES (?, 1, 'a', 1)", keys[0]); err != nil {
		t.Fatal(err)
	}
	_, err := tx.Exec("INSERT INTO orders (order_id, user_id, status, total) VALUES (?, 1, 'b', 1)", keys[1])
	wantMySQLError(t, err, 1235, "42000")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	be := e.courier(t, "  multi_shard_transactions: best_effort", nil)
	bdb := openDB(t, be.DSN("app", "app", "shop", ""))
	tx, _ = bdb.BeginTx(ctx, nil)
	for i, k := range keys {
		if _, err := tx.Exec("INSERT INTO orders (order_id, user_id, status, total) VALUES (?, 2, ?, 1)", k, "both"); err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if got := queryString(t, e.primary(i, "shop"), fmt.Sprintf("SELECT status FROM orders WHERE order_id = %d", k)); got != "both" {
			t.Fatalf("shard %d: %q", i, got)
		}
	}
}

func testReadYourWrites(t *testing.T, e *replEnv) {
	c := e.courier(t, "", nil)
	db := openDB(t, c.DSN("app", "app", "shop", ""))
	db.SetMaxOpenConns(1) // one session: causal consistency is per session
	replicaReads := decision(c, "replica")
	stale := 0
	const rounds = 1000
	var byShard [replShards][]int64 // distinct keys of each shard
	for k := int64(100000); len(byShard[0]) < rounds || len(byShard[1]) < rounds || len(byShard[2]) < rounds || len(byShard[3]) < rounds; k++ {
		byShard[replShardOf(k)] = append(byShard[replShardOf(k)], k)
	}
	for r := range int64(rounds) {
		a, b := byShard[r%replShards][r], byShard[(r+1)%replShards][r]
		user := 500000 + r
		for _, k := range []int64{a, b} {
			mustExec(t, db, "INSERT INTO orders (order_id, user_id, status, total) VALUES (?, ?, 'rw', 1)", k, user)
		}
		var n int
		for _, k := range []int64{a, b} {
			if err := db.QueryRow("SELECT COUNT(*) FROM orders WHERE order_id = ?", k).Scan(&n); err != nil {
				t.Fatal(err)
			}
			stale += 1 - n
		}
		if err := db.QueryRow("SELECT COUNT(*) FROM orders WHERE order_id IN (?, ?)", a, b).Scan(&n); err != nil {
			t.Fatal(err)
		}
		stale += 2 - n
		if err := db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM orders WHERE order_id IN (%d, %d)", a, b)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		stale += 2 - n
		rows, _ := db.Query("SELECT order_id FROM orders WHERE user_id = ?", user)
		got := 0
		for rows.Next() {
			got++
		}
		rows.Close()
		stale += 2 - got
	}
	if stale != 0 {
		t.Fatalf("%d stale reads in %d write-then-read rounds", stale, rounds)
	}
	if served := decision(c, "replica") - replicaReads; served < rounds {
		t.Fatalf("only %.0f reads went to replicas: the test did not exercise them", served)
	}
	// A write on one shard makes no read on another wait for it.
	keys := keysOnShards(900000)
	waits := decision(c, "causal_wait") + decision(c, "causal_fallback")
	for range 50 {
		mustExec(t, db, "UPDATE orders SET total = total + 1 WHERE order_id = ?", keys[0])
		var n int
		for _, k := range keys[1:] {
			_ = db.QueryRow("SELECT COUNT(*) FROM orders WHERE order_id = ?", k).Scan(&n)
		}
	}
	if got := decision(c, "causal_wait") + decision(c, "causal_fallback") - waits; got != 0 {
		t.Fatalf("reads on shards the session did not write waited %.0f times", got)
	}
}

func testBatches(t *testing.T, e *replEnv) {
	c := e.courier(t, "  multi_shard_transactions: best_effort", nil)
	db := openDB(t, c.DSN("app", "app", "shop", "multiStatements=true"))
	db.SetMaxOpenConns(1)
	keys := keysOnShards(20000)
	a, b := keys[0], keys[1]
	mustExec(t, db, fmt.Sprintf("INSERT INTO orders (order_id, user_id, status, total) VALUES (%d, 7, 'new', 0), (%d, 7, 'new', 0)", a, b))
	mustExec(t, db, fmt.Sprintf("BEGIN; UPDATE orders SET total = 5 WHERE order_id = %d; UPDATE orders SET total = 5 WHERE order_id = %d; COMMIT", a, b))
	for i, k := range []int64{a, b} {
		if got := queryString(t, e.primary(replShardOf(k), "shop"), fmt.Sprintf("SELECT total FROM orders WHERE order_id = %d", k)); got != "5" {
			t.Fatalf("order %d of the batch: total %s", i, got)
		}
	}
	// The batch's COMMIT ended the transaction: this write commits alone.
	mustExec(t, db, fmt.Sprintf("UPDATE orders SET total = 6 WHERE order_id = %d", a))
	if got := queryString(t, e.primary(replShardOf(a), "shop"), fmt.Sprintf("SELECT total FROM orders WHERE order_id = %d", a)); got != "6" {
		t.Fatalf("after the batch the session was still in a transaction: total %s", got)
	}
	// DO 1; INSERT: the row goes to its shard, with its index entry.
	k := keys[2]
	mustExec(t, db, fmt.Sprintf("DO 1; INSERT INTO orders (order_id, user_id, status, total) VALUES (%d, 424242, 'do', 1)", k))
	if got := queryString(t, e.primary(replShardOf(k), "shop"), fmt.Sprintf("SELECT status FROM orders WHERE order_id = %d", k)); got != "do" {
		t.Fatalf("DO 1; INSERT: row on its shard: %q", got)
	}
	if got := queryString(t, db, "SELECT order_id FROM orders WHERE user_id = 424242"); got != strconv.FormatInt(k, 10) {
		t.Fatalf("DO 1; INSERT: read by the global index: %q", got)
	}
	// Two reads on two shards: two results, in order.
	rows, err := db.Query(fmt.Sprintf("SELECT status FROM orders WHERE order_id = %d; SELECT total FROM orders WHERE order_id = %d", k, b))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		for rows.Next() {
			var v string
			_ = rows.Scan(&v)
			got = append(got, v)
		}
		if !rows.NextResultSet() {
			break
		}
	}
	rows.Close()
	if !slices.Equal(got, []string{"do", "5"}) {
		t.Fatalf("two result sets: %v", got)
	}
	// A failing statement stops the batch, as MySQL does.
	_, err = db.Exec(fmt.Sprintf("UPDATE orders SET total = 7 WHERE order_id = %d; SELECT * FROM no_such_table; UPDATE orders SET total = 7 WHERE order_id = %d", a, b))
	wantMySQLError(t, err, 1146, "42S02")
	if got := queryString(t, e.primary(replShardOf(b), "shop"), fmt.Sprintf("SELECT total FROM orders WHERE order_id = %d", b)); got != "5" {
		t.Fatalf("a statement after the failing one ran: total %s", got)
	}
}

func testKillScatter(t *testing.T, e *replEnv) {
	c := e.courier(t, "", nil)
	db := openDB(t, c.DSN("app", "app", "shop", ""))
	for i, k := range keysOnShards(30000) {
		mustExec(t, db, "INSERT INTO orders (order_id, user_id, status, total) VALUES (?, ?, 'slow', 1)", k, i)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		rows, err := conn.QueryContext(ctx, "SELECT order_id, SLEEP(20) FROM orders WHERE status = 'slow'")
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		done <- err
	}()
	victim := busySession(t, c)
	time.Sleep(300 * time.Millisecond) // every shard is sleeping
	if _, err := db.Exec(fmt.Sprintf("KILL QUERY %d", victim)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			wantMySQLError(t, err, 1317, "70100")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("KILL QUERY did not stop the scatter")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the killed scatter took %s", d)
	}
	for i := range replShards {
		if n := queryString(t, e.primary(i, ""), "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(20)%' AND INFO NOT LIKE '%PROCESSLIST%'"); n != "0" {
			t.Fatalf("shard %d still runs the killed statement", i)
		}
	}
	if got := queryString(t, conn, "SELECT 5"); got != "5" {
		t.Fatal("connection unusable after KILL QUERY")
	}
}

// busySession waits for a session of c running a statement.
func busySession(t *testing.T, c *testbed.Courier) uint32 {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, s := range c.Server.Status().Sessions {
			if s.Busy {
				return s.ID
			}
		}
	}
	t.Fatal("no session became busy")
	return 0
}

func testLongDDL(t *testing.T, e *replEnv) {
	c := e.courier(t, "    - {name: notes, key: note_id}", func(cfg *config.Config) { cfg.Limits.QueryTimeout = 500 * time.Millisecond })
	db := openDB(t, c.DSN("app", "app", "shop", ""))
	mustExec(t, db, "CREATE TABLE notes (note_id BIGINT PRIMARY KEY, body VARCHAR(20))")
	// A statement longer than the limit is stopped...
	var slept int
	err := db.QueryRow("SELECT SLEEP(3)").Scan(&slept)
	if err == nil && slept != 1 {
		t.Fatal("SELECT SLEEP(3) outlived a 500ms query_timeout")
	}
	// ...but an ALTER that waits 1.5s on one shard for a lock completes
	// on every shard.
	holder, err := e.primary(2, "shop").Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec("SELECT * FROM notes"); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(1500 * time.Millisecond)
		_ = holder.Commit()
	}()
	start := time.Now()
	mustExec(t, db, "ALTER TABLE notes ADD COLUMN extra INT")
	if d := time.Since(start); d < time.Second {
		t.Fatalf("the ALTER did not wait for the lock (%s)", d)
	}
	for i := range replShards {
		if got := queryString(t, e.primary(i, "shop"), "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'notes' AND COLUMN_NAME = 'extra'"); got != "1" {
			t.Fatalf("shard %d lacks the new column", i)
		}
	}
}

func testDistinctAggregates(t *testing.T, e *replEnv) {
	c := e.courier(t, "", nil)
	db := openDB(t, c.DSN("app", "app", "shop", ""))
	users := map[string]map[int64]bool{}
	all := map[int64]bool{}
	statuses := map[string]bool{}
	for k := int64(50000); k < 50200; k++ {
		status := []string{"placed", "paid", "delivered"}[k%3]
		user := k % 17
		mustExec(t, db, "INSERT INTO orders (order_id, user_id, status, total) VALUES (?, ?, ?, ?)", k, user, status, k%7)
		if users[status] == nil {
			users[status] = map[int64]bool{}
		}
		users[status][user], all[user], statuses[status] = true, true, true
	}
	where := "order_id BETWEEN 50000 AND 50199"
	var n int
	if err := db.QueryRow("SELECT COUNT(DISTINCT user_id) FROM orders WHERE " + where).Scan(&n); err != nil || n != len(all) {
		t.Fatalf("COUNT(DISTINCT user_id) = %d, %v; want %d", n, err, len(all))
	}
	rows, err := db.Query("SELECT status, COUNT(DISTINCT user_id) FROM orders WHERE "+where+" AND total >= ? GROUP BY status", 0)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		if n != len(users[s]) {
			t.Fatalf("status %s: %d distinct users, want %d", s, n, len(users[s]))
		}
	}
	rows.Close()
	var list string
	if err := db.QueryRow("SELECT GROUP_CONCAT(DISTINCT status ORDER BY status SEPARATOR '|') FROM orders WHERE " + where).Scan(&list); err != nil {
		t.Fatal(err)
	}
	var want []string
	for s := range statuses {
		want = append(want, s)
	}
	slices.Sort(want)
	if list != strings.Join(want, "|") {
		t.Fatalf("GROUP_CONCAT(DISTINCT status) = %q, want %q", list, strings.Join(want, "|"))
	}
}

// testCausalNoWait: with causal_wait: 0 a read of a shard the session
// just wrote never waits on the replica: it goes to the primary (or to a
// replica known from its last check to have applied the write) and sees
// the write.
func testCausalNoWait(t *testing.T, e *replEnv) {
	c := e.courier(t, "", func(cfg *config.Config) {
		for i := range cfg.Clusters {
			cfg.Clusters[i].Replication.CausalWait = 0
		}
	})
	db := openDB(t, c.DSN("app", "app", "shop", ""))
	db.SetMaxOpenConns(1)
	waits, fallbacks := decision(c, "causal_wait"), decision(c, "causal_fallback")
	const rounds = 200
	for r := range int64(rounds) {
		k := 1_200_000 + r
		mustExec(t, db, "INSERT INTO orders (order_id, user_id, status, total) VALUES (?, 7, 'nowait', 1)", k)
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM orders WHERE order_id = ?", k).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("round %d: the session's own write unseen", r)
		}
	}
	if got := decision(c, "causal_wait") - waits; got != 0 {
		t.Fatalf("%.0f reads waited on a replica with causal_wait: 0", got)
	}
	if got := decision(c, "causal_fallback") - fallbacks; got < rounds/2 {
		t.Fatalf("only %.0f of %d reads after a write went to the primary", got, rounds)
	}
}
