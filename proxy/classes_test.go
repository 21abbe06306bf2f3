package proxy_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/proxy"
	"github.com/courier-proxy/courier/testbed"
)

// governedEnv is Courier over two shards, each a primary with a GTID
// replica, with the orders table sharded and loaded with 40 rows, and
// the users and classes of extra.
type governedEnv struct {
	*env
	lc   *localcluster.Cluster
	dir  string
	yaml string // the configuration it started with
}

func newGovernedEnv(t testing.TB, users, extra string, change ...func(*config.Config)) *governedEnv {
	t.Helper()
	dir := t.TempDir()
	lc := testbed.ClusterT(t, dir, 2, 1)
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
	for _, f := range change {
		f(cfg)
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
	return &governedEnv{env: e, lc: lc, dir: dir, yaml: yaml}
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
// run (before and after it). The batch class runs at most 4 statements at once and takes at
// most a quarter of each pool; the critical class keeps half of each
// pool reserved.
func TestClassIsolation(t *testing.T) {
	r := isolation(t, "batch")
	t.Logf("critical p99 %s alone, %s beside the batch", r.alone, r.beside)
	if r.beside > 2*r.alone {
		t.Fatalf("critical p99 %s beside the batch load, more than twice %s alone", r.beside, r.alone)
	}
}

// BenchmarkClassIsolation reports the critical user's p99 beside the
// batch load over its p99 alone, with the users in their classes and,
// for comparison, in none:
//
//	go test ./proxy -run '^$' -bench ClassIsolation -benchtime 1x
func BenchmarkClassIsolation(b *testing.B) {
	for _, tc := range []struct{ name, class string }{{"batch-class", "batch"}, {"no-class", ""}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				r := isolation(b, tc.class)
				b.ReportMetric(float64(r.beside)/float64(r.alone), "p99-ratio")
				b.ReportMetric(float64(r.alone.Microseconds()), "us-p99-alone")
			}
		})
	}
}

// isolated is what isolation measured: the critical user's point
// selects' p99 alone (the larger of before and after the batch load) and
// beside it.
type isolated struct{ alone, beside time.Duration }

// isolation runs a critical user's point selects alone, then beside a
// batch user's 64 connections of slow scatter reads, then alone again;
// the batch user is in class batchClass and the critical user in class
// critical, or ("") neither is in a class. Every critical select must
// succeed, every batch read of a class too, and some must finish.
func isolation(t testing.TB, batchClass string) isolated {
	t.Helper()
	users := `
  - {name: crit, password: crit}
  - {name: batch, password: batch}
log: {slow_query: 0s}
`
	if batchClass != "" {
		users = `
  - {name: crit, password: crit, class: critical}
  - {name: batch, password: batch, class: ` + batchClass + `}
classes:
  - {name: critical, pool_reserved: 0.5}
  - {name: batch, max_concurrency: 4, queue: 64, queue_timeout: 60s, pool_max: 0.25}
log: {slow_query: 0s}
`
	}
	e := newGovernedEnv(t, users, "")
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
	stop()
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d critical errors under the batch load, first: %v", len(errs), errs[0])
	}
	if batchClass != "" {
		batchErrs.Range(func(k, v any) bool { t.Errorf("batch connection %v: %v", k, v); return false })
	}
	done := 0
	batchDone.Range(func(any, any) bool { done++; return true })
	if done == 0 {
		t.Fatal("no batch query finished")
	}
	// Alone again, after: the machine's other load (other test packages)
	// varies, and either measurement without the batch is a fair one.
	after, errs := pointSelects(crit, 4, 3*time.Second)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	return isolated{alone: max(p99(base), p99(after)), beside: p99(loaded)}
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

