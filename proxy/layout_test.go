package proxy_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/proxy"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/testbed"
)

// layoutYAML is a configuration over the four clusters of e (each with
// its replica) whose shards are ranges (key range → cluster index).
func layoutYAML(e *replEnv, ranges [][2]string) string {
	var clusters, shards strings.Builder
	for i := range replShards {
		fmt.Fprintf(&clusters, `
  - name: s%d
    user: %s
    password: %s
    primary: {address: "%s"}
    replicas: [{address: "%s"}]
    replication: {check_interval: 200ms, warmup: 0s}`, i, e.lc.Spec.User, e.lc.Spec.Password, e.lc.Primary(i).Addr, e.lc.Replicas(i)[0].Addr)
	}
	for _, r := range ranges {
		fmt.Fprintf(&shards, "\n    - {range: %q, cluster: %s}", r[0], r[1])
	}
	return fmt.Sprintf(`
listen: 127.0.0.1:0
admin: ""
users: [{name: app, password: app}]
clusters:%s
default_cluster: s0
sharding:
  shards:%s
  tables:
    - {name: moves, key: order_id}
`, clusters.String(), shards.String())
}

// testLayoutSwitch splits two shards into four under a write load the
// way a stop-the-world migration does, through Courier's side of it: a
// write hold on the moved table (waiting for the transaction in flight),
// the rows copied to their new shards while writers wait, the layout
// switched atomically with the hold released. Writers see a pause and no
// error; every acknowledged write is read back through Courier on the new
// layout; each shard holds exactly its range; a transaction begun before
// the switch cannot write on the old layout after it (1412).
func testLayoutSwitch(t *testing.T, e *replEnv) {
	for i := range replShards {
		mustExec(t, e.primary(i, ""), "CREATE TABLE shop.moves (order_id BIGINT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB")
	}
	two := layoutYAML(e, [][2]string{{"-80", "s0"}, {"80-", "s1"}})
	four := layoutYAML(e, [][2]string{{"-40", "s0"}, {"40-80", "s2"}, {"80-c0", "s1"}, {"c0-", "s3"}})
	cfg, err := config.Parse([]byte(two))
	if err != nil {
		t.Fatal(err)
	}
	c := testbed.StartT(t, cfg)
	admin := httptest.NewServer(c.Server.AdminHandler())
	defer admin.Close()
	db := openDB(t, c.DSN("app", "app", "shop", "")) // prepared statements whenever there are arguments
	db.SetMaxOpenConns(16)

	// What the writers were told committed: key → n (absent: deleted).
	const writers = 4
	acked := make([]map[int64]int, writers)
	for w := range writers {
		acked[w] = map[int64]int{}
		for k := int64(w + 1); k <= 400; k += writers {
			mustExec(t, db, "INSERT INTO moves (order_id, n) VALUES (?, 0)", k)
			acked[w][k] = 0
		}
	}
	const outside = 5000 // a row no writer touches
	mustExec(t, db, "INSERT INTO moves (order_id, n) VALUES (?, 0)", outside)
	if v := layoutVersion(t, admin.URL); v != 1 {
		t.Fatalf("layout version at start = %d", v)
	}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var writeErrs []error
	slowest := make([]time.Duration, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := int64(1000 + w)
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil {
				start := time.Now()
				var err error
				var apply func()
				switch op := rnd.IntN(10); {
				case op < 4:
					k := next
					next += writers
					_, err = db.Exec("INSERT INTO moves (order_id, n) VALUES (?, 1)", k)
					apply = func() { acked[w][k] = 1 }
				case op < 5:
					k, k2 := next, next+writers
					next += 2 * writers
					_, err = db.Exec("INSERT INTO moves (order_id, n) VALUES (?, 1), (?, 1)", k, k2)
					apply = func() { acked[w][k], acked[w][k2] = 1, 1 }
				default:
					k := int64(w+1) + int64(writers*rnd.IntN(100))
					if _, live := acked[w][k]; !live {
						continue
					}
					var res sql.Result
					if op == 9 {
						res, err = db.Exec("DELETE FROM moves WHERE order_id = ?", k)
						apply = func() { delete(acked[w], k) }
					} else {
						res, err = db.Exec("UPDATE moves SET n = n + 1 WHERE order_id = ?", k)
						apply = func() { acked[w][k]++ }
					}
					if err == nil {
						if n, _ := res.RowsAffected(); n != 1 {
							err = fmt.Errorf("order %d: %d rows affected at %s", k, n, time.Now().Format("15:04:05.000"))
						}
					}
				}
				if err != nil {
					mu.Lock()
					writeErrs = append(writeErrs, err)
					mu.Unlock()
					continue // not acknowledged
				}
				apply()
				slowest[w] = max(slowest[w], time.Since(start))
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)

	// A transaction in flight when the hold is placed: the hold waits for
	// it to commit.
	inflight, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inflight.Exec("UPDATE moves SET n = n + 100 WHERE order_id = ?", outside); err != nil {
		t.Fatal(err)
	}
	held := make(chan proxy.HoldStatus, 1)
	go func() {
		var st proxy.HoldStatus
		if err := adminCallBody(admin.URL+"/layout/hold", `{"tables": ["moves"], "pause": "20s", "drain": "10s"}`, &st); err != nil {
			t.Error(err)
		}
		held <- st
	}()
	time.Sleep(150 * time.Millisecond)
	select {
	case st := <-held:
		t.Fatalf("the hold was placed before the transaction in flight ended: %+v", st)
	default:
	}
	if err := inflight.Commit(); err != nil {
		t.Fatal(err)
	}
	st := <-held
	if st.Hold == 0 || st.Waited == 0 {
		t.Fatalf("hold = %+v: it should have waited for the transaction", st)
	}
	holdStart := time.Now()
	t.Logf("held at %s", holdStart.Format("15:04:05.000"))

	// A transaction begun during the hold, on the old layout.
	late, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := late.QueryRow("SELECT n FROM moves WHERE order_id = ?", 8).Scan(&n); err != nil {
		t.Fatal(err)
	}

	// The copy, while writes wait: rows whose new range is on s2 or s3.
	moveRange(t, e, 0, 2, "40-80")
	moveRange(t, e, 1, 3, "c0-")
	var swapped proxy.LayoutStatus
	if err := adminCallBody(admin.URL+fmt.Sprintf("/layout/switch?hold=%d", st.Hold), four, &swapped); err != nil {
		t.Fatal(err)
	}
	pause := time.Since(holdStart)
	t.Logf("switched at %s", time.Now().Format("15:04:05.000"))
	if swapped.Version != 2 || swapped.Hold != nil {
		t.Fatalf("after the switch: %+v", swapped)
	}

	// The late transaction may not write on the layout it began with.
	_, err = late.Exec("UPDATE moves SET n = n + 1 WHERE order_id = ?", 8)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1412 || string(me.SQLState[:]) != "HY000" {
		t.Fatalf("write in a transaction across the switch: %v, want error 1412 (HY000)", err)
	}
	_ = late.Rollback()

	time.Sleep(300 * time.Millisecond)
	stop()
	wg.Wait()
	if len(writeErrs) > 0 {
		t.Fatalf("%d writes failed across the switch: %v", len(writeErrs), writeErrs[:min(8, len(writeErrs))])
	}
	t.Logf("write hold %v (copy and switch), slowest write per writer %v", pause, slowest)

	// Every acknowledged write, read through Courier on the new layout
	// (from the replicas, once they have applied every write).
	for i := range replShards {
		waitReplica(t, e, i)
	}
	want := map[int64]int{outside: 100}
	for _, m := range acked {
		for k, v := range m {
			want[k] = v
		}
	}
	got := map[int64]int{}
	rows, err := db.Query("SELECT order_id, n FROM moves /* every shard */")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k int64
		var v int
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		got[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	diffRows(t, want, got)
	for k, v := range want {
		if k%50 != 0 {
			continue
		}
		var n int
		if err := db.QueryRow("SELECT n FROM moves WHERE order_id = ?", k).Scan(&n); err != nil || n != v {
			t.Errorf("order %d by key on the new layout: %d, %v; want %d", k, n, err, v)
		}
	}
	// Each primary holds exactly the rows of its new range.
	ranges := map[int]string{0: "-40", 2: "40-80", 1: "80-c0", 3: "c0-"}
	for cl, rs := range ranges {
		r, _ := topo.ParseKeyRange(rs)
		rows, err := e.primary(cl, "shop").Query("SELECT order_id FROM moves")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k int64
			_ = rows.Scan(&k)
			if id, _ := (vindex.Hash{}).Map(vindex.Int, vindex.IntValue(k)); !r.Contains(id) {
				t.Errorf("order %d on s%d, outside its range %s", k, cl, rs)
			}
		}
		rows.Close()
	}
}

// moveRange moves the rows of shop.moves on cluster from whose keys fall
// in rs to cluster to (a copy, then a delete of the source rows), and
// waits until to's replica has them.
func moveRange(t *testing.T, e *replEnv, from, to int, rs string) {
	t.Helper()
	r, _ := topo.ParseKeyRange(rs)
	src, dst := e.primary(from, "shop"), e.primary(to, "shop")
	rows, err := src.Query("SELECT order_id, n FROM moves")
	if err != nil {
		t.Fatal(err)
	}
	var keys []int64
	var vals []int
	for rows.Next() {
		var k int64
		var v int
		_ = rows.Scan(&k, &v)
		if id, _ := (vindex.Hash{}).Map(vindex.Int, vindex.IntValue(k)); r.Contains(id) {
			keys, vals = append(keys, k), append(vals, v)
		}
	}
	rows.Close()
	for i, k := range keys {
		mustExec(t, dst, "INSERT INTO moves (order_id, n) VALUES (?, ?)", k, vals[i])
		mustExec(t, src, "DELETE FROM moves WHERE order_id = ?", k)
	}
	waitReplica(t, e, to)
}

// waitReplica waits until cluster i's replica has applied every write
// its primary has made so far.
func waitReplica(t *testing.T, e *replEnv, i int) {
	t.Helper()
	pos := queryString(t, e.primary(i, ""), "SELECT @@gtid_binlog_pos")
	if got := queryString(t, openDB(t, e.lc.DSN(e.lc.Replicas(i)[0], "")), "SELECT MASTER_GTID_WAIT('"+pos+"', 20)"); got != "0" {
		t.Fatalf("s%d's replica did not catch up: %s", i, got)
	}
}

func diffRows(t *testing.T, want, got map[int64]int) {
	t.Helper()
	bad := 0
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			if bad++; bad <= 5 {
				t.Errorf("order %d: got %d (present %v), want %d", k, g, ok, v)
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			if bad++; bad <= 5 {
				t.Errorf("order %d read back but deleted or never acknowledged", k)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d differences between acknowledged writes (%d rows) and what Courier reads (%d rows)", bad, len(want), len(got))
	}
}

func layoutVersion(t *testing.T, base string) uint64 {
	t.Helper()
	resp, err := http.Get(base + "/layout")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st proxy.LayoutStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Version
}

func adminCallBody(url, body string, out any) error {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, e.Error)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
