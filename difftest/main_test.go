package difftest_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/testbed"
)

// shards is how many shards Courier spreads the sharded tables over.
const shards = 4

// shardRanges are the shards' key ranges, in shard order.
var shardRanges = [shards]string{"-40", "40-80", "80-c0", "c0-"}

// env is the package's servers: shards+1 MariaDB primaries (shard i is
// primary i; the last one is the reference server, which holds all the
// data alone) and a Courier in front of the shards. Started once, by the
// first test that needs it, and stopped by TestMain.
type env struct {
	lc      *localcluster.Cluster
	courier *testbed.Courier
}

var shared struct {
	once sync.Once
	env  *env
	err  error
	stop func()
}

func TestMain(m *testing.M) {
	base := runtime.NumGoroutine()
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
		if code == 0 && !goroutinesSettle(base+5, 10*time.Second) {
			buf := make([]byte, 1<<20)
			fmt.Fprintf(os.Stderr, "goroutine leak: %d goroutines after the tests, %d before\n%s",
				runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
			code = 1
		}
	}
	os.Exit(code)
}

// goroutinesSettle waits until at most n goroutines run.
func goroutinesSettle(n int, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if runtime.NumGoroutine() <= n {
			return true
		}
	}
	return false
}

// setup returns the package's servers, starting them on first use.
func setup(t *testing.T) *env {
	t.Helper()
	testbed.Require(t)
	shared.once.Do(func() { shared.env, shared.stop, shared.err = start() })
	if shared.err != nil {
		if os.Getenv("COURIER_REQUIRE_MARIADB") != "" {
			t.Fatal(shared.err)
		}
		t.Skip(shared.err)
	}
	return shared.env
}

func start() (*env, func(), error) {
	dir, err := os.MkdirTemp("", "courier-difftest-")
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lc, stopCluster, err := testbed.Cluster(ctx, dir, shards+1, 0)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	cfg, err := config.Parse([]byte(courierConfig(lc)))
	if err != nil {
		stopCluster()
		os.RemoveAll(dir)
		return nil, nil, err
	}
	c, err := testbed.Start(cfg, nil)
	if err != nil {
		stopCluster()
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() {
		c.Stop()
		stopCluster()
		os.RemoveAll(dir)
	}
	return &env{lc: lc, courier: c}, stop, nil
}

// courierConfig shards orders and order_items by order_id (and the
// streaming test's nums by id) over four even hash ranges; cities is a
// reference table; everything else lives on the default cluster, s0.
func courierConfig(lc *localcluster.Cluster) string {
	y := `
listen: 127.0.0.1:0
admin: ""
users: [{name: app, password: app, access: admin}]
default_cluster: s0
clusters:
`
	for i := range shards {
		y += fmt.Sprintf("  - {name: s%d, user: %s, password: %s, primary: {address: %q}}\n", i, lc.Spec.User, lc.Spec.Password, lc.Primary(i).Addr)
	}
	y += "sharding:\n  shards:\n"
	for i, r := range shardRanges {
		y += fmt.Sprintf("    - {range: %q, cluster: s%d}\n", r, i)
	}
	y += `  tables:
    - name: orders
      key: order_id
      indexes: [{column: user_id}, {column: rider_id}, {column: merchant_id, sharded: false}]
    - {name: trips, key: order_id}
    - {name: order_items, key: order_id}
    - {name: nums, key: id}
    - {name: cities, type: reference}
`
	return y
}

// keyRanges are shardRanges parsed.
var keyRanges = func() [shards]topo.KeyRange {
	var out [shards]topo.KeyRange
	for i, name := range shardRanges {
		r, err := topo.ParseKeyRange(name)
		if err != nil {
			panic(err)
		}
		out[i] = r
	}
	return out
}()

// shardOf is the shard that owns key k.
func shardOf(k int64) int {
	id, err := vindex.Hash{}.Map(vindex.Int, vindex.IntValue(k))
	if err != nil {
		panic(err)
	}
	for i, r := range keyRanges {
		if r.Contains(id) {
			return i
		}
	}
	panic(fmt.Sprintf("no shard owns %d", k))
}

func (e *env) open(t testing.TB, dsn string) *sql.DB {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// shardDB opens a pool straight to shard i's server.
func (e *env) shardDB(t testing.TB, i int, schema string) *sql.DB {
	return e.open(t, e.lc.DSN(e.lc.Primary(i), schema))
}

// referenceDB opens a pool to the reference server.
func (e *env) referenceDB(t testing.TB, schema string) *sql.DB {
	return e.open(t, e.lc.DSN(e.lc.Primary(shards), schema))
}

// courierDB opens a pool through Courier.
func (e *env) courierDB(t testing.TB, schema string) *sql.DB {
	return e.open(t, e.courier.DSN("app", "app", schema, ""))
}

// createSchema makes an empty database on every server: Courier sends
// CREATE DATABASE to the default cluster only, so each shard gets it
// directly.
func (e *env) createSchema(t testing.TB, name string) {
	t.Helper()
	for i := range shards + 1 {
		db := e.open(t, e.lc.DSN(e.lc.Primary(i), ""))
		mustExec(t, db, "DROP DATABASE IF EXISTS "+name)
		mustExec(t, db, "CREATE DATABASE "+name+" DEFAULT CHARACTER SET utf8mb4")
		db.Close()
	}
}

// queries is how many statements Courier has sent to shard i's primary.
func (e *env) queries(t testing.TB, i int) int64 {
	name := fmt.Sprintf("s%d-primary", i)
	for _, b := range e.courier.Server.Status().Backends {
		if b.Name == name {
			return b.Queries
		}
	}
	t.Fatalf("no backend %s", name)
	return 0
}

// allQueries is queries for every shard.
func (e *env) allQueries(t testing.TB) [shards]int64 {
	var out [shards]int64
	for i := range out {
		out[i] = e.queries(t, i)
	}
	return out
}

func mustExec(t testing.TB, db *sql.DB, q string) sql.Result {
	t.Helper()
	r, err := db.Exec(q)
	if err != nil {
		t.Fatalf("%.200s: %v", q, err)
	}
	return r
}