// TestReadOnly: the admin switch refuses writes with 1290, for the whole
// instance or one cluster, in text and prepared statements, while reads
// (from the replicas, by key and across shards) go on; lifted, writes
// run again.
func TestReadOnly(t *testing.T) {
	e := newGovernedEnv(t, "", "")
	admin := httptest.NewServer(e.courier.Server.AdminHandler())
	defer admin.Close()
	set := func(query string) proxy.ReadOnlyStatus {
		t.Helper()
		resp, err := http.Post(admin.URL+"/readonly?"+query, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st proxy.ReadOnlyStatus
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /readonly?%s: %d, %v", query, resp.StatusCode, err)
		}
		return st
	}
	for name, db := range map[string]*sql.DB{"prepared": e.proxied(""), "text": e.proxied("interpolateParams=true")} {
		if st := set("on=true"); !st.All {
			t.Fatalf("status %+v", st)
		}
		for _, q := range []string{
			"INSERT INTO orders (order_id, amount) VALUES (1000, 1)",
			"UPDATE orders SET amount = 2 WHERE order_id = 1",
			"CREATE TABLE notes (id INT PRIMARY KEY)",
		} {
			_, err := db.Exec(q)
			wantMySQLError(t, err, 1290, "HY000")
			if err != nil && !strings.Contains(err.Error(), "Courier is read-only") {
				t.Errorf("%s: %s: %v", name, q, err)
			}
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 40 {
			t.Fatalf("%s: a scatter read while read-only: %d, %v", name, n, err)
		}
		if err := db.QueryRow("SELECT amount FROM orders WHERE order_id = ?", 7).Scan(&n); err != nil || n != 7 {
			t.Fatalf("%s: a point read while read-only: %d, %v", name, n, err)
		}

		set("on=false")
		if st := set("on=true&cluster=s1"); st.All || len(st.Clusters) != 1 || st.Clusters[0] != "s1" {
			t.Fatalf("status %+v", st)
		}
		mustExec(t, db, "UPDATE orders SET amount = amount WHERE order_id = ?", keyOn(0, 0))
		_, err := db.Exec("UPDATE orders SET amount = amount WHERE order_id = ?", keyOn(1, 0))
		wantMySQLError(t, err, 1290, "HY000")
		if err != nil && !strings.Contains(err.Error(), "cluster s1 is read-only") {
			t.Errorf("%s: %v", name, err)
		}
		set("on=false&cluster=s1")
		mustExec(t, db, "UPDATE orders SET amount = amount WHERE order_id = ?", keyOn(1, 0))
	}
}

// keyOn returns an order_id of the test table that lives on shard.
func keyOn(shard int, skip int) int64 {
	for k := int64(1); k <= 40; k++ {
		if shardOfKey(k) == shard {
			if skip == 0 {
				return k
			}
			skip--
		}
	}
	panic("no such key")
}

// TestBreaker: with a shard's primary frozen (SIGSTOP) under writes to
// both shards, the writes for it time out (1 s) until its breaker opens
// (3 failures), and from 3 s on fail at once with 2003 (9 in 10 in under
// 10 ms, every one in under 100 ms: text statements, a round trip each)
// instead of waiting out the timeout;
// the other shard's writes, and reads of both shards (from the
// replicas), go on without an error; once the primary continues, the
// breaker closes and the errors stop.
func TestBreaker(t *testing.T) {
	e := newGovernedEnv(t, "", "", func(c *config.Config) {
		c.Limits.QueryTimeout = time.Second
		for i := range c.Clusters {
			c.Clusters[i].Pool.ConnectTimeout = time.Second
			c.Clusters[i].Breaker = config.Breaker{Failures: 3, OpenFor: time.Second}
			// The frozen primary's replica stays in rotation: the test is
			// the breaker's, not replica lag's.
			c.Clusters[i].Replication.MaxReplicaLag = time.Minute
		}
	})
	// Text statements: one round trip each, so that what is timed is the
	// refusal, not a prepare, an execute and a close.
	db := e.proxied("interpolateParams=true")
	type result struct {
		shard      int
		write      bool
		start, end time.Time
		err        error
	}
	var mu sync.Mutex
	var results []result
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 7 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Four writers for shard 1, one for shard 0, two readers of both.
			write := w < 5
			for i := 0; ctx.Err() == nil; i++ {
				shard := i % 2
				if write {
					shard = min(1, 4-w)
				}
				k := keyOn(shard, i%5)
				start := time.Now()
				var err error
				if write {
					_, err = db.Exec("UPDATE orders SET amount = amount WHERE order_id = ?", k)
				} else {
					var n int
					err = db.QueryRow("SELECT amount FROM orders WHERE order_id = ?", k).Scan(&n)
				}
				mu.Lock()
				results = append(results, result{shard, write, start, time.Now(), err})
				mu.Unlock()
				if err != nil {
					time.Sleep(2 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	frozen := time.Now()
	inst := e.lc.Primary(1)
	t.Cleanup(func() { _ = localcluster.Kill(e.dir, inst.Name, syscall.SIGCONT) })
	if err := localcluster.Kill(e.dir, inst.Name, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	thawed := time.Now()
	if err := localcluster.Kill(e.dir, inst.Name, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	stop()
	wg.Wait()

	var fast, late, otherErrs int
	var refusals []time.Duration
	for _, r := range results {
		d := r.end.Sub(r.start)
		switch {
		case r.shard == 0 || !r.write:
			if r.err != nil {
				otherErrs++
				if otherErrs <= 3 {
					t.Errorf("shard %d, write %v: %v", r.shard, r.write, r.err)
				}
			}
		case r.start.After(frozen.Add(3*time.Second)) && r.end.Before(thawed):
			// The breaker is open: at once, with its error.
			var me *mysql.MySQLError
			// At once: under 10 ms (the 9 in 10 of them, so that a loaded
			// machine's scheduling does not decide), never near the timeout.
			if !errors.As(r.err, &me) || me.Number != 2003 || !strings.Contains(me.Message, "circuit breaker") || d > 100*time.Millisecond {
				t.Errorf("a write for the frozen shard, %s after it froze: %s, %v", r.start.Sub(frozen).Round(time.Millisecond), d, r.err)
			} else {
				fast++
				refusals = append(refusals, d)
			}
		case r.start.After(thawed.Add(3 * time.Second)):
			if r.err != nil {
				late++
			}
		}
	}
	opens, toOpen, toRecover := e.courier.Server.Pools()[2].BreakerTimes()
	t.Logf("%d statements; %d writes for the frozen shard refused at once; the breaker opened %d time(s), %s after the first failure; it closed %s after opening, the primary having continued %s after",
		len(results), fast, opens, toOpen.Round(time.Millisecond), toRecover.Round(time.Millisecond), thawed.Sub(frozen).Round(time.Millisecond))
	if fast == 0 || opens == 0 {
		t.Fatal("the breaker never refused a write")
	}
	slices.Sort(refusals)
	p90 := refusals[len(refusals)*9/10]
	t.Logf("refusals: median %s, 90th percentile %s, slowest %s", refusals[len(refusals)/2], p90, refusals[len(refusals)-1])
	if p90 > 10*time.Millisecond {
		t.Fatalf("9 in 10 refusals took up to %s, more than 10 ms", p90)
	}
	if late > 0 {
		t.Fatalf("%d writes failed 3 s after the primary continued", late)
	}
}

// TestWarmUp: with pool.min_idle set, every server's pool has that many
// connections open before the first client, and keeps them through idle
// expiry.
func TestWarmUp(t *testing.T) {
	lc := testbed.ClusterT(t, t.TempDir(), 1, 1)
	cfg := testbed.Config(lc)
	cl := &cfg.Clusters[0]
	cl.Replicas = []config.Backend{{Name: "main-replica1", Address: lc.Replicas(0)[0].Addr, Weight: 1}}
	cl.Pool.MinIdle, cl.Pool.IdleTimeout = 3, 500*time.Millisecond
	c := testbed.StartT(t, cfg)
	check := func(when string) {
		t.Helper()
		for _, b := range c.Server.Status().Backends {
			if b.Idle < 3 {
				t.Fatalf("%s: backend %s has %d idle connections (%d open), want 3", when, b.Name, b.Idle, b.Open)
			}
		}
	}
	check("before the first client")
	time.Sleep(2 * time.Second) // idle_timeout passes, more than once
	check("after idle expiry")
}

// TestShedding: while more statements than a class's shed_above run in
// Courier, its new statements fail at once with 1226; another class's
// go on; once the load passes, the shed class runs again.
func TestShedding(t *testing.T) {
	e := newGovernedEnv(t, `
  - {name: crit, password: crit, class: critical}
  - {name: batch, password: batch, class: batch}
classes:
  - {name: critical}
  - {name: batch, shed_above: 5}
`, "")
	crit, batch := e.as("crit", ""), e.as("batch", "")
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := crit.Exec("SELECT SLEEP(1)"); err != nil {
				t.Error(err)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	_, err := batch.Exec("SELECT amount FROM orders WHERE order_id = ?", 1)
	wantMySQLError(t, err, 1226, "42000")
	if err != nil && !strings.Contains(err.Error(), "'class batch: shed_above' resource (current value: 7 statements running in Courier, above 5)") {
		t.Errorf("message: %v", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("shedding took %s", d)
	}
	var n int
	if err := crit.QueryRow("SELECT amount FROM orders WHERE order_id = ?", 2).Scan(&n); err != nil || n != 2 {
		t.Fatalf("the critical class while the batch is shed: %d, %v", n, err)
	}
	wg.Wait()
	if err := batch.QueryRow("SELECT amount FROM orders WHERE order_id = ?", 3).Scan(&n); err != nil || n != 3 {
		t.Fatalf("the batch class after the load: %d, %v", n, err)
	}
}

// TestDigests: statements are counted by shape (values replaced by ?, in
// text and prepared statements alike), user and class, with their
// errors, rows and shards; /digests serves the top shapes and /metrics
// exports them with bounded labels.
func TestDigests(t *testing.T) {
	e := newGovernedEnv(t, `
  - {name: crit, password: crit, class: critical}
classes:
  - {name: critical}
`, "")
	crit := e.as("crit", "")
	text := e.as("crit", "interpolateParams=true")
	for k := 1; k <= 10; k++ {
		mustExec(t, crit, "SELECT amount FROM orders WHERE order_id = ?", k)
		mustExec(t, text, "SELECT amount FROM orders WHERE order_id = ?", k)
	}
	for range 3 {
		var n int
		if err := crit.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 40 {
			t.Fatal(n, err)
		}
	}
	if _, err := text.Exec("SELECT nope FROM orders WHERE order_id = 1"); err == nil {
		t.Fatal("no error")
	}
	admin := httptest.NewServer(e.courier.Server.AdminHandler())
	defer admin.Close()
	get := func(path string) []proxy.DigestStatus {
		resp, err := http.Get(admin.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out []proxy.DigestStatus
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	byShape := map[string]proxy.DigestStatus{}
	for _, d := range get("/digests?top=100&by=count") {
		if d.User == "crit" {
			byShape[d.Digest] = d
		}
	}
	point := byShape["SELECT amount FROM orders WHERE order_id = ?"]
	if point.Count != 20 || point.Errors != 0 || point.Rows != 20 || point.Class != "critical" || point.Shards != 1 || point.P99 <= 0 {
		t.Fatalf("point select digest %+v; all: %+v", point, byShape)
	}
	scatter := byShape["SELECT COUNT(*) FROM orders"]
	if scatter.Count != 3 || scatter.Shards != 2 || scatter.Rows != 3 {
		t.Fatalf("scatter digest %+v; all: %+v", scatter, byShape)
	}
	bad := byShape["SELECT nope FROM orders WHERE order_id = ?"]
	if bad.Count != 1 || bad.Errors != 1 {
		t.Fatalf("failing digest %+v; all: %+v", bad, byShape)
	}
	if top := get("/digests?top=1&by=count"); len(top) != 1 || top[0].Count < 20 {
		t.Fatalf("top 1 by count: %+v", top)
	}
	resp, err := http.Get(admin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `courier_digest_statements_total{class="critical",digest="SELECT amount FROM orders WHERE order_id = ?",user="crit"} 20`) {
		t.Fatalf("/metrics lacks the point select's digest")
	}
	for _, want := range []string{`courier_backend_pool_waiting{backend="s0-primary",class="critical"} 0`,
		`courier_backend_pool_wait_seconds_total{backend="s1-replica1",class="(none)"}`,
		`courier_backend_connections_busy{backend="s0-primary",class="critical"}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestConsolidation: 20 identical reads arriving at once from a class
// that consolidates cost one backend execution, and every client gets the
// right answer; from a class that does not, 20.
func TestConsolidation(t *testing.T) {
	e := newGovernedEnv(t, `
  - {name: hot, password: hot, class: pollers}
  - {name: plain, password: plain}
classes:
  - {name: pollers, consolidate: true}
`, "")
	queries := func() int64 {
		var n int64
		for _, b := range e.courier.Server.Status().Backends {
			n += b.Queries
		}
		return n
	}
	for _, tc := range []struct {
		user string
		want int64
	}{{"hot", 1}, {"plain", 20}} {
		db := e.open(e.courier.DSN(tc.user, tc.user, "shop", "interpolateParams=true"))
		db.SetMaxOpenConns(20)
		conns := make([]*sql.Conn, 20)
		for i := range conns {
			c, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns[i] = c
		}
		before := queries()
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var slept, amount int
				if err := c.QueryRowContext(context.Background(), "SELECT SLEEP(0.5), amount FROM orders WHERE order_id = 7").Scan(&slept, &amount); err != nil || amount != 7 {
					t.Errorf("%s: %d, %v", tc.user, amount, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if got := queries() - before; got != tc.want {
			t.Errorf("%s: 20 identical reads at once ran %d times on the backends, want %d", tc.user, got, tc.want)
		}
	}
}

// TestShapeRate: rate_limits bound the statements of one shape, text and
// prepared alike, whoever sends them, with 1226; other shapes are free.
func TestShapeRate(t *testing.T) {
	e := newGovernedEnv(t, "", `
rate_limits:
  - {digest: "SELECT COUNT(*) FROM orders WHERE amount > ?", limit: 5, burst: 2}
`)
	for name, db := range map[string]*sql.DB{"prepared": e.proxied(""), "text": e.proxied("interpolateParams=true")} {
		time.Sleep(time.Second) // a full bucket
		refused := 0
		for i := range 10 {
			var n int
			err := db.QueryRow("SELECT COUNT(*) FROM orders WHERE amount > ?", i).Scan(&n)
			if err != nil {
				wantMySQLError(t, err, 1226, "42000")
				if !strings.Contains(err.Error(), "'statements per second of this shape (rate_limits)' resource (current value: 5)") {
					t.Fatalf("%s: %v", name, err)
				}
				refused++
			}
		}
		if refused < 7 {
			t.Fatalf("%s: %d of 10 statements of the shape refused at 5/s with a burst of 2", name, refused)
		}
		for k := 1; k <= 10; k++ {
			mustExec(t, db, "SELECT amount FROM orders WHERE order_id = ?", k)
		}
	}
}

// TestCausalAcrossSessions: a write on one connection is read back on
// another connection of the same user at once, as an application's pool
// does, though reads go to the replicas; another user's reads are not
// held up by it.
func TestCausalAcrossSessions(t *testing.T) {
	e := newGovernedEnv(t, "", "")
	db := e.proxied("")
	ctx := context.Background()
	a, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	replicaReads := func() int64 {
		var n int64
		for _, s := range e.courier.Server.Status().Backends {
			if s.Role == "replica" {
				n += s.Queries
			}
		}
		return n
	}
	before := replicaReads()
	for i := range 200 {
		k := keyOn(i%2, i%5)
		mustExec(t, a, "UPDATE orders SET amount = ? WHERE order_id = ?", 1000+i, k)
		var got int
		if err := b.QueryRowContext(ctx, "SELECT amount FROM orders WHERE order_id = ?", k).Scan(&got); err != nil || got != 1000+i {
			t.Fatalf("write %d read back on another connection: %d, %v", i, got, err)
		}
		if i%20 == 0 {
			time.Sleep(20 * time.Millisecond) // let the replicas catch up now and then: reads go there
		}
	}
	if n := replicaReads() - before; n == 0 {
		t.Fatal("no read went to a replica: the test proves nothing")
	}
}
