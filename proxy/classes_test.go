package proxy_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/testbed"
)

// governedEnv is Courier over two shards, each a primary with a GTID
// replica, with the orders table sharded and loaded with 40 rows, and
// the users and classes of extra.
type governedEnv struct {
	*env
	lc *localcluster.Cluster
}

func newGovernedEnv(t *testing.T, users, extra string) *governedEnv {
	t.Helper()
	lc := testbed.ClusterT(t, t.TempDir(), 2, 1)
	yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
admin: ""
users:
  - {name: app, password: app, access: admin}
%[7]s
clusters:
  - name: s0
    user: %[1]s
    password: %[2]s
    primary: {address: "%[3]s"}
    replicas: [{address: "%[5]s"}]
    pool: {max_open: 16, max_idle: 16, wait_timeout: 3s}
    replication: {check_interval: 200ms, warmup: 0s}
  - name: s1
    user: %[1]s
    password: %[2]s
    primary: {address: "%[4]s"}
    replicas: [{address: "%[6]s"}]
    pool: {max_open: 16, max_idle: 16, wait_timeout: 3s}
    replication: {check_interval: 200ms, warmup: 0s}
default_cluster: s0
sharding:
  shards: [{range: "-80", cluster: s0}, {range: "80-", cluster: s1}]
  tables: [{name: orders, key: order_id}]
%[8]s
`, lc.Spec.User, lc.Spec.Password, lc.Primary(0).Addr, lc.Primary(1).Addr, lc.Replicas(0)[0].Addr, lc.Replicas(1)[0].Addr, users, extra)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, courier: testbed.StartT(t, cfg), schema: "shop"}
	for i := range 2 {
		mustExec(t, e.open(lc.DSN(lc.Primary(i), "")), "CREATE DATABASE shop")
	}
	admin := e.proxied("")
	mustExec(t, admin, "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, amount INT)")
	for k := 1; k <= 40; k++ {
		mustExec(t, admin, "INSERT INTO orders (order_id, amount) VALUES (?, ?)", k, k)
	}
	return &governedEnv{env: e, lc: lc}
}

func (e *governedEnv) as(user, params string) *sql.DB {
	db := e.open(e.courier.DSN(user, user, "shop", params))
	db.SetMaxIdleConns(100)
	return db
}

// pointSelects runs workers point selects by key for d and returns their
// latencies and errors.
func pointSelects(db *sql.DB, workers int, d time.Duration) ([]time.Duration, []error) {
	var mu sync.Mutex
	var lat []time.Duration
	var errs []error
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 1 + w; time.Now().Before(end); k = k%40 + 1 {
				start := time.Now()
				var amount int
				err := db.QueryRow("SELECT amount FROM orders WHERE order_id = ?", k).Scan(&amount)
				took := time.Since(start)
				mu.Lock()
				if err != nil || amount != k {
					errs = append(errs, fmt.Errorf("order %d: %d, %v", k, amount, err))
				}
				lat = append(lat, took)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, errs
}

func p99(lat []time.Duration) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[len(s)*99/100]
}

// TestClassIsolation: while a batch user runs 64 connections of slow
// scatter reads, a critical user's point selects have no error and a p99
// within twice their p99 without the batch load, measured in the same
// run. The batch class runs at most 4 statements at once and takes at
// most a quarter of each pool; the critical class keeps half of each
// pool reserved.
func TestClassIsolation(t *testing.T) {
	e := newGovernedEnv(t, `
  - {name: crit, password: crit, class: critical}
  - {name: batch, password: batch, class: batch}
classes:
  - {name: critical, pool_reserved: 0.5}
  - {name: batch, max_concurrency: 4, queue: 64, queue_timeout: 60s, pool_max: 0.25}
log: {slow_query: 0s}
`, "")
	crit, batch := e.as("crit", ""), e.as("batch", "")
	if _, errs := pointSelects(crit, 4, 500*time.Millisecond); len(errs) > 0 { // warm the pools
		t.Fatal(errs[0])
	}
	base, errs := pointSelects(crit, 4, 3*time.Second)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var batchDone, batchErrs sync.Map
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				// Each shard sleeps 10 ms a row: about 0.2 s a shard.
				var n int
				err := batch.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders WHERE SLEEP(0.01) = 0").Scan(&n)
				if err != nil && ctx.Err() == nil {
					batchErrs.Store(i, err)
				} else if err == nil {
					batchDone.Store(i, true)
				}
			}
		}()
	}
	time.Sleep(time.Second) // the batch fills its class and queue
	loaded, errs := pointSelects(crit, 4, 3*time.Second)
	running := e.courier.Server.Status()
	stop()
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d critical errors under the batch load, first: %v", len(errs), errs[0])
	}
	batchErrs.Range(func(k, v any) bool { t.Errorf("batch connection %v: %v", k, v); return false })
	done := 0
	batchDone.Range(func(any, any) bool { done++; return true })
	if done == 0 {
		t.Fatal("no batch query finished")
	}
	t.Logf("critical p99 %s alone, %s beside the batch (%d and %d selects); %d batch connections finished a query; %d sessions",
		p99(base), p99(loaded), len(base), len(loaded), done, len(running.Sessions))
	if p99(loaded) > 2*p99(base) {
		t.Fatalf("critical p99 %s beside the batch load, more than twice %s alone", p99(loaded), p99(base))
	}
}

// TestClassLimits: a class's statements past its running limit and its
// queue are refused at once with 1226, those that wait past the queue
// timeout too; statements that end a transaction never wait; the
// connection stays usable.
func TestClassLimits(t *testing.T) {
	e := newGovernedEnv(t, `
  - {name: one, password: one, class: single}
  - {name: queued, password: queued, class: waits}
classes:
  - {name: single, max_concurrency: 1, queue: 0}
  - {name: waits, max_concurrency: 1, queue: 5, queue_timeout: 200ms}
`, "")
	for _, tc := range []struct {
		user, want string
	}{
		{"one", "has exceeded the 'class single: max_concurrency' resource (current value: 1, and 0 waiting)"},
		{"queued", "has exceeded the 'class waits: max_concurrency' resource (current value: 1; waited 200ms for a place)"},
	} {
		db := e.as(tc.user, "")
		started := make(chan struct{})
		go func() {
			close(started)
			_, _ = db.Exec("SELECT SLEEP(1)")
		}()
		<-started
		time.Sleep(200 * time.Millisecond)
		begin := time.Now()
		_, err := db.Exec("SELECT amount FROM orders WHERE order_id = ?", 1)
		wantMySQLError(t, err, 1226, "42000")
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.user, err)
		}
		t.Logf("%s: refused after %s: %v", tc.user, time.Since(begin).Round(time.Millisecond), err)
		time.Sleep(time.Second)
		var n int
		if err := db.QueryRow("SELECT amount FROM orders WHERE order_id = ?", 2).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%s after the refusal: %d, %v", tc.user, n, err)
		}
	}
	// A transaction's COMMIT passes a full class.
	db := e.as("one", "")
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "UPDATE orders SET amount = amount WHERE order_id = ?", 3)
	go func() { _, _ = db.Exec("SELECT SLEEP(1)") }()
	time.Sleep(200 * time.Millisecond)
	mustExec(t, conn, "COMMIT")
}

// TestUserRate: statements past a user's rate fail at once with 1226
// saying when to retry; with a wait, they wait their turn instead.
func TestUserRate(t *testing.T) {
	e := newGovernedEnv(t, `
  - {name: strict, password: strict, rate: {limit: 20, burst: 5}}
  - {name: patient, password: patient, rate: {limit: 20, burst: 5, wait: 2s}}
`, "")
	strict := e.as("strict", "interpolateParams=true")
	refused := 0
	for k := 1; k <= 30; k++ {
		var n int
		err := strict.QueryRow("SELECT amount FROM orders WHERE order_id = ?", k).Scan(&n)
		var me *mysql.MySQLError
		switch {
		case err == nil:
		case errors.As(err, &me) && me.Number == 1226:
			wantMySQLError(t, err, 1226, "42000")
			if !strings.Contains(me.Message, "User 'strict' has exceeded the 'statements per second' resource (current value: 20); retry in ") {
				t.Fatalf("message: %s", me.Message)
			}
			refused++
		default:
			t.Fatal(err)
		}
	}
	if refused < 20 || refused > 25 {
		t.Fatalf("%d of 30 statements refused at 20/s with a burst of 5", refused)
	}
	patient := e.as("patient", "")
	start := time.Now()
	for k := 1; k <= 25; k++ {
		mustExec(t, patient, "SELECT amount FROM orders WHERE order_id = ?", k)
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Fatalf("25 statements at 20/s (burst 5) took %s", took)
	}
}
