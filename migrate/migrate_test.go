package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
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

// cluster is four clusters, each a primary with a GTID replica, started
// once by TestMain.
var cluster *localcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testbed.Main(m, 4, 1, func(c *localcluster.Cluster) { cluster = c }))
}

// env is one test's database on every cluster and the Courier
// instances in front of it.
type env struct {
	t       testing.TB
	db      string
	admins  []string
	couri   []*testbed.Courier
	clients []*sql.DB // one per instance, go-sql-driver's default DSN
}

// layoutFile is a configuration over the four clusters (with their
// replicas) whose shards are ranges ("-80=s0,80-=s1").
func layoutFile(ranges string) []byte {
	return layoutWith(ranges, "    - {name: orders, key: order_id, indexes: [{column: user_id}]}\n    - {name: order_items, key: order_id}\n    - {name: cities, type: reference}\n")
}

// layoutWith is layoutFile with the given sharding.tables entries.
func layoutWith(ranges, tables string) []byte {
	var b strings.Builder
	b.WriteString("listen: 127.0.0.1:0\nadmin: \"\"\nusers: [{name: app, password: app}]\nclusters:\n")
	for i := range 4 {
		fmt.Fprintf(&b, "  - name: s%d\n    user: %s\n    password: %s\n    primary: {address: %q}\n    replicas: [{address: %q}]\n    replication: {check_interval: 200ms, warmup: 0s}\n",
			i, cluster.Spec.User, cluster.Spec.Password, cluster.Primary(i).Addr, cluster.Replicas(i)[0].Addr)
	}
	b.WriteString("default_cluster: s0\nsharding:\n  shards:\n")
	for _, r := range strings.Split(ranges, ",") {
		rng, cl, _ := strings.Cut(r, "=")
		fmt.Fprintf(&b, "    - {range: %q, cluster: %s}\n", rng, cl)
	}
	b.WriteString("  tables:\n" + tables)
	return []byte(b.String())
}

// newEnv creates the tables in database db on every cluster and starts
// instances Courier instances on the layout from.
func newEnv(t testing.TB, db string, from []byte, instances int) *env {
	t.Helper()
	testbed.Require(t)
	e := &env{t: t, db: db}
	// The layouts recorded by an earlier test are not this one's.
	mustExec(t, e.primary(0, ""), "DROP DATABASE IF EXISTS "+config.ControlSchema)
	for i := range 4 {
		p := e.primary(i, "")
		for _, q := range []string{
			"DROP DATABASE IF EXISTS " + db, "CREATE DATABASE " + db,
			"CREATE TABLE " + db + ".orders (order_id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, amount INT NOT NULL, note VARCHAR(40)) ENGINE=InnoDB",
			"CREATE TABLE " + db + ".orders_by_user_id (user_id BIGINT NOT NULL, order_id BIGINT NOT NULL, PRIMARY KEY (user_id, order_id)) ENGINE=InnoDB",
			"CREATE TABLE " + db + ".order_items (order_id BIGINT NOT NULL, item INT NOT NULL, qty INT NOT NULL, PRIMARY KEY (order_id, item)) ENGINE=InnoDB",
			"CREATE TABLE " + db + ".cities (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB",
		} {
			if _, err := p.Exec(q); err != nil {
				t.Fatalf("s%d: %s: %v", i, q, err)
			}
		}
	}
	cfg, err := config.Parse(from)
	if err != nil {
		t.Fatal(err)
	}
	for range instances {
		c := testbed.StartT(t, cfg)
		admin := httptest.NewServer(c.Server.AdminHandler())
		t.Cleanup(admin.Close)
		e.couri = append(e.couri, c)
		e.admins = append(e.admins, strings.TrimPrefix(admin.URL, "http://"))
		db := e.open(c.DSN("app", "app", e.db, ""))
		db.SetMaxOpenConns(8)
		e.clients = append(e.clients, db)
	}
	return e
}

