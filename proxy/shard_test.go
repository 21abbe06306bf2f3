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
	"github.com/courier-proxy/courier/proxy"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/testbed"
)

// shardEnv is Courier over two shards (one primary each).
type shardEnv struct {
	*env
	lc *localcluster.Cluster
}

func newShardEnv(t *testing.T, sharding ...string) *shardEnv {
	t.Helper()
	lc := testbed.ClusterT(t, t.TempDir(), 2, 0)
	yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
admin: ""
users: [{name: app, password: app, access: admin}]
clusters:
  - {name: s0, user: %[1]s, password: %[2]s, primary: {address: "%[3]s"}}
  - {name: s1, user: %[1]s, password: %[2]s, primary: {address: "%[4]s"}}
default_cluster: s0
sharding:
  shards: [{range: "-80", cluster: s0}, {range: "80-", cluster: s1}]
  tables:
    - {name: orders, key: order_id, sequence: orders_seq}
    - {name: order_items, key: order_id}
    - {name: cities, type: reference}
%[5]s
`, lc.Spec.User, lc.Spec.Password, lc.Primary(0).Addr, lc.Primary(1).Addr, strings.Join(sharding, "\n"))
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, courier: testbed.StartT(t, cfg), schema: "shop"}
	for i := range 2 {
		mustExec(t, e.open(lc.DSN(lc.Primary(i), "")), "CREATE DATABASE shop")
	}
	return &shardEnv{env: e, lc: lc}
}

func (e *shardEnv) shard(i int) *sql.DB { return e.open(e.lc.DSN(e.lc.Primary(i), "shop")) }

// shardOfKey is the shard index (0 for -80, 1 for 80-) an order_id lives on.
func shardOfKey(k int64) int {
	id, _ := vindex.Hash{}.Map(vindex.Int, vindex.IntValue(k))
	r, _ := topo.ParseKeyRange("80-")
	if r.Contains(id) {
		return 1
	}
	return 0
}

func (e *shardEnv) queries(cluster int) int64 {
	name := fmt.Sprintf("s%d-primary", cluster)
	return e.status(name).Queries
}

func (e *shardEnv) status(name string) proxy.BackendStatus {
	for _, b := range e.courier.Server.Status().Backends {
		if b.Name == name {
			return b
		}
	}
	e.t.Fatalf("no backend %s", name)
	return proxy.BackendStatus{}
}

// TestShardedRouting: DDL fans out, multi-row INSERTs and IN lists are
// split by shard, point queries reach exactly one shard, scatter reads
// return every shard's rows, and what cannot be merged yet is refused
// with 1235.
func TestShardedRouting(t *testing.T) {
	e := newShardEnv(t)
	db := e.proxied("")
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, user_id INT, status VARCHAR(10))")
	mustExec(t, db, "CREATE TABLE cities (city_id INT PRIMARY KEY, name VARCHAR(20))")
	for i := range 2 {
		if got := queryString(t, e.shard(i), "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'shop'"); got != "2" {
			t.Fatalf("shard %d has %s tables after DDL", i, got)
		}
	}

	var values []string
	for k := 1; k <= 200; k++ {
		values = append(values, fmt.Sprintf("(%d, %d, '%s')", k, k%7, []string{"placed", "delivered"}[k%2]))
	}
	r := mustExec(t, db, "INSERT INTO orders (order_id, user_id, status) VALUES "+strings.Join(values, ", "))
	if n, _ := r.RowsAffected(); n != 200 {
		t.Fatalf("multi-row insert affected %d rows", n)
	}
	want := [2]int{}
	for k := int64(1); k <= 200; k++ {
		want[shardOfKey(k)]++
	}
	for i := range 2 {
		if got := queryString(t, e.shard(i), "SELECT COUNT(*) FROM orders"); got != fmt.Sprint(want[i]) {
			t.Fatalf("shard %d holds %s orders, want %d", i, got, want[i])
		}
	}

	// Point selects reach only their shard.
	for k := int64(1); k <= 20; k++ {
		before := [2]int64{e.queries(0), e.queries(1)}
		if got := queryString(t, db, fmt.Sprintf("SELECT user_id FROM orders WHERE order_id = %d", k)); got != fmt.Sprint(k%7) {
			t.Fatalf("order %d: user %s", k, got)
		}
		s := shardOfKey(k)
		if e.queries(s) != before[s]+1 || e.queries(1-s) != before[1-s] {
			t.Fatalf("order %d: shard queries went %v -> [%d %d]", k, before, e.queries(0), e.queries(1))
		}
	}

	// IN lists and scatter reads return what one server would (as sets:
	// without ORDER BY, row order is not defined).
	for _, q := range []string{
		"SELECT order_id, status FROM orders WHERE order_id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)",
		"SELECT order_id, user_id FROM orders WHERE status = 'placed'",
		"SELECT * FROM orders",
	} {
		_, got := rows(t, db, q)
		var want [][]string
		for i := range 2 {
			_, part := rows(t, e.shard(i), q)
			want = append(want, part...)
		}
		sortRows(got)
		sortRows(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: %d rows through Courier, %d on the shards", q, len(got), len(want))
		}
	}

	for _, q := range []string{
		"SELECT * FROM orders o JOIN cities c ON o.user_id = c.city_id JOIN users u ON u.id = o.user_id",
		"UPDATE orders SET status = 'x' WHERE status = 'placed'",
		"UPDATE orders SET order_id = 1000 WHERE order_id = 1",
	} {
		_, err := db.Exec(q)
		wantMySQLError(t, err, 1235, "42000")
	}

	// Writes by key and by IN list.
	mustExec(t, db, "UPDATE orders SET status = 'cancelled' WHERE order_id = 3")
	r = mustExec(t, db, "DELETE FROM orders WHERE order_id IN (4, 5, 6, 7)")
	if n, _ := r.RowsAffected(); n != 4 {
		t.Fatalf("delete affected %d", n)
	}
	if got := queryString(t, db, "SELECT status FROM orders WHERE order_id = 3"); got != "cancelled" {
		t.Fatalf("status %s", got)
	}

	// Reference tables: writes go everywhere, reads once.
	mustExec(t, db, "INSERT INTO cities VALUES (1, 'Lisboa'), (2, 'Porto')")
	for i := range 2 {
		if got := queryString(t, e.shard(i), "SELECT COUNT(*) FROM cities"); got != "2" {
			t.Fatalf("shard %d has %s cities", i, got)
		}
	}
	if got := queryString(t, db, "SELECT COUNT(*) FROM cities"); got != "2" {
		t.Fatalf("cities through Courier: %s", got)
	}
	if got := queryString(t, db, "SELECT c.name FROM orders o JOIN cities c ON c.city_id = o.user_id WHERE o.order_id = 8"); got != "Lisboa" {
		t.Fatalf("join with a reference table: %s", got)
	}

	// A transaction stays on one shard.
	ctx := context.Background()
	c, _ := db.Conn(ctx)
	defer c.Close()
	a, b := int64(1), int64(2)
	for shardOfKey(b) == shardOfKey(a) {
		b++
	}
	mustExec(t, c, "BEGIN")
	mustExec(t, c, fmt.Sprintf("UPDATE orders SET status = 'a' WHERE order_id = %d", a))
	_, err := c.ExecContext(ctx, fmt.Sprintf("UPDATE orders SET status = 'b' WHERE order_id = %d", b))
	wantMySQLError(t, err, 1235, "42000")
	mustExec(t, c, "ROLLBACK")
	if got := queryString(t, c, fmt.Sprintf("SELECT status FROM orders WHERE order_id = %d", a)); got == "a" {
		t.Fatal("rolled back write is visible")
	}
	// Reads of reference tables and metadata follow the transaction's shard.
	for _, k := range []int64{a, b} {
		mustExec(t, c, "BEGIN")
		mustExec(t, c, fmt.Sprintf("UPDATE orders SET status = 'c' WHERE order_id = %d", k))
		if got := queryString(t, c, "SELECT COUNT(*) FROM cities"); got != "2" {
			t.Fatalf("cities in a transaction on shard %d: %s", shardOfKey(k), got)
		}
		if got := queryString(t, c, "SELECT COUNT(*) FROM orders WHERE order_id = "+fmt.Sprint(k)); got != "1" {
			t.Fatalf("order %d in its transaction: %s", k, got)
		}
		_, desc := rows(t, c, "DESCRIBE orders")
		if len(desc) != 3 {
			t.Fatalf("DESCRIBE orders in a transaction: %v", desc)
		}
		mustExec(t, c, "COMMIT")
	}
	if _, create := rows(t, c, "SHOW CREATE TABLE orders"); len(create) != 1 || !strings.Contains(create[0][1], "order_id") {
		t.Fatalf("SHOW CREATE TABLE orders: %v", create)
	}
	c.Close()

	// Prepared statements: a bound key routes like a literal one; one that
	// reaches several shards is refused for now.
	ps := e.proxied("")
	for k := int64(10); k < 30; k++ {
		before := [2]int64{e.queries(0), e.queries(1)}
		var user int64
		if err := ps.QueryRow("SELECT user_id FROM orders WHERE order_id = ?", k).Scan(&user); err != nil || user != k%7 {
			t.Fatalf("prepared read of %d: %d %v", k, user, err)
		}
		if s := shardOfKey(k); e.queries(1-s) != before[1-s] {
			t.Fatalf("prepared read of %d reached the other shard", k)
		}
	}
	if _, err := ps.Exec("UPDATE orders SET status = ? WHERE order_id = ?", "prepared", 11); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, e.shard(shardOfKey(11)), "SELECT status FROM orders WHERE order_id = 11"); got != "prepared" {
		t.Fatalf("prepared update: %s", got)
	}
	var distinct, direct int
	if err := ps.QueryRow("SELECT COUNT(DISTINCT user_id) FROM orders WHERE status = ?", "placed").Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range 2 {
		_, part := rows(t, e.shard(i), "SELECT DISTINCT user_id FROM orders WHERE status = 'placed' AND user_id IS NOT NULL")
		for _, r := range part {
			seen[r[0]] = true
		}
	}
	if direct = len(seen); distinct != direct {
		t.Fatalf("COUNT(DISTINCT user_id) across shards = %d, want %d", distinct, direct)
	}
	if got := queryString(t, db, "SELECT 1"); got != "1" {
		t.Fatal("connection unusable")
	}
}

func sortRows(rs [][]string) {
	slices.SortFunc(rs, func(a, b []string) int { return strings.Compare(strings.Join(a, "\x00"), strings.Join(b, "\x00")) })
}

// TestShardedMerge compares multi-shard SELECTs that need a merge (ORDER
// BY, LIMIT, aggregates, GROUP BY, HAVING, DISTINCT) with the same
// statements on one server holding all the rows.
func TestShardedMerge(t *testing.T) {
	e := newShardEnv(t)
	db := e.proxied("")
	ref := e.open(e.lc.DSN(e.lc.Primary(0), ""))
	mustExec(t, ref, "CREATE DATABASE ref")
	ref = e.open(e.lc.DSN(e.lc.Primary(0), "ref"))
	ddl := "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, user_id INT, status ENUM('placed','accepted','delivered','cancelled')," +
		" name VARCHAR(20), total DECIMAL(10,2), weight DOUBLE, created DATETIME(3), note VARCHAR(10) COLLATE utf8mb4_bin)"
	mustExec(t, db, ddl)
	mustExec(t, ref, ddl)
	var values []string
	names := []string{"ana", "Bo", "carla", "Dave", "eve", "Zoë", "álvaro"}
	for k := 1; k <= 300; k++ {
		user := "NULL"
		if k%11 != 0 {
			user = fmt.Sprint(k * k % 13)
		}
		values = append(values, fmt.Sprintf("(%d, %s, %d, '%s', %d.%02d, %d.5, '2026-01-%02d 10:00:%02d.%03d', '%s')",
			k, user, k%4+1, names[k%len(names)], k*37%500, k%100, k%9, k%28+1, k%60, k, []string{"a", "B", "b", "A"}[k%4]))
	}
	insert := "INSERT INTO orders (order_id, user_id, status, name, total, weight, created, note) VALUES " + strings.Join(values, ", ")
	mustExec(t, db, insert)
	mustExec(t, ref, insert)

	for _, q := range []string{
		"SELECT * FROM orders ORDER BY order_id",
		"SELECT order_id, total FROM orders ORDER BY total DESC, order_id LIMIT 7",
		"SELECT order_id FROM orders ORDER BY created, order_id LIMIT 5 OFFSET 100",
		"SELECT * FROM orders ORDER BY user_id, order_id DESC LIMIT 20",
		"SELECT order_id, name FROM orders ORDER BY name, order_id LIMIT 40",
		"SELECT order_id, note FROM orders ORDER BY note, order_id LIMIT 40",
		"SELECT order_id, status FROM orders ORDER BY status DESC, order_id LIMIT 40",
		"SELECT order_id FROM orders WHERE order_id IN (1, 2, 3, 4, 5, 6, 7, 8, 9) ORDER BY order_id DESC LIMIT 4",
		"SELECT COUNT(*), COUNT(user_id), SUM(total), MIN(total), MAX(total), AVG(total), AVG(user_id), SUM(weight), MIN(name), MAX(created) FROM orders",
		"SELECT COUNT(*), SUM(total), AVG(total), MIN(name) FROM orders WHERE order_id < 0",
		"SELECT status, COUNT(*), SUM(total), AVG(weight) FROM orders GROUP BY status",
		"SELECT user_id, COUNT(*) AS n, MAX(total) FROM orders GROUP BY user_id HAVING n > 20 ORDER BY n DESC, user_id",
		"SELECT user_id, SUM(total) FROM orders GROUP BY user_id HAVING SUM(total) BETWEEN 1000 AND 3000 AND MIN(total) > 10",
		"SELECT name, COUNT(*) FROM orders GROUP BY name",
		"SELECT note, COUNT(*) FROM orders GROUP BY note",
		"SELECT user_id, AVG(total) FROM orders GROUP BY user_id ORDER BY AVG(total) DESC, user_id LIMIT 3",
		"SELECT user_id, status, COUNT(*) FROM orders GROUP BY user_id, status ORDER BY user_id DESC, status LIMIT 10, 10",
		"SELECT DISTINCT status FROM orders ORDER BY status",
		"SELECT DISTINCT user_id FROM orders ORDER BY user_id DESC LIMIT 5",
		"SELECT DISTINCT name FROM orders",
	} {
		t.Run(q, func(t *testing.T) {
			gotCols, got := rows(t, db, q)
			wantCols, want := rows(t, ref, q)
			sameRows(t, q, gotCols, got, wantCols, want)
		})
	}

	// Prepared statements that reach several shards: the values are bound
	// into the text each shard runs, rows come back in the binary protocol.
	for _, tt := range []struct {
		q    string
		args []any
	}{
		{"SELECT order_id, total, created, weight, note, status FROM orders WHERE user_id = ? ORDER BY created DESC, order_id LIMIT ?", []any{5, 10}},
		{"SELECT * FROM orders WHERE total > ? AND created < ? ORDER BY order_id", []any{"250.5", time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)}},
		{"SELECT user_id, COUNT(*), SUM(total), AVG(weight), MAX(created) FROM orders WHERE name <> ? GROUP BY user_id", []any{"eve"}},
		{"SELECT COUNT(*), MIN(note) FROM orders WHERE weight BETWEEN ? AND ?", []any{1.5, 4.5}},
		{"SELECT order_id FROM orders WHERE order_id IN (?, ?, ?, ?, ?) ORDER BY order_id DESC", []any{1, 2, 3, 4, 5}},
	} {
		t.Run("prepared "+tt.q, func(t *testing.T) {
			gotCols, got := rows(t, db, tt.q, tt.args...)
			wantCols, want := rows(t, ref, tt.q, tt.args...)
			sameRows(t, tt.q, gotCols, got, wantCols, want)
		})
	}
}

func sameRows(t *testing.T, q string, gotCols []string, got [][]string, wantCols []string, want [][]string) {
	t.Helper()
	if !strings.Contains(q, "ORDER BY") {
		sortRows(got)
		sortRows(want)
	}
	if fmt.Sprint(gotCols) != fmt.Sprint(wantCols) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s\nthrough Courier:\n%v %v\none server:\n%v %v", q, gotCols, got, wantCols, want)
	}
}

// TestShardedSequence: INSERTs that leave out the key take keys from the
// table's sequence, in blocks, and report the first as LAST_INSERT_ID().
func TestShardedSequence(t *testing.T) {
	e := newShardEnv(t)
	db := e.proxied("")
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, user_id INT, status VARCHAR(10))")
	r := mustExec(t, db, "INSERT INTO orders (user_id, status) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')")
	if n, _ := r.RowsAffected(); n != 4 {
		t.Fatalf("affected %d", n)
	}
	if id, _ := r.LastInsertId(); id != 1 {
		t.Fatalf("LastInsertId %d, want 1", id)
	}
	if got := queryString(t, db, "SELECT LAST_INSERT_ID()"); got != "1" {
		t.Fatalf("LAST_INSERT_ID() = %s", got)
	}
	_, all := rows(t, db, "SELECT order_id, user_id FROM orders ORDER BY order_id")
	if fmt.Sprint(all) != "[[1 1] [2 2] [3 3] [4 4]]" {
		t.Fatalf("rows %v", all)
	}
	for k := int64(1); k <= 4; k++ {
		if got := queryString(t, e.shard(shardOfKey(k)), fmt.Sprintf("SELECT COUNT(*) FROM orders WHERE order_id = %d", k)); got != "1" {
			t.Fatalf("order %d is not on its shard", k)
		}
	}
	// One row: single shard; a NULL key also takes one.
	r = mustExec(t, db, "INSERT INTO orders (order_id, user_id, status) VALUES (NULL, 5, 'e')")
	if id, _ := r.LastInsertId(); id != 5 {
		t.Fatalf("LastInsertId %d, want 5", id)
	}
	// Prepared, and inside a transaction that is rolled back.
	ps := e.proxied("")
	r, err := ps.Exec("INSERT INTO orders (user_id, status) VALUES (?, ?)", 6, "f")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := r.LastInsertId(); id != 6 {
		t.Fatalf("prepared LastInsertId %d, want 6", id)
	}
	tx, err := ps.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if r, err = tx.Exec("INSERT INTO orders (user_id, status) VALUES (?, ?)", 7, "g"); err != nil {
		t.Fatal(err)
	}
	if id, _ := r.LastInsertId(); id != 7 {
		t.Fatalf("LastInsertId in a transaction %d, want 7", id)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, db, "SELECT COUNT(*) FROM orders WHERE order_id = 7"); got != "0" {
		t.Fatal("rolled back insert is visible")
	}
	// The sequence row on the default cluster holds the end of the block.
	if got := queryString(t, e.shard(0), "SELECT next_id FROM orders_seq"); got != "1001" {
		t.Fatalf("sequence next_id %s, want 1001", got)
	}
}

// TestShardedBestEffortTxn: with multi_shard_transactions: best_effort a
// transaction reaches several shards; COMMIT and ROLLBACK end it on each.
func TestShardedBestEffortTxn(t *testing.T) {
	e := newShardEnv(t, "  multi_shard_transactions: best_effort")
	db := e.proxied("")
	mustExec(t, db, "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, status VARCHAR(10))")
	a, b := int64(1), int64(2)
	for shardOfKey(b) == shardOfKey(a) {
		b++
	}
	mustExec(t, db, fmt.Sprintf("INSERT INTO orders (order_id, status) VALUES (%d, 'new'), (%d, 'new')", a, b))
	statusOn := func(k int64) string {
		return queryString(t, e.shard(shardOfKey(k)), fmt.Sprintf("SELECT status FROM orders WHERE order_id = %d", k))
	}
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, end := range []string{"ROLLBACK", "COMMIT"} {
		mustExec(t, c, "BEGIN")
		mustExec(t, c, fmt.Sprintf("UPDATE orders SET status = '%s' WHERE order_id = %d", end, a))
		mustExec(t, c, fmt.Sprintf("UPDATE orders SET status = '%s' WHERE order_id = %d", end, b))
		// A scatter read inside the transaction sees its own writes.
		if got := queryString(t, c, "SELECT COUNT(*) FROM orders WHERE status = '"+end+"'"); got != "2" {
			t.Fatalf("scatter read in the transaction: %s", got)
		}
		if got := statusOn(b); got != "new" && end == "ROLLBACK" {
			t.Fatalf("uncommitted write visible outside: %s", got)
		}
		// A savepoint spans the shards the transaction reached, and those
		// it reaches later.
		mustExec(t, c, "SAVEPOINT s1")
		mustExec(t, c, fmt.Sprintf("UPDATE orders SET status = 'undone' WHERE order_id IN (%d, %d)", a, b))
		mustExec(t, c, "ROLLBACK TO SAVEPOINT s1")
		if got := queryString(t, c, "SELECT COUNT(*) FROM orders WHERE status = 'undone'"); got != "0" {
			t.Fatalf("ROLLBACK TO SAVEPOINT left %s rows", got)
		}
		mustExec(t, c, end)
		want := map[string]string{"ROLLBACK": "new", "COMMIT": "COMMIT"}[end]
		if statusOn(a) != want || statusOn(b) != want {
			t.Fatalf("after %s: %s %s", end, statusOn(a), statusOn(b))
		}
	}
	// autocommit=0: the implicit transaction reaches both shards too.
	mustExec(t, c, "SET autocommit = 0")
	mustExec(t, c, fmt.Sprintf("UPDATE orders SET status = 'ac0' WHERE order_id IN (%d, %d)", a, b))
	mustExec(t, c, fmt.Sprintf("DELETE FROM orders WHERE order_id = %d", b))
	mustExec(t, c, "COMMIT")
	mustExec(t, c, "SET autocommit = 1")
	if statusOn(a) != "ac0" || queryString(t, e.shard(shardOfKey(b)), "SELECT COUNT(*) FROM orders") != "0" {
		t.Fatal("autocommit=0 transaction did not commit on both shards")
	}
}

// TestGlobalIndex: writes keep global indexes in step; reads by an
// indexed column look the keys up and reach only the shards that own
// them; orphan entries never show.
func TestGlobalIndex(t *testing.T) {
	e := newShardEnv(t,
		"    - {name: parcels, key: parcel_id, indexes: [{column: user_id}, {column: rider_id, sharded: false}, {column: code, unique: true, key_type: string}]}")
	db := e.proxied("")
	mustExec(t, db, "CREATE TABLE parcels (parcel_id BIGINT PRIMARY KEY, user_id BIGINT, rider_id BIGINT, code VARCHAR(20) COLLATE utf8mb4_bin, note VARCHAR(20))")
	mustExec(t, db, "CREATE TABLE parcels_by_user_id (user_id BIGINT NOT NULL, parcel_id BIGINT NOT NULL, PRIMARY KEY (user_id, parcel_id))")
	mustExec(t, db, "CREATE TABLE parcels_by_code (code VARCHAR(20) COLLATE utf8mb4_bin NOT NULL, parcel_id BIGINT NOT NULL, PRIMARY KEY (code))")
	mustExec(t, e.shard(0), "CREATE TABLE parcels_by_rider_id (rider_id BIGINT NOT NULL, parcel_id BIGINT NOT NULL, PRIMARY KEY (rider_id, parcel_id))")
	var values []string
	for k := 1; k <= 120; k++ {
		rider := "NULL"
		if k%3 != 0 {
			rider = fmt.Sprint(k % 5)
		}
		values = append(values, fmt.Sprintf("(%d, %d, %s, 'c%d', 'n')", k, k%7, rider, k))
	}
	mustExec(t, db, "INSERT INTO parcels (parcel_id, user_id, rider_id, code, note) VALUES "+strings.Join(values, ", "))
	mustExec(t, db, "INSERT INTO parcels (parcel_id, user_id, rider_id, code, note) VALUES (500, 1000, NULL, 'solo', 'n')")
	count := func(db *sql.DB, q string) string { return queryString(t, db, q) }
	if n := fmt.Sprint(atoi(count(e.shard(0), "SELECT COUNT(*) FROM parcels_by_user_id")) + atoi(count(e.shard(1), "SELECT COUNT(*) FROM parcels_by_user_id"))); n != "121" {
		t.Fatalf("%s user_id entries, want 121", n)
	}
	if n := count(e.shard(0), "SELECT COUNT(*) FROM parcels_by_rider_id"); n != "80" {
		t.Fatalf("%s rider_id entries (NULLs have none), want 80", n)
	}

	// Reads by an indexed column answer like the rows themselves.
	// byID sorts rows by their first column, a parcel_id.
	byID := func(rs [][]string, desc bool) [][]string {
		slices.SortFunc(rs, func(x, y []string) int {
			c := atoi(x[0]) - atoi(y[0])
			if desc {
				c = -c
			}
			return c
		})
		return rs
	}
	for _, tt := range []struct {
		q, where string // the query, and the rows it selects, read from each shard
		want     func(rows [][]string) [][]string
	}{
		{"SELECT parcel_id, code FROM parcels WHERE user_id = 3 ORDER BY parcel_id",
			"SELECT parcel_id, code FROM parcels WHERE user_id = 3", func(rs [][]string) [][]string { return byID(rs, false) }},
		{"SELECT parcel_id FROM parcels WHERE user_id IN (1, 2) AND note = 'n' ORDER BY parcel_id DESC LIMIT 5",
			"SELECT parcel_id FROM parcels WHERE user_id IN (1, 2) AND note = 'n'", func(rs [][]string) [][]string { return byID(rs, true)[:5] }},
		{"SELECT COUNT(*), MAX(parcel_id) FROM parcels WHERE rider_id = 4",
			"SELECT parcel_id FROM parcels WHERE rider_id = 4", func(rs [][]string) [][]string {
				return [][]string{{fmt.Sprint(len(rs)), byID(rs, true)[0][0]}}
			}},
		{"SELECT parcel_id FROM parcels WHERE code = 'c77'",
			"SELECT parcel_id FROM parcels WHERE code = 'c77'", func(rs [][]string) [][]string { return rs }},
		{"SELECT parcel_id FROM parcels WHERE user_id = 424242",
			"SELECT parcel_id FROM parcels WHERE user_id = 424242", func(rs [][]string) [][]string { return rs }},
	} {
		_, got := rows(t, db, tt.q)
		var all [][]string
		for i := range 2 {
			_, part := rows(t, e.shard(i), tt.where)
			all = append(all, part...)
		}
		if want := tt.want(all); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: %v through Courier, %v from the rows", tt.q, got, want)
		}
	}
	// A user with one parcel: the lookup reads the index shard, then only
	// the parcel's shard.
	before := [2]int64{e.queries(0), e.queries(1)}
	if got := queryString(t, db, "SELECT parcel_id FROM parcels WHERE user_id = 1000"); got != "500" {
		t.Fatalf("user 1000: %s", got)
	}
	idx := shardOfKey(1000) // the index table is sharded by user_id, with the same hash
	data := shardOfKey(500)
	for i := range 2 {
		want := before[i]
		if i == idx {
			want++
		}
		if i == data {
			want++
		}
		if got := e.queries(i); got != want {
			t.Fatalf("shard %d: %d queries, want %d (index shard %d, data shard %d)", i, got-before[i], want-before[i], idx, data)
		}
	}

	// Moving a parcel to another user: found under the new one, not the old
	// (its old entry is an orphan now).
	mustExec(t, db, "UPDATE parcels SET user_id = 2000, note = 'moved' WHERE parcel_id = 500")
	if got := queryString(t, db, "SELECT note FROM parcels WHERE user_id = 2000"); got != "moved" {
		t.Fatalf("user 2000: %s", got)
	}
	if _, got := rows(t, db, "SELECT parcel_id FROM parcels WHERE user_id = 1000"); len(got) != 0 {
		t.Fatalf("user 1000 still has %v", got)
	}
	_, err := db.Exec("UPDATE parcels SET user_id = 5 WHERE note = 'n'")
	wantMySQLError(t, err, 1235, "42000")
	// Prepared reads and writes.
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM parcels WHERE user_id = ?", 3).Scan(&n); err != nil || n != 17 {
		t.Fatalf("prepared count for user 3: %d %v", n, err)
	}
	if _, err := db.Exec("INSERT INTO parcels (parcel_id, user_id, rider_id, code, note) VALUES (?, ?, ?, ?, ?)", 600, 3000, nil, "p600", "p"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT parcel_id FROM parcels WHERE user_id = ?", 3000).Scan(&n); err != nil || n != 600 {
		t.Fatalf("prepared insert then read: %d %v", n, err)
	}
	// A unique index refuses a duplicate, as a unique key would.
	_, err = db.Exec("INSERT INTO parcels (parcel_id, user_id, rider_id, code, note) VALUES (700, 1, NULL, 'c77', 'dup')")
	wantMySQLError(t, err, 1062, "23000")
	// An orphan entry of a unique index (its row is gone) is taken over.
	mustExec(t, db, "DELETE FROM parcels WHERE parcel_id = 77")
	mustExec(t, db, "INSERT INTO parcels (parcel_id, user_id, rider_id, code, note) VALUES (701, 1, NULL, 'c77', 'again')")
	if got := queryString(t, db, "SELECT parcel_id FROM parcels WHERE code = 'c77'"); got != "701" {
		t.Fatalf("code c77: %s", got)
	}
	// UPDATE and DELETE by an indexed column reach only the owning shards.
	r := mustExec(t, db, "UPDATE parcels SET note = 'by-user' WHERE user_id = 4")
	if n, _ := r.RowsAffected(); n != 17 {
		t.Fatalf("UPDATE by user_id affected %d rows, want 17", n)
	}
	if got := queryString(t, db, "SELECT COUNT(*) FROM parcels WHERE note = 'by-user'"); got != "17" {
		t.Fatalf("%s rows updated by user_id", got)
	}
	before = [2]int64{e.queries(0), e.queries(1)}
	r = mustExec(t, db, "DELETE FROM parcels WHERE user_id = 3000")
	if n, _ := r.RowsAffected(); n != 1 {
		t.Fatalf("DELETE by user_id affected %d rows", n)
	}
	if spent := e.queries(0) - before[0] + e.queries(1) - before[1]; spent != 2 {
		t.Fatalf("DELETE by user_id of one parcel sent %d statements, want 2 (lookup and delete)", spent)
	}
	// An INSERT that leaves out an indexed column is refused.
	_, err = db.Exec("INSERT INTO parcels (parcel_id, user_id, code) VALUES (800, 1, 'x')")
	wantMySQLError(t, err, 1235, "42000")
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
