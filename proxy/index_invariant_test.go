package proxy_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/globalindex"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/testbed"
)

// TestGlobalIndexInvariant runs writers (insert, change of user_id,
// delete) and readers through Courier over four shards while backend
// connections are killed at random and one shard's primary is killed
// with SIGKILL and restarted. At every check, each order whose write was
// acknowledged is found by WHERE user_id = its user, and no deleted order
// is. Afterwards courierctl's repair leaves verify with nothing missing
// and no orphans.
func TestGlobalIndexInvariant(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	lc := testbed.ClusterT(t, dir, 4, 0)
	yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
admin: ""
users: [{name: app, password: app, access: admin}]
clusters:
  - {name: s0, user: %[1]s, password: %[2]s, primary: {address: "%[3]s"}, pool: {connect_timeout: 1s}}
  - {name: s1, user: %[1]s, password: %[2]s, primary: {address: "%[4]s"}, pool: {connect_timeout: 1s}}
  - {name: s2, user: %[1]s, password: %[2]s, primary: {address: "%[5]s"}, pool: {connect_timeout: 1s}}
  - {name: s3, user: %[1]s, password: %[2]s, primary: {address: "%[6]s"}, pool: {connect_timeout: 1s}}
default_cluster: s0
sharding:
  shards: [{range: "-40", cluster: s0}, {range: "40-80", cluster: s1}, {range: "80-c0", cluster: s2}, {range: "c0-", cluster: s3}]
  tables:
    - {name: orders, key: order_id, indexes: [{column: user_id}]}
`, lc.Spec.User, lc.Spec.Password, lc.Primary(0).Addr, lc.Primary(1).Addr, lc.Primary(2).Addr, lc.Primary(3).Addr)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, courier: testbed.StartT(t, cfg), schema: "shop"}
	for i := range 4 {
		mustExec(t, e.open(lc.DSN(lc.Primary(i), "")), "CREATE DATABASE shop")
	}
	db := e.proxied("")
	db.SetMaxOpenConns(16)
	mustExec(t, db, "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, note VARCHAR(20))")
	mustExec(t, db, "CREATE TABLE orders_by_user_id (user_id BIGINT NOT NULL, order_id BIGINT NOT NULL, PRIMARY KEY (user_id, order_id))")

	const users = 40
	m := &orderModel{user: map[int64]int64{}, unsure: map[int64]bool{}}
	var nextID atomic.Int64
	var pause sync.RWMutex // writers hold it shared; a check takes it alone
	var failures atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []int64
			for {
				select {
				case <-done:
					return
				default:
				}
				pause.RLock()
				var err error
				op := r.IntN(10)
				switch {
				case op < 5 || len(mine) == 0:
					id, u := nextID.Add(1), int64(1+r.IntN(users))
					_, err = db.Exec("INSERT INTO orders (order_id, user_id, note) VALUES (?, ?, 'w')", id, u)
					m.wrote(id, u, err)
					mine = append(mine, id)
				case op < 8:
					id, u := mine[r.IntN(len(mine))], int64(1+r.IntN(users))
					var res sql.Result
					res, err = db.Exec("UPDATE orders SET user_id = ? WHERE order_id = ?", u, id)
					if err == nil {
						if n, _ := res.RowsAffected(); n == 0 && m.isUnsure(id) {
							break // no row changed: whether the row exists is still unknown
						}
					}
					m.wrote(id, u, err)
				default:
					i := r.IntN(len(mine))
					id := mine[i]
					_, err = db.Exec("DELETE FROM orders WHERE order_id = ?", id)
					m.wrote(id, 0, err)
					mine = append(mine[:i], mine[i+1:]...)
				}
				if err != nil {
					failures.Add(1)
				}
				pause.RUnlock()
			}
		}()
	}
	// Chaos: kill Courier's backend connections at random; once, SIGKILL
	// a shard's primary and restart it.
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(9, 9))
		admins := make([]*sql.DB, 4)
		for i := range admins {
			admins[i] = e.open(lc.DSN(lc.Primary(i), ""))
		}
		start := time.Now()
		restarted := false
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Duration(150+r.IntN(250)) * time.Millisecond):
			}
			if !restarted && time.Since(start) > 3*time.Second {
				restarted = true
				name := lc.Primary(2).Name
				if err := localcluster.Kill(dir, name, syscall.SIGKILL); err != nil {
					t.Errorf("kill -9 %s: %v", name, err)
				}
				time.Sleep(500 * time.Millisecond)
				rctx, rcancel := context.WithTimeout(ctx, time.Minute)
				if err := localcluster.Restart(rctx, dir, name); err != nil {
					t.Errorf("restart %s: %v", name, err)
				} else {
					t.Logf("%s killed with SIGKILL and restarted", name)
				}
				rcancel()
				continue
			}
			a := admins[r.IntN(4)]
			var id int64
			if a.QueryRow("SELECT id FROM information_schema.PROCESSLIST WHERE user = ? AND db = 'shop' ORDER BY RAND() LIMIT 1", lc.Spec.User).Scan(&id) == nil {
				_, _ = a.Exec(fmt.Sprintf("KILL %d", id))
			}
		}
	}()

	check := func() {
		pause.Lock()
		defer pause.Unlock()
		want := m.byUser()
		for u := int64(1); u <= users; u++ {
			var got []int64
			for attempt := 0; ; attempt++ { // a killed connection: ask again
				got = got[:0]
				rows, err := db.Query("SELECT order_id FROM orders WHERE user_id = ?", u)
				if err == nil {
					for rows.Next() {
						var id int64
						_ = rows.Scan(&id)
						got = append(got, id)
					}
					err = rows.Err()
					rows.Close()
				}
				if err == nil {
					break
				}
				if attempt == 20 {
					t.Fatalf("user %d: %v", u, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if problem := m.compare(u, want[u], got); problem != "" {
				for i := range 4 {
					s := e.open(lc.DSN(lc.Primary(i), "shop"))
					_, r := rows(t, s, "SELECT order_id, user_id FROM orders WHERE user_id = "+fmt.Sprint(u))
					_, x := rows(t, s, "SELECT user_id, order_id FROM orders_by_user_id WHERE user_id = "+fmt.Sprint(u))
					t.Logf("shard %d: rows %v entries %v", i, r, x)
				}
				t.Fatalf("user %d: %s", u, problem)
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	checks := 0
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		check()
		checks++
	}
	close(done)
	wg.Wait()
	check()
	t.Logf("%d orders written, %d writes failed under the kills, %d checks passed", nextID.Load(), failures.Load(), checks+1)

	ix, err := globalindex.Open(cfg, "shop", "orders", "user_id")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Repair(ctx, globalindex.Options{Grace: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	rep, err := ix.Verify(ctx, globalindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() {
		t.Fatalf("after repair: %d missing, %d orphans", rep.Missing, rep.Orphans)
	}
}

// orderModel is what the writers were told: each order's user (0:
// deleted), and the orders whose last write failed, whose state is
// therefore unknown.
type orderModel struct {
	mu     sync.Mutex
	user   map[int64]int64
	unsure map[int64]bool
}

func (m *orderModel) wrote(id, user int64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.unsure[id] = true
		return
	}
	delete(m.unsure, id)
	m.user[id] = user
}

func (m *orderModel) isUnsure(id int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unsure[id]
}

func (m *orderModel) byUser() map[int64][]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[int64][]int64{}
	for id, u := range m.user {
		if u != 0 && !m.unsure[id] {
			out[u] = append(out[u], id)
		}
	}
	return out
}

// compare checks a read by user u: every acknowledged order of u is
// there, and nothing acknowledged as deleted or moved away is.
func (m *orderModel) compare(u int64, want, got []int64) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[int64]bool{}
	for _, id := range got {
		seen[id] = true
		if m.unsure[id] {
			continue
		}
		if now, known := m.user[id]; known && now != u {
			return fmt.Sprintf("order %d returned, but it belongs to user %d (0: deleted)", id, now)
		}
	}
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	for _, id := range want {
		if !seen[id] {
			return fmt.Sprintf("acknowledged order %d not found (got %v)", id, got)
		}
	}
	return ""
}