func (e *env) open(dsn string) *sql.DB {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

func (e *env) primary(i int, db string) *sql.DB { return e.open(cluster.DSN(cluster.Primary(i), db)) }

// workload is writers through every instance, and what they were told
// committed.
type workload struct {
	e      *env
	stop   context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	orders map[int64][2]int64 // order_id → user_id, amount
	items  map[[2]int64]int   // (order_id, item) → qty
	errs   []error
	writes int
	next   map[int]int64 // each writer's next new key, kept across runs
}

// load inserts n orders with two items each and a few cities, through
// the first instance.
func (e *env) load(n int) *workload {
	w := &workload{e: e, orders: map[int64][2]int64{}, items: map[[2]int64]int{}, next: map[int]int64{}}
	db := e.clients[0]
	for k := int64(1); k <= int64(n); k++ {
		mustExec(e.t, db, "INSERT INTO orders (order_id, user_id, amount) VALUES (?, ?, ?)", k, k%97, k)
		mustExec(e.t, db, "INSERT INTO order_items (order_id, item, qty) VALUES (?, 1, 1), (?, 2, 2)", k, k)
		w.orders[k] = [2]int64{k % 97, k}
		w.items[[2]int64{k, 1}], w.items[[2]int64{k, 2}] = 1, 2
	}
	for i := 1; i <= 5; i++ {
		mustExec(e.t, db, "INSERT INTO cities (id, name) VALUES (?, ?)", i, fmt.Sprint("city", i))
	}
	return w
}

// start runs writers writers (inserts, multi-row inserts, updates of a
// non-key column, deletes) until stop; writer i owns the keys ≡ i
// (mod writers) and alternates between the instances.
func (w *workload) start(writers int) {
	ctx, stop := context.WithCancel(context.Background())
	w.stop = stop
	for i := range writers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), uint64(len(w.next))))
			w.mu.Lock()
			next, ok := w.next[i]
			w.mu.Unlock()
			if !ok {
				next = int64(1_000_000 + i)
			}
			defer func() { w.mu.Lock(); w.next[i] = next; w.mu.Unlock() }()
			for n := 0; ctx.Err() == nil; n++ {
				db := w.e.clients[n%len(w.e.clients)]
				w.mu.Lock()
				var live []int64
				for k := int64(1 + i); k < 1000 && len(live) < 50; k += int64(writers) {
					if _, ok := w.orders[k]; ok {
						live = append(live, k)
					}
				}
				w.mu.Unlock()
				w.one(db, rnd, &next, writers, live)
			}
		}()
	}
}

func (w *workload) one(db *sql.DB, rnd *rand.Rand, next *int64, writers int, live []int64) {
	var err error
	var apply func()
	switch op := rnd.IntN(10); {
	case op < 4 || len(live) == 0:
		// An order and its items in one transaction of prepared
		// statements, as an application writes them.
		k := *next
		*next += int64(writers)
		err = inTx(db, func(tx *sql.Tx) error {
			if _, err := tx.Exec("INSERT INTO orders (order_id, user_id, amount) VALUES (?, ?, 1)", k, k%97); err != nil {
				return err
			}
			_, err := tx.Exec("INSERT INTO order_items (order_id, item, qty) VALUES (?, 1, 5), (?, 2, 6)", k, k)
			return err
		})
		apply = func() {
			w.orders[k] = [2]int64{k % 97, 1}
			w.items[[2]int64{k, 1}], w.items[[2]int64{k, 2}] = 5, 6
		}
	case op < 9:
		k := live[rnd.IntN(len(live))]
		var res sql.Result
		if res, err = db.Exec("UPDATE orders SET amount = amount + 1 WHERE order_id = ?", k); err == nil {
			if n, _ := res.RowsAffected(); n != 1 {
				err = fmt.Errorf("update of order %d: %d rows", k, n)
			}
		}
		apply = func() { v := w.orders[k]; v[1]++; w.orders[k] = v }
	default:
		k := live[rnd.IntN(len(live))]
		if _, err = db.Exec("DELETE FROM order_items WHERE order_id = ?", k); err == nil {
			_, err = db.Exec("DELETE FROM orders WHERE order_id = ?", k)
		}
		apply = func() { delete(w.orders, k); delete(w.items, [2]int64{k, 1}); delete(w.items, [2]int64{k, 2}) }
	}
	if err != nil {
		w.note(err)
		return
	}
	w.mu.Lock()
	apply()
	w.writes++
	w.mu.Unlock()
}

