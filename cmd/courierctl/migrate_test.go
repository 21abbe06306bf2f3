package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/migrate"
	"github.com/courier-proxy/courier/testbed"
)

// TestMigrateCommands moves orders (one shard) from cluster s1 to s2
// with the commands a user runs against a running Courier: plan, start,
// status, verify, complete, and checks their output and exit codes.
func TestMigrateCommands(t *testing.T) {
	lc := testbed.ClusterT(t, t.TempDir(), 3, 0)
	file := func(cluster string) string {
		yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
admin: ""
users: [{name: app, password: app}]
clusters:
  - {name: s0, user: %[1]s, password: %[2]s, primary: {address: "%[3]s"}}
  - {name: s1, user: %[1]s, password: %[2]s, primary: {address: "%[4]s"}}
  - {name: s2, user: %[1]s, password: %[2]s, primary: {address: "%[5]s"}}
default_cluster: s0
sharding:
  shards: [{range: "-", cluster: %[6]s}]
  tables: [{name: orders, key: order_id}]
`, lc.Spec.User, lc.Spec.Password, lc.Primary(0).Addr, lc.Primary(1).Addr, lc.Primary(2).Addr, cluster)
		path := filepath.Join(t.TempDir(), cluster+".yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	from, to := file("s1"), file("s2")
	var primaries []*sql.DB
	for i := range 3 {
		db, err := sql.Open("mysql", lc.DSN(lc.Primary(i), ""))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		for _, q := range []string{"CREATE DATABASE shop", "CREATE TABLE shop.orders (order_id BIGINT PRIMARY KEY, note VARCHAR(20))"} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		primaries = append(primaries, db)
	}
	cfg, err := config.Load(from)
	if err != nil {
		t.Fatal(err)
	}
	c := testbed.StartT(t, cfg)
	admin := httptest.NewServer(c.Server.AdminHandler())
	defer admin.Close()
	app, err := sql.Open("mysql", c.DSN("app", "app", "shop", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	for k := 1; k <= 250; k++ {
		if _, err := app.Exec("INSERT INTO orders (order_id, note) VALUES (?, 'x')", k); err != nil {
			t.Fatal(err)
		}
	}

	run := func(args ...string) (string, int) {
		t.Helper()
		return runCtl(append([]string{"migrate"}, append(args, "--config", from, "--name", "move")...)...)
	}
	expect := func(out string, code, wantCode int, want ...string) {
		t.Helper()
		expectOutput(t, out, code, wantCode, want...)
	}
	adminAddr := strings.TrimPrefix(admin.URL, "http://")

	out, code := run("plan", "--to", to, "--schema", "shop")
	expect(out, code, 0, "orders", "s1 → s2", "(250 rows)", "ready")
	out, code = run("plan", "--to", to, "--schema", "shop", "--output", "json")
	expect(out, code, 0, `{"tables":[{"table":"orders","sources":["s1"],"targets":["s2"],"rows":250}],"ready":true,"problems":[]}`)
	out, code = run("start", "--to", to, "--schema", "shop", "--admin", adminAddr, "--chunk", "100", "--mode", "fast")
	expect(out, code, 1, "the modes are stop (stop-the-world) and online")
	out, code = run("start", "--to", to, "--schema", "shop", "--admin", adminAddr, "--chunk", "100")
	expect(out, code, 0, "held on 1 Courier instance", "zero differences", "switched 1 instance(s) to layout version 2", "copy orders from s1", "250 rows")
	out, code = run("status", "--output", "json")
	expect(out, code, 0)
	var st migrate.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.State.Phase != migrate.PhaseSwitched || st.Instances[adminAddr].Version != 2 {
		t.Fatalf("status: %v %s", err, out)
	}
	out, code = run("status")
	expect(out, code, 0, "switched", "orders", "[####################] 100%", "layout version 2")
	out, code = run("verify")
	expect(out, code, 0, "250 source rows, 250 target rows, 0 differences")
	out, code = run("verify", "--output", "json")
	var reps []migrate.Report
	// stdout has the JSON; the progress lines follow it (stderr).
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&reps); err != nil || code != 0 || len(reps) != 1 || reps[0].SourceRows != 250 {
		t.Fatalf("verify --output json: %v %d %s", err, code, out)
	}
	if _, err := primaries[2].Exec("DELETE FROM shop.orders WHERE order_id = 7"); err != nil {
		t.Fatal(err)
	}
	out, code = run("verify")
	expect(out, code, exitFindings, "1 differences", `key i7: missing on the target`)
	out, code = run("abort")
	expect(out, code, 1, "only one that has not switched can be aborted")
	out, code = run("complete", "--output", "json")
	expect(out, code, 0, "deleted the old copy of orders on s1") // a step, on stderr
	var done migrate.State
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&done); err != nil || done.Phase != migrate.PhaseCompleted {
		t.Fatalf("complete --output json: %v %s", err, out)
	}
	var left int
	if err := primaries[1].QueryRow("SELECT COUNT(*) FROM shop.orders").Scan(&left); err != nil || left != 0 {
		t.Fatalf("s1 after complete: %d rows, %v", left, err)
	}
	var n int
	if err := app.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 249 {
		t.Fatalf("through Courier after the move: %d rows, %v", n, err)
	}

	// And back, online, switched by a second command.
	out, code = runCtl("migrate", "start", "--config", to, "--to", from, "--schema", "shop", "--admin", adminAddr, "--mode", "online", "--name", "back", "--rate", "1000", "--no-switch")
	expect(out, code, 0, "copied s2 from its snapshot", "ready to switch")
	if _, err := app.Exec("INSERT INTO orders (order_id, note) VALUES (1000, 'late')"); err != nil {
		t.Fatal(err)
	}
	out, code = runCtl("migrate", "switch", "--config", to, "--name", "back")
	expect(out, code, 0, "following the sources' binary logs again", "switched 1 instance(s) to layout version 3", "the writes' pause:", "verified the targets as they were at the switch")
	out, code = runCtl("migrate", "switch", "--config", to, "--name", "back")
	expect(out, code, 1, "is online, switched: switch continues an online migration")
	n = 0
	if err := app.QueryRow("SELECT COUNT(*) FROM orders WHERE order_id = 1000").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the write between start and switch: %d, %v", n, err)
	}
	n = 0
	if err := primaries[1].QueryRow("SELECT COUNT(*) FROM shop.orders").Scan(&n); err != nil || n != 250 {
		t.Fatalf("s1 after the move back: %d rows, %v", n, err)
	}
	if err := app.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 250 {
		t.Fatalf("through Courier after the move back: %d rows, %v", n, err)
	}
}
