package proxy_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-proxy/courier/config"
)

// TestReload: with 200 clients connected and running statements, a
// reload that changes limits, a replica's weight, a class's limit and a
// password fails no statement and drops no connection; the new password
// logs in and the old one no longer does; the class's new limit holds at
// once. A file that does not load, or that changes what needs a restart,
// is refused with every problem named, and nothing changes.
func TestReload(t *testing.T) {
	users := `
  - {name: web, password: old}
  - {name: batch, password: batch, class: batch}
classes:
  - {name: batch, max_concurrency: 2, queue: 0}
`
	e := newGovernedEnv(t, users, "log: {slow_query: 0s}", func(c *config.Config) {
		for i := range c.Clusters { // room for 200 clients
			c.Clusters[i].Pool.MaxOpen, c.Clusters[i].Pool.MaxIdle = 256, 256
		}
	})
	base := strings.ReplaceAll(e.yaml, "max_open: 16, max_idle: 16", "max_open: 256, max_idle: 256") // as running
	file := filepath.Join(t.TempDir(), "courier.yaml")
	write := func(yaml string) {
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(base)
	srv := e.courier.Server
	srv.SetReloader(func() (*config.Config, error) { return config.Load(file) })
	admin := httptest.NewServer(srv.AdminHandler())
	defer admin.Close()
	reload := func() (int, string) {
		resp, err := http.Post(admin.URL+"/config/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if msg, ok := body["error"].(string); ok {
			return resp.StatusCode, msg
		}
		return resp.StatusCode, ""
	}

	// 200 clients, each on a connection of its own, writing and reading.
	db := e.open(e.courier.DSN("web", "old", "shop", ""))
	db.SetMaxOpenConns(200)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var statements, failures atomic.Int64
	var firstErr atomic.Value
	conns := make([]*sql.Conn, 200)
	for i := range conns {
		c, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				k := 1 + (i+n)%40
				var err error
				if n%4 == 0 {
					_, err = c.ExecContext(context.Background(), "UPDATE orders SET amount = amount WHERE order_id = ?", k)
				} else {
					var a int
					err = c.QueryRowContext(context.Background(), "SELECT amount FROM orders WHERE order_id = ?", k).Scan(&a)
				}
				statements.Add(1)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Second)

	// Refused: a file that does not load; one that changes what needs a
	// restart (with a change that would be live, which must not apply).
	write("users: [}")
	if code, msg := reload(); code != http.StatusBadRequest || msg == "" {
		t.Fatalf("a broken file: %d %q", code, msg)
	}
	restart := strings.Replace(strings.Replace(base, "default_cluster: s0", "default_cluster: s1", 1),
		"{name: web, password: old}", "{name: web, password: new}", 1)
	restart = strings.Replace(restart, "listen: 127.0.0.1:0", "listen: 127.0.0.1:1", 1)
	write(restart)
	code, msg := reload()
	if code != http.StatusBadRequest || !strings.Contains(msg, "listen") || !strings.Contains(msg, "default_cluster") {
		t.Fatalf("a file changing listen and default_cluster: %d %q", code, msg)
	}
	if err := e.login("web", "old"); err != nil {
		t.Fatalf("the old password after a refused reload: %v", err)
	}

	// Accepted: limits, a weight, a class's limit, a password.
	next := strings.NewReplacer(
		"{name: web, password: old}", "{name: web, password: new}",
		"max_concurrency: 2", "max_concurrency: 1",
		"replicas: [{address: \""+e.lc.Replicas(0)[0].Addr+"\"}]", "replicas: [{address: \""+e.lc.Replicas(0)[0].Addr+"\", weight: 5}]",
		"admin: \"\"", "admin: \"\"\nlimits: {query_timeout: 30s, max_connections: 1000}",
	).Replace(base)
	write(next)
	if code, msg := reload(); code != http.StatusOK {
		t.Fatalf("reload: %d %q", code, msg)
	}
	time.Sleep(time.Second)
	stop()
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d statements failed across the reloads, first: %v", n, statements.Load(), firstErr.Load())
	}
	t.Logf("%d statements on 200 connections, none failed", statements.Load())

	wantMySQLError(t, e.login("web", "old"), 1045, "28000")
	if err := e.login("web", "new"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	for _, b := range srv.Status().Backends {
		if b.Name == "s0-replica1" && b.Weight != 5 {
			t.Fatalf("s0's replica weight %d after the reload", b.Weight)
		}
	}
	batch := e.as("batch", "")
	go func() { _, _ = batch.Exec("SELECT SLEEP(1)") }()
	time.Sleep(200 * time.Millisecond)
	_, err := batch.Exec("SELECT 1")
	wantMySQLError(t, err, 1226, "42000")
}

// login connects through Courier as user with password and runs a
// statement.
func (e *governedEnv) login(user, password string) error {
	db, err := sql.Open("mysql", e.courier.DSN(user, password, "shop", ""))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}
