package difftest_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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

// replicas is how many replicas each shard has: reads go to them, under
// Courier's default causal consistency, as they do where Courier is
// deployed.
const replicas = 1

// env is the package's servers: four shards of one primary and one
// replica each (GTID replication), a reference server that holds all the
// data alone, and two Couriers in front of the shards: courier lets a
// transaction reach several shards (multi_shard_transactions:
// best_effort), reject refuses that (the default). Started once, by the
// first test that needs it, and stopped by TestMain.
type env struct {
	lc      *localcluster.Cluster // the shards
	ref     *localcluster.Cluster // the reference server
	courier *testbed.Courier
	reject  *testbed.Courier

	mu    sync.Mutex
	pools map[testing.TB]map[string]*sql.DB // see direct
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

func start() (_ *env, _ func(), err error) {
	dir, err := os.MkdirTemp("", "courier-difftest-")
	if err != nil {
		return nil, nil, err
	}
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		os.RemoveAll(dir)
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := &env{}
	var stopCluster func()
	if e.lc, stopCluster, err = testbed.Cluster(ctx, filepath.Join(dir, "shards"), shards, replicas); err != nil {
		return nil, nil, err
	}
	stops = append(stops, stopCluster)
	if e.ref, stopCluster, err = testbed.Cluster(ctx, filepath.Join(dir, "reference"), 1, 0); err != nil {
		return nil, nil, err
	}
	stops = append(stops, stopCluster)
	if err := shortLockWaits(ctx, e.lc); err != nil {
		return nil, nil, err
	}
	stops = append(stops, func() {
		for _, c := range []*testbed.Courier{e.courier, e.reject} {
			if c != nil {
				c.Stop()
			}
		}
	})
	if e.courier, err = e.startCourier("best_effort"); err != nil {
		return nil, nil, err
	}
	if e.reject, err = e.startCourier("reject"); err != nil {
		return nil, nil, err
	}
	return e, stop, nil
}

// startCourier starts a Courier in front of the shards whose
// multi_shard_transactions is multiShard.
func (e *env) startCourier(multiShard string) (*testbed.Courier, error) {
	cfg, err := config.Parse([]byte(courierConfig(e.lc, multiShard)))
	if err != nil {
		return nil, err
	}
	return testbed.Start(cfg, nil)
}

// restart replaces *c, a Courier of e, by a new one with the same
// configuration: new pools, no sessions.
func (e *env) restart(c **testbed.Courier) error {
	mode := "best_effort"
	if *c == e.reject {
		mode = "reject"
	}
	(*c).Stop()
	fresh, err := e.startCourier(mode)
	if err != nil {
		*c = nil
		return err
	}
	*c = fresh
	return nil
}

// lockWait is the shards' innodb_lock_wait_timeout, in seconds. The
// tests run one statement at a time, so no two sessions ever want the
// same row: a lock wait is always a defect (a transaction left open on a
// backend connection, or one session's statements spread over two
// connections of one shard, the second waiting for the first). A short
// timeout makes it a quick error 1205 rather than a 50-second stall.
const lockWait = 2

// shortLockWaits sets innodb_lock_wait_timeout on every shard's primary,
// for the connections Courier opens from now on.
func shortLockWaits(ctx context.Context, lc *localcluster.Cluster) error {
	for _, p := range lc.Primaries() {
		db, err := sql.Open("mysql", lc.DSN(p, ""))
		if err != nil {
			return err
		}
		_, err = db.ExecContext(ctx, fmt.Sprintf("SET GLOBAL innodb_lock_wait_timeout = %d", lockWait))
		db.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
	}
	return nil
}

// courierConfig shards orders and order_items by order_id (and the
// streaming test's nums by id) over four even hash ranges; cities is a
// reference table; everything else lives on the default cluster, s0.
// Each shard's cluster reads from its replica, which takes reads from
// the first statement (no warm-up); sessions read causally (their own
// writes), Courier's default, with the default causal_wait: a read waits
// only on the shards the session wrote, for what they applied, so reads
// go to replicas whenever they can and never stall on other shards.
// multiShard is multi_shard_transactions.
func courierConfig(lc *localcluster.Cluster, multiShard string) string {
	y := `
listen: 127.0.0.1:0
admin: ""
consistency: causal
users: [{name: app, password: app, access: admin}]
default_cluster: s0
clusters:
`
	for i := range shards {
		y += fmt.Sprintf("  - name: s%d\n    user: %s\n    password: %s\n    primary: {address: %q}\n    replicas:\n", i, lc.Spec.User, lc.Spec.Password, lc.Primary(i).Addr)
		for _, r := range lc.Replicas(i) {
			y += fmt.Sprintf("      - {address: %q}\n", r.Addr)
		}
		y += "    replication: {reads: replicas, warmup: 0s}\n"
	}
	y += "sharding:\n  multi_shard_transactions: " + multiShard + "\n  shards:\n"
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

// direct returns t's pool for dsn, a server's own (not Courier's),
// opened on first use and closed when t ends.
func (e *env) direct(t testing.TB, dsn string) *sql.DB {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pools == nil {
		e.pools = map[testing.TB]map[string]*sql.DB{}
	}
	mine := e.pools[t]
	if mine == nil {
		mine = map[string]*sql.DB{}
		e.pools[t] = mine
		t.Cleanup(func() {
			e.mu.Lock()
			delete(e.pools, t)
			e.mu.Unlock()
			for _, db := range mine {
				db.Close()
			}
		})
	}
	if mine[dsn] == nil {
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		mine[dsn] = db
	}
	return mine[dsn]
}

// shardDB is a pool straight to shard i's primary.
func (e *env) shardDB(t testing.TB, i int, schema string) *sql.DB {
	return e.direct(t, e.lc.DSN(e.lc.Primary(i), schema))
}

// Statements reach both servers as an application's driver sends them:
// go-sql-driver's defaults, under which a statement with arguments is
// prepared on the server (interpolateParams is off; the DSNs say so to
// make it plain). Batches use a session of their own that allows several
// statements in one COM_QUERY.
const (
	driverParams = "interpolateParams=false"
	batchParams  = "interpolateParams=false&multiStatements=true"
)

// referenceDB opens a pool to the reference server.
func (e *env) referenceDB(t testing.TB, schema, params string) *sql.DB {
	return e.open(t, fmt.Sprintf("%s:%s@tcp(%s)/%s?%s", e.ref.Spec.User, e.ref.Spec.Password, e.ref.Primary(0).Addr, schema, params))
}

// courierDB opens a pool through Courier.
func (e *env) courierDB(t testing.TB, schema string) *sql.DB {
	return e.open(t, e.courier.DSN("app", "app", schema, driverParams))
}

// createSchema makes an empty database on every primary and on the
// reference server: Courier sends CREATE DATABASE to the default
// cluster only, so each shard gets it directly (and its replica through
// replication).
func (e *env) createSchema(t testing.TB, name string) {
	t.Helper()
	for _, inst := range append(e.lc.Primaries(), e.ref.Primary(0)) {
		db := e.open(t, e.lc.DSN(inst, ""))
		mustExec(t, db, "DROP DATABASE IF EXISTS "+name)
		mustExec(t, db, "CREATE DATABASE "+name+" DEFAULT CHARACTER SET utf8mb4")
		db.Close()
	}
}

// syncReplicas waits until every replica has applied everything its
// primary had written when it was called. Writes made straight to a
// primary, or through Courier by another session, are not a session's
// own: causal consistency does not promise them to the next reader.
func (e *env) syncReplicas(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range shards {
		var pos string
		if err := e.shardDB(t, i, "").QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
			t.Fatal(err)
		}
		for _, r := range e.lc.Replicas(i) {
			var waited int
			if err := e.direct(t, e.lc.DSN(r, "")).QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, 100)", pos).Scan(&waited); err != nil || waited != 0 {
				t.Fatalf("%s did not reach %s: %d %v", r.Name, pos, waited, err)
			}
		}
	}
}