// inTx runs fn in a transaction of db and commits it.
func inTx(db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (w *workload) note(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err)
}

// finish stops the writers and fails the test on any failed write.
func (w *workload) finish() {
	w.stop()
	w.wg.Wait()
	if len(w.errs) > 0 {
		w.e.t.Fatalf("%d writes failed, first: %v", len(w.errs), w.errs[:min(5, len(w.errs))])
	}
}

// check reads every table through every instance (from the replicas,
// once they have applied every write) and compares with what the
// writers were told committed, and reads some orders by user_id (the
// global index).
func (w *workload) check() {
	t := w.e.t
	t.Helper()
	for i := range 4 {
		waitReplica(t, w.e, i)
	}
	for n, db := range w.e.clients {
		got := map[int64][2]int64{}
		rows, err := db.Query("SELECT order_id, user_id, amount FROM orders")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k, u, a int64
			_ = rows.Scan(&k, &u, &a)
			if _, dup := got[k]; dup {
				t.Errorf("instance %d: order %d read twice", n, k)
			}
			got[k] = [2]int64{u, a}
		}
		rows.Close()
		diff(t, fmt.Sprintf("instance %d, orders", n), w.orders, got)
		gotItems := map[[2]int64]int{}
		rows, err = db.Query("SELECT order_id, item, qty FROM order_items")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k, it int64
			var q int
			_ = rows.Scan(&k, &it, &q)
			gotItems[[2]int64{k, it}] = q
		}
		rows.Close()
		diff(t, fmt.Sprintf("instance %d, order_items", n), w.items, gotItems)
		for u := int64(0); u < 97; u += 13 {
			var count int
			want := 0
			for _, o := range w.orders {
				if o[0] == u {
					want++
				}
			}
			if err := db.QueryRow("SELECT COUNT(*) FROM orders WHERE user_id = ?", u).Scan(&count); err != nil || count != want {
				t.Errorf("instance %d: orders of user %d by the global index: %d, %v; want %d", n, u, count, err, want)
			}
		}
		var cities int
		if err := db.QueryRow("SELECT COUNT(*) FROM cities").Scan(&cities); err != nil || cities != 5 {
			t.Errorf("instance %d: cities %d, %v", n, cities, err)
		}
	}
}

