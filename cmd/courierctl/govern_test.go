package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/proxy"
	"github.com/courier-proxy/courier/testbed"
)

// TestGovernCommands: courierctl top shows the statement shapes a
// running Courier served (as a table and as JSON); readonly switches
// writes off and on; reload makes it read its file again, and reports
// a file it refuses.
func TestGovernCommands(t *testing.T) {
	lc := testbed.ClusterT(t, t.TempDir(), 1, 1)
	cfg := testbed.Config(lc)
	cfg.Clusters[0].Replicas = []config.Backend{{Name: "main-replica1", Address: lc.Replicas(0)[0].Addr, Weight: 1}}
	cfg.Classes = []config.Class{{Name: "batch", MaxConcurrency: 4, Queue: 10, QueueTimeout: time.Second, PoolMax: 0.25}}
	c := testbed.StartT(t, cfg)
	file := filepath.Join(t.TempDir(), "courier.yaml")
	c.Server.SetReloader(func() (*config.Config, error) { return config.Load(file) })
	admin := httptest.NewServer(c.Server.AdminHandler())
	defer admin.Close()
	addr := strings.TrimPrefix(admin.URL, "http://")

	db, err := sql.Open("mysql", c.DSN("app", "app", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"CREATE DATABASE IF NOT EXISTS gov", "CREATE TABLE IF NOT EXISTS gov.t (id INT PRIMARY KEY)", "DELETE FROM gov.t"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if _, err := db.Exec("INSERT INTO gov.t (id) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}

	out, code := runCtl("top", "--once", "--by", "count", "--admin", addr)
	expectOutput(t, out, code, 0, "COUNT", "SHAPE", "INSERT INTO gov.t (id) VALUES (?)", "app")
	out, code = runCtl("top", "--output", "json", "--admin", addr)
	var ds []proxy.DigestStatus
	if err := json.Unmarshal([]byte(out), &ds); err != nil || code != 0 || len(ds) == 0 {
		t.Fatalf("top --output json: %v %d %s", err, code, out)
	}
	out, code = runCtl("top", "--once", "--by", "speed", "--admin", addr)
	expectOutput(t, out, code, 1, "by one of total, count, errors, p99")

	out, code = runCtl("readonly", "on", "--admin", addr)
	expectOutput(t, out, code, 0, "read-only: the whole instance")
	_, err = db.Exec("INSERT INTO gov.t (id) VALUES (100)")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1290 {
		t.Fatalf("a write while read-only: %v", err)
	}
	out, code = runCtl("readonly", "on", "--cluster", "nope", "--admin", addr)
	expectOutput(t, out, code, 1, `cluster "nope" is not configured`)
	out, code = runCtl("readonly", "off", "--admin", addr)
	expectOutput(t, out, code, 0, "read-write")
	if _, err := db.Exec("INSERT INTO gov.t (id) VALUES (100)"); err != nil {
		t.Fatal(err)
	}

	out, code = runCtl("status", "--output", "json", "--admin", addr)
	var st proxy.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 || len(st.Backends) != 2 {
		t.Fatalf("status --output json: %v %d %s", err, code, out)
	}
	out, code = runCtl("classes", "--admin", addr)
	expectOutput(t, out, code, 0, "CLASS", "batch", "25%")
	replicaQueries := func() int64 {
		for _, b := range c.Server.Status().Backends {
			if b.Name == "main-replica1" {
				return b.Queries
			}
		}
		return -1
	}
	reader, _ := sql.Open("mysql", c.DSN("app", "app", "", "")) // no write of its own: reads go to the replica
	defer reader.Close()
	reads := func() int64 {
		before := replicaQueries()
		for range 5 {
			var port int
			if err := reader.QueryRow("SELECT @@port").Scan(&port); err != nil {
				t.Fatal(err)
			}
		}
		return replicaQueries() - before
	}
	out, code = runCtl("replica", "main-replica1", "--weight", "1", "--admin", addr)
	expectOutput(t, out, code, 0, "main-replica1 weighs 1")
	if n := reads(); n != 5 {
		t.Fatalf("the replica served %d of 5 reads", n)
	}
	out, code = runCtl("replica", "main-replica1", "--weight", "0", "--admin", addr)
	expectOutput(t, out, code, 0, "main-replica1 drained")
	if n := reads(); n != 0 {
		t.Fatalf("the drained replica served %d reads", n)
	}
	out, code = runCtl("replica", "nope", "--weight", "2", "--admin", addr)
	expectOutput(t, out, code, 1, `no replica named "nope"; the replicas are main-replica1`)

	// reload: refused (a changed listen address), then accepted.
	running := testbed.Config(lc)
	write := func(listen, password string) {
		yaml := "listen: " + listen + "\nadmin: \"\"\nusers: [{name: app, password: " + password + "}]\nclusters:\n  - name: main\n    user: " +
			lc.Spec.User + "\n    password: " + lc.Spec.Password + "\n    pool: {max_open: 600, max_idle: 600, connect_timeout: 5s}\n    primary: {address: " +
			running.Clusters[0].Primary.Address + "}\n    replicas: [{name: main-replica1, address: \"" + lc.Replicas(0)[0].Addr + "\", weight: 3}]\n" +
			"classes: [{name: batch, max_concurrency: 4, queue: 10, queue_timeout: 1s, pool_max: 0.25}]\n"
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("127.0.0.1:1", "app2")
	out, code = runCtl("reload", "--admin", addr)
	expectOutput(t, out, code, 1, "not reloaded", "listen")
	write("127.0.0.1:0", "app2")
	out, code = runCtl("reload", "--admin", addr)
	expectOutput(t, out, code, 0, "reloaded")
	db2, _ := sql.Open("mysql", c.DSN("app", "app2", "", ""))
	defer db2.Close()
	if err := db2.Ping(); err != nil {
		t.Fatalf("the reloaded password: %v", err)
	}
}