// queries is how many statements Courier has sent to shard i, to its
// primary and its replicas together: where a statement goes is the
// router's choice, whether a read goes to the replica the read/write
// split's.
func (e *env) queries(t testing.TB, i int) int64 {
	prefix := fmt.Sprintf("s%d-", i)
	var n int64
	found := 0
	for _, b := range e.courier.Server.Status().Backends {
		if strings.HasPrefix(b.Name, prefix) {
			n += b.Queries
			found++
		}
	}
	if found != 1+replicas {
		t.Fatalf("%d backends of shard %d, want %d", found, i, 1+replicas)
	}
	return n
}

// allQueries is queries for every shard.
func (e *env) allQueries(t testing.TB) [shards]int64 {
	var out [shards]int64
	for i := range out {
		out[i] = e.queries(t, i)
	}
	return out
}

// replicaQueries is how many statements c has sent to replicas.
func replicaQueries(c *testbed.Courier) int64 {
	var n int64
	for _, b := range c.Server.Status().Backends {
		if b.Role == "replica" {
			n += b.Queries
		}
	}
	return n
}

func mustExec(t testing.TB, db *sql.DB, q string) sql.Result {
	t.Helper()
	r, err := db.Exec(q)
	if err != nil {
		t.Fatalf("%.200s: %v", q, err)
	}
	return r
}