func diff[K comparable, V comparable](t testing.TB, what string, want, got map[K]V) {
	t.Helper()
	bad := 0
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			if bad++; bad <= 5 {
				t.Errorf("%s: %v = %v (present %v), want %v", what, k, g, ok, v)
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			if bad++; bad <= 5 {
				t.Errorf("%s: %v read back but deleted or never acknowledged", what, k)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d differences (%d acknowledged, %d read)", what, bad, len(want), len(got))
	}
}

func waitReplica(t testing.TB, e *env, i int) {
	t.Helper()
	var pos string
	if err := e.primary(i, "").QueryRow("SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	var got sql.NullInt64
	if err := e.open(cluster.DSN(cluster.Replicas(i)[0], "")).QueryRow("SELECT MASTER_GTID_WAIT(?, 20)", pos).Scan(&got); err != nil || got.Int64 != 0 {
		t.Fatalf("s%d's replica did not catch up: %v %v", i, got, err)
	}
}

// inRange checks that cluster cl's primary holds only orders of range rs.
func (e *env) inRange(cl int, rs string) int {
	e.t.Helper()
	r, _ := topo.ParseKeyRange(rs)
	rows, err := e.primary(cl, e.db).Query("SELECT order_id FROM orders")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var k int64
		_ = rows.Scan(&k)
		n++
		if id, _ := (vindex.Hash{}).Map(vindex.Int, vindex.IntValue(k)); !r.Contains(id) {
			e.t.Errorf("order %d on s%d, outside its range %s", k, cl, rs)
		}
	}
	return n
}

func (e *env) versions() []uint64 {
	var out []uint64
	for _, c := range e.couri {
		out = append(out, c.Server.Layouts().Version())
	}
	return out
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (e *env) options(name string) Options {
	start := time.Now()
	return Options{Name: name, Chunk: 100, Pause: 20 * time.Second, Event: func(s string) {
		e.t.Logf("%6.2fs %s", time.Since(start).Seconds(), s)
	}}
}

// TestSplitStopTheWorld splits shard -80 into -40 and 40-80 (new
// clusters s2 and s3; 80- stays on s1) under writes through two Courier
// instances, then reverses, then completes the reverse: no write fails,
// every acknowledged write reads back through both instances on each
// layout, each primary holds only its range.
func TestSplitStopTheWorld(t *testing.T) {
	from, to := layoutFile("-80=s0,80-=s1"), layoutFile("-40=s2,40-80=s3,80-=s1")
	e := newEnv(t, "msplit", from, 2)
	w := e.load(600)
	w.start(4)
	time.Sleep(500 * time.Millisecond)
	ctx := context.Background()
	m, err := Open(ctx, from, to, e.db, NewFleet(e.admins, ""), e.options("msplit"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var moved []string
	for _, mv := range m.Plan.Tables {
		moved = append(moved, fmt.Sprintf("%s %v→%v", mv.Table, mv.Sources, mv.Targets))
	}
	if got := strings.Join(moved, "; "); got != "cities [s0]→[s2 s3]; order_items [s0]→[s2 s3]; orders [s0]→[s2 s3]; orders_by_user_id [s0]→[s2 s3]" {
		t.Fatalf("plan: %s", got)
	}
	start := time.Now()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop-the-world split in %s, writes held %s", time.Since(start).Round(time.Millisecond), m.State.Pause.Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	w.finish()
	t.Logf("%d acknowledged writes", w.writes)
	if v := e.versions(); v[0] != m.State.Version || v[1] != m.State.Version || m.State.Phase != PhaseSwitched {
		t.Fatalf("versions %v, state %+v", v, m.State)
	}
	w.check()
	if e.inRange(2, "-40") == 0 || e.inRange(3, "40-80") == 0 || e.inRange(1, "80-") == 0 {
		t.Fatal("a new shard is empty")
	}

	// Back to two shards, under writes again.
	reverseUnderWrites(t, m, w)
	e.inRange(0, "-80")

	back, err := Resume(ctx, from, "msplit.reverse", "", e.options("msplit.reverse"))
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if err := back.Complete(ctx); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []int{2, 3} {
		var n int
		if err := e.primary(cl, e.db).QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 0 {
			t.Errorf("s%d after complete: %d orders, %v", cl, n, err)
		}
	}
	w.check()
}

// stopAfter returns options whose run is cancelled (as if courierctl
// were killed) after n chunks copied.
func (e *env) stopAfter(name string, n int, pause time.Duration) (context.Context, Options) {
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	opt := e.options(name)
	opt.Chunk, opt.Pause = 50, pause
	var mu sync.Mutex
	chunks := 0
	opt.Progress = func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Phase == "copy" {
			if chunks++; chunks == n {
				cancel()
			}
		}
	}
	return ctx, opt
}

// TestResume stops a migration in the middle of its copy, twice: once
// resumed while its holds are still in place (the copy goes on from its
// checkpoints), once after they lapsed and writes reached the sources
// (the copy starts over). Both verify to zero differences and every
// acknowledged write reads back.
func TestResume(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pause time.Duration
		wait  time.Duration
		event string
	}{
		{"under the holds", 20 * time.Second, 0, "resuming under the holds still in place"},
		{"after the holds lapsed", 2 * time.Second, 3 * time.Second, "copying again from the start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to := layoutFile("-80=s0,80-=s1"), layoutFile("-80=s2,80-=s3")
			e := newEnv(t, "mresume", from, 2)
			w := e.load(600)
			w.start(4)
			time.Sleep(300 * time.Millisecond)
			ctx, opt := e.stopAfter("mresume", 5, tc.pause)
			m, err := Open(ctx, from, to, e.db, NewFleet(e.admins, ""), opt)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if err := m.Start(ctx); err == nil {
				t.Fatal("the stopped run did not stop")
			}
			time.Sleep(tc.wait)
			var events []string
			opt = e.options("mresume")
			opt.Chunk, opt.Event = 50, func(s string) { events = append(events, s); t.Log(s) }
			again, err := Open(context.Background(), from, to, e.db, NewFleet(e.admins, ""), opt)
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if again.State == nil || again.State.Phase != PhaseCopying {
				t.Fatalf("state after the stop: %+v", again.State)
			}
			if err := again.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(events, "\n"), tc.event) {
				t.Fatalf("events %q lack %q", events, tc.event)
			}
			time.Sleep(200 * time.Millisecond)
			w.finish()
			w.check()
			e.inRange(2, "-80")
			e.inRange(3, "80-")
		})
	}
}

// TestLapsedHoldServesRecordedLayout: an instance whose hold lapses
// after the migration recorded its new layout (courierctl stopped
// between the record and the switch) serves that layout before the
// writes it held run.
func TestLapsedHoldServesRecordedLayout(t *testing.T) {
	from, to := layoutFile("-80=s0,80-=s1"), layoutFile("-80=s2,80-=s3")
	e := newEnv(t, "mlapse", from, 1)
	e.load(10)
	f := NewFleet(e.admins, "")
	ctx := context.Background()
	if _, err := f.hold(ctx, []string{"orders"}, time.Second, time.Second); err != nil {
		t.Fatal(err)
	}
	st := &store{db: e.primary(0, "")}
	if err := st.init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.recordLayout(ctx, 7, string(to), "mlapse"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { // held until the lapse, then run on the recorded layout
		_, err := e.clients[0].Exec("INSERT INTO orders (order_id, user_id, amount) VALUES (?, 1, 1)", 12345)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the write ran during the hold: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v := e.versions(); v[0] != 7 {
		t.Fatalf("version after the lapse %v", v)
	}
	shard := 2
	if id, _ := (vindex.Hash{}).Map(vindex.Int, vindex.IntValue(12345)); id >= 1<<63 {
		shard = 3
	}
	var n int
	if err := e.primary(shard, e.db).QueryRow("SELECT COUNT(*) FROM orders WHERE order_id = 12345").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the held write is not on s%d, its shard in the recorded layout: %d, %v", shard, n, err)
	}
}

// TestPlanRefusals: what a migration refuses, before any hold or copy,
// each with a message that says what to do.
func TestPlanRefusals(t *testing.T) {
	from := layoutFile("-80=s0,80-=s1")
	for _, tc := range []struct {
		name, to, want string
		prepare        func(e *env)
	}{
		{name: "the same layout", to: "-80=s0,80-=s1", want: "nothing to migrate"},
		{name: "a target that holds rows now", to: "-40=s0,40-80=s2,80-=s1", want: "cluster s0 holds some of its rows now"},
		{name: "a target not empty", to: "-80=s2,80-=s3", want: "table orders on cluster s2 is not empty",
			prepare: func(e *env) { mustExec(e.t, e.primary(2, e.db), "INSERT INTO orders VALUES (1, 1, 1, NULL)") }},
		{name: "another definition", to: "-80=s2,80-=s3", want: "its definition on cluster s3 differs",
			prepare: func(e *env) { mustExec(e.t, e.primary(3, e.db), "ALTER TABLE order_items ADD COLUMN extra INT") }},
		{name: "no primary key", to: "-80=s2,80-=s3", want: "has no primary key",
			prepare: func(e *env) {
				for i := range 4 {
					mustExec(e.t, e.primary(i, e.db), "ALTER TABLE cities DROP PRIMARY KEY")
				}
			}},
		{name: "a missing table", to: "-80=s2,80-=s3", want: "table order_items does not exist on cluster s2",
			prepare: func(e *env) { mustExec(e.t, e.primary(2, e.db), "DROP TABLE order_items") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "mrefuse", from, 0)
			if tc.prepare != nil {
				tc.prepare(e)
			}
			ctx := context.Background()
			m, err := Open(ctx, from, layoutFile(tc.to), e.db, NewFleet(nil, ""), e.options("mrefuse"))
			if err == nil {
				defer m.Close()
				err = m.Start(ctx)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestInstanceThatDoesNotAnswer: a migration does not go ahead unless
// every instance holds writes; the holds placed are released.
func TestInstanceThatDoesNotAnswer(t *testing.T) {
	from, to := layoutFile("-80=s0,80-=s1"), layoutFile("-80=s2,80-=s3")
	e := newEnv(t, "mgone", from, 1)
	e.load(10)
	ctx := context.Background()
	m, err := Open(ctx, from, to, e.db, NewFleet(append(e.admins, "127.0.0.1:1"), ""), e.options("mgone"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(ctx); err == nil || !strings.Contains(err.Error(), "Courier at 127.0.0.1:1") {
		t.Fatalf("start with an instance down: %v", err)
	}
	if st := e.couri[0].Server.Layouts().Status(); st.Hold != nil || st.Version != 1 {
		t.Fatalf("the instance that answered: %+v", st)
	}
}

// TestOnlineSplit splits shard -80 into two new shards online under
// writes through two Courier instances: the copy and the catch-up run
// while the writers go on, writes are held only for the switch; nothing
// fails, every acknowledged write reads back on the new layout; a
// reverse then brings the old layout back with nothing lost.
func TestOnlineSplit(t *testing.T) {
	from, to := layoutFile("-80=s0,80-=s1"), layoutFile("-40=s2,40-80=s3,80-=s1")
	e := newEnv(t, "monline", from, 2)
	w := e.load(600)
	w.start(4)
	time.Sleep(300 * time.Millisecond)
	ctx := context.Background()
	opt := e.options("monline")
	opt.Mode, opt.Rate = "online", 5000
	m, err := Open(ctx, from, to, e.db, NewFleet(e.admins, ""), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mark := w.count()
	start := time.Now()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("online split in %s, %d writes meanwhile; writes held %s", time.Since(start).Round(time.Millisecond), w.count()-mark, m.State.Pause.Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	w.finish()
	if v := e.versions(); v[0] != m.State.Version || v[1] != m.State.Version {
		t.Fatalf("versions %v, want %d", v, m.State.Version)
	}
	w.check()
	e.inRange(2, "-40")
	e.inRange(3, "40-80")

	reverseUnderWrites(t, m, w)
	e.inRange(0, "-80")
}

// TestOnlineResume stops an online migration in the middle of its copy
// and, in another run, in the middle of its catch-up; run again, each
// verifies to zero differences and switches, under writes throughout.
func TestOnlineResume(t *testing.T) {
	for _, tc := range []struct{ name, stopAt, event string }{
		{"during the copy", "", "copying again from a new snapshot"},
		{"during the catch-up", "copied s1", "following the sources' binary logs again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to := layoutFile("-80=s0,80-=s1"), layoutFile("-80=s2,80-=s3")
			e := newEnv(t, "monresume", from, 2)
			w := e.load(600)
			w.start(4)
			time.Sleep(300 * time.Millisecond)
			ctx, opt := e.stopAfter("monresume", 5, 20*time.Second)
			opt.Mode = "online"
			if tc.stopAt != "" { // stop once the copy is done, catching up
				cctx, cancel := context.WithCancel(context.Background())
				ctx, opt.Progress = cctx, nil
				opt.Event = func(s string) {
					t.Log(s)
					if strings.HasPrefix(s, tc.stopAt) {
						cancel()
					}
				}
			}
			m, err := Open(ctx, from, to, e.db, NewFleet(e.admins, ""), opt)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if err := m.Start(ctx); err == nil {
				t.Fatal("the stopped run did not stop")
			}
			time.Sleep(500 * time.Millisecond) // writes go on meanwhile
			var events []string
			opt = e.options("monresume")
			opt.Mode, opt.Event = "online", func(s string) { events = append(events, s); t.Log(s) }
			again, err := Open(context.Background(), from, to, e.db, NewFleet(e.admins, ""), opt)
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if tc.stopAt != "" { // the status shows how far the catch-up got
				st, err := again.Status(context.Background())
				if err != nil || st.State.Phase != PhaseCatchingUp || len(st.CatchUp) != 2 || st.CatchUp[0].BytesBehind < 0 {
					t.Fatalf("status while catching up: %+v, %v", st, err)
				}
				t.Logf("catch-up: %+v", st.CatchUp)
			}
			if err := again.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(events, "\n"), tc.event) {
				t.Fatalf("events %q lack %q", events, tc.event)
			}
			time.Sleep(200 * time.Millisecond)
			w.finish()
			w.check()
			e.inRange(2, "-80")
			e.inRange(3, "80-")
		})
	}
}

// TestShardAnUnshardedTable shards orders and order_items, which lived
// unsharded on the default cluster, over two new clusters, online, with
// writes going on: the first migration of a platform that outgrew one
// database.
func TestShardAnUnshardedTable(t *testing.T) {
	for _, mode := range []string{"stop", "online"} {
		t.Run(mode, func(t *testing.T) { testShardAnUnshardedTable(t, mode) })
	}
}

func testShardAnUnshardedTable(t *testing.T, mode string) {
	from := layoutWith("-80=s2,80-=s3", "    - {name: cities, type: reference}\n")
	to := layoutWith("-80=s2,80-=s3", "    - {name: cities, type: reference}\n    - {name: orders, key: order_id}\n    - {name: order_items, key: order_id}\n")
	e := newEnv(t, "mshard", from, 2)
	w := e.load(400)
	w.start(4)
	time.Sleep(300 * time.Millisecond)
	opt := e.options("mshard")
	opt.Mode = mode
	m, err := Open(context.Background(), from, to, e.db, NewFleet(e.admins, ""), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var moved []string
	for _, mv := range m.Plan.Tables {
		moved = append(moved, fmt.Sprintf("%s %v→%v", mv.Table, mv.Sources, mv.Targets))
	}
	if got := strings.Join(moved, "; "); got != "order_items [s0]→[s2 s3]; orders [s0]→[s2 s3]" {
		t.Fatalf("plan: %s", got)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	w.finish()
	w.check()
	if e.inRange(2, "-80") == 0 || e.inRange(3, "80-") == 0 {
		t.Fatal("a shard is empty")
	}
	reverseUnderWrites(t, m, w)
}

// reverseUnderWrites reverses a switched migration while the workload
// writes, and checks every acknowledged write reads back on the old
// layout; after an online migration, without copying a row.
func reverseUnderWrites(t *testing.T, m *Migration, w *workload) {
	t.Helper()
	var mu sync.Mutex
	var events []string
	log := m.opt.Event
	m.opt.Event = func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
		log(s)
	}
	w.start(4)
	time.Sleep(300 * time.Millisecond)
	if err := m.Reverse(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	w.finish()
	if m.State.Phase != PhaseReversed {
		t.Fatalf("after reverse: %s", m.State.Phase)
	}
	if all := strings.Join(events, "\n"); m.State.Mode == "online" &&
		(!strings.Contains(all, "applying the changes made since") || strings.Contains(all, "from its snapshot")) {
		t.Fatalf("the online reverse copied:\n%s", all)
	}
	w.check()
}

// TestMoveTablesToAnotherCluster moves unsharded tables (orders and
// order_items, with no global index) from the default cluster s0 to s1
// — a vertical split — in both modes under writes, then reverses.
func TestMoveTablesToAnotherCluster(t *testing.T) {
	for _, mode := range []string{"stop", "online"} {
		t.Run(mode, func(t *testing.T) {
			from := layoutWith("-80=s2,80-=s3", "    - {name: cities, type: reference}\n")
			to := layoutWith("-80=s2,80-=s3", "    - {name: cities, type: reference}\n    - {name: orders, type: unsharded, cluster: s1}\n    - {name: order_items, type: unsharded, cluster: s1}\n")
			e := newEnv(t, "mvertical", from, 2)
			w := e.load(400)
			w.start(4)
			time.Sleep(300 * time.Millisecond)
			opt := e.options("mvertical")
			opt.Mode = mode
			m, err := Open(context.Background(), from, to, e.db, NewFleet(e.admins, ""), opt)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			var moved []string
			for _, mv := range m.Plan.Tables {
				moved = append(moved, fmt.Sprintf("%s %v→%v", mv.Table, mv.Sources, mv.Targets))
			}
			if got := strings.Join(moved, "; "); got != "order_items [s0]→[s1]; orders [s0]→[s1]" {
				t.Fatalf("plan: %s", got)
			}
			if mode == "online" {
				// Copied and caught up, not switched; then, later, a
				// switch from another run, the writes going on meanwhile.
				m.opt.NoSwitch = true
				if err := m.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				if v := e.versions(); v[0] != 1 || v[1] != 1 || m.State.Phase != PhaseCatchingUp {
					t.Fatalf("after --no-switch: versions %v, phase %s", v, m.State.Phase)
				}
				time.Sleep(500 * time.Millisecond)
				m.Close()
				if m, err = Resume(context.Background(), from, "mvertical", "", e.options("mvertical")); err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				err = m.Switch(context.Background())
			} else {
				err = m.Start(context.Background())
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: writes held %s", mode, m.State.Pause.Round(time.Millisecond))
			time.Sleep(200 * time.Millisecond)
			w.finish()
			w.check()
			var n int
			if err := e.primary(1, e.db).QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != len(w.orders) {
				t.Fatalf("orders on s1: %d, %v; want %d", n, err, len(w.orders))
			}
			reverseUnderWrites(t, m, w)
		})
	}
}

// TestLayoutChangeWithoutMoves: a new sharding section that moves no row
// (scatter_writes set) is recorded and every instance switches to it.
func TestLayoutChangeWithoutMoves(t *testing.T) {
	from := layoutFile("-80=s0,80-=s1")
	to := []byte(strings.Replace(string(from), "  tables:\n", "  scatter_writes: true\n  tables:\n", 1))
	e := newEnv(t, "mnomove", from, 2)
	w := e.load(20)
	if _, err := e.clients[0].Exec("UPDATE orders SET amount = 0"); err == nil {
		t.Fatal("an UPDATE without the key ran before scatter_writes was set")
	}
	m, err := Open(context.Background(), from, to, e.db, NewFleet(e.admins, ""), e.options("mnomove"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.Plan.Tables) != 0 {
		t.Fatalf("plan moves %d tables", len(m.Plan.Tables))
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := e.versions(); v[0] != 2 || v[1] != 2 {
		t.Fatalf("versions %v", v)
	}
	for _, db := range e.clients {
		if _, err := db.Exec("UPDATE orders SET amount = amount + 1"); err != nil {
			t.Fatalf("an UPDATE without the key on the new layout: %v", err)
		}
	}
	for k, v := range w.orders {
		w.orders[k] = [2]int64{v[0], v[1] + 2}
	}
	w.check()
}

// TestCoalesce: a batch of changes keeps the last change of each row,
// deletes first, grouped by table; with keys that are not integers it
// keeps the batch as it is.
func TestCoalesce(t *testing.T) {
	a := &Move{Table: "a", pk: []int{0}}
	b := &Move{Table: "b", pk: []int{0, 1}}
	ops := []op{
		{m: a, row: row{int64(1), "x"}, target: "s1"},
		{m: b, row: row{int64(1), int64(1)}, target: "s1"},
		{m: a, del: true, row: row{int64(1), "x"}, target: "s1"},
		{m: a, row: row{int64(2), "y"}, target: "s1"},
		{m: a, row: row{int64(1), "z"}, target: "s1"},
		{m: a, del: true, row: row{int64(3), nil}, target: "s1"},
		{m: a, row: row{int64(3), "w"}, target: "s2"},
		{m: b, del: true, row: row{int64(1), int64(2)}, target: "s1"},
	}
	got, ok := coalesce(ops)
	if !ok {
		t.Fatal("declined")
	}
	var desc []string
	for _, o := range got {
		kind := "replace"
		if o.del {
			kind = "delete"
		}
		desc = append(desc, fmt.Sprintf("%s %s %v@%s", kind, o.m.Table, o.row[:len(o.m.pk)], o.target))
	}
	want := "delete a [3]@s1; delete b [1 2]@s1; replace a [2]@s1; replace a [1]@s1; replace a [3]@s2; replace b [1 1]@s1"
	if g := strings.Join(desc, "; "); g != want {
		t.Fatalf("got  %s\nwant %s", g, want)
	}
	if _, ok := coalesce([]op{{m: a, row: row{[]byte("k"), "x"}, target: "s1"}}); ok {
		t.Fatal("a string key was coalesced")
	}
}
