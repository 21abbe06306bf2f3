package deploy

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"go.yaml.in/yaml/v3"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/testbed"
)

// TestDashboardAndAlerts runs Debian's Prometheus scraping Courier (two
// shards, each a primary with a replica) during a short sharded load:
// every dashboard expression returns data, so does every alert's
// measured side, and no alert fires; then a stopped replica fires
// CourierReplicaOutOfRotation and a stopped primary CourierPrimaryDown.
func TestDashboardAndAlerts(t *testing.T) {
	if _, err := exec.LookPath("prometheus"); err != nil {
		t.Fatalf("prometheus is not installed (apt-get install prometheus): %v", err)
	}
	dir := t.TempDir()
	lc := testbed.ClusterT(t, filepath.Join(dir, "db"), 2, 1)
	var b strings.Builder
	b.WriteString("listen: 127.0.0.1:0\nadmin: \"\"\nusers: [{name: app, password: app, class: web, rate: {limit: 1000000}}]\nclasses: [{name: web}]\nclusters:\n")
	for i := range 2 {
		fmt.Fprintf(&b, "  - name: s%d\n    user: %s\n    password: %s\n    primary: {address: %q}\n    replicas: [{address: %q}]\n    replication: {check_interval: 200ms, warmup: 0s}\n    breaker: {failures: 5}\n",
			i, lc.Spec.User, lc.Spec.Password, lc.Primary(i).Addr, lc.Replicas(i)[0].Addr)
	}
	b.WriteString("default_cluster: s0\nsharding:\n  shards: [{range: \"-80\", cluster: s0}, {range: \"80-\", cluster: s1}]\n  tables: [{name: orders, key: order_id, indexes: [{column: user_id}]}]\n")
	cfg, err := config.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		db, err := sql.Open("mysql", lc.DSN(lc.Primary(i), ""))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"CREATE DATABASE shop", "CREATE TABLE shop.orders (order_id BIGINT PRIMARY KEY, user_id BIGINT, amount INT)",
			"CREATE TABLE shop.orders_by_user_id (user_id BIGINT NOT NULL, order_id BIGINT NOT NULL, PRIMARY KEY (user_id, order_id))"} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
	}
	c := testbed.StartT(t, cfg)
	admin := httptest.NewServer(c.Server.AdminHandler())
	defer admin.Close()

	// Prometheus, scraping every second, with the alert rules.
	rules, _ := filepath.Abs("courier-alerts.yml")
	port, err := testbed.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	prom := fmt.Sprintf("127.0.0.1:%d", port)
	promCfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, []byte(fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: courier
    static_configs: [{targets: [%q]}]
`, rules, strings.TrimPrefix(admin.URL, "http://"))), 0o600); err != nil {
		t.Fatal(err)
	}
	p := exec.Command("prometheus", "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+prom)
	p.Stdout, p.Stderr = io.Discard, io.Discard
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Process.Kill(); _ = p.Wait() }()
	waitFor(t, 30*time.Second, "Prometheus ready", func() bool {
		resp, err := http.Get("http://" + prom + "/-/ready")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})

	// A short sharded load: writes, reads by key, by the global index and
	// across the shards, and an error.
	db, err := sql.Open("mysql", c.DSN("app", "app", "shop", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for end, k := time.Now().Add(6*time.Second), 1; time.Now().Before(end); k++ {
		mustExec(t, db, "INSERT INTO orders (order_id, user_id, amount) VALUES (?, ?, ?)", k, k%10, k)
		mustExec(t, db, "UPDATE orders SET amount = amount + 1 WHERE order_id = ?", k)
		var n int
		_ = db.QueryRow("SELECT amount FROM orders WHERE order_id = ?", k).Scan(&n)
		_ = db.QueryRow("SELECT COUNT(*) FROM orders WHERE user_id = ?", k%10).Scan(&n)
		if k%20 == 0 {
			_ = db.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n)
			_, _ = db.Exec("SELECT nope FROM orders WHERE order_id = ?", k)
		}
	}
	time.Sleep(3 * time.Second) // the last scrapes and rule evaluations

	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	raw, err := os.ReadFile("courier-dashboard.json")
	if err != nil || json.Unmarshal(raw, &dash) != nil || len(dash.Panels) == 0 {
		t.Fatalf("the dashboard: %v", err)
	}
	for _, panel := range dash.Panels {
		for _, target := range panel.Targets {
			if n := query(t, prom, target.Expr); n == 0 {
				t.Errorf("dashboard panel %q: %s returns no data", panel.Title, target.Expr)
			}
		}
	}
	var ruleFile struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	raw, _ = os.ReadFile("courier-alerts.yml")
	if err := yaml.Unmarshal(raw, &ruleFile); err != nil {
		t.Fatal(err)
	}
	comparison := regexp.MustCompile(`\s*(==|!=|>=|<=|>|<)\s*[0-9.* ]+$`)
	for _, g := range ruleFile.Groups {
		for _, r := range g.Rules {
			measured := comparison.ReplaceAllString(r.Expr, "")
			if n := query(t, prom, measured); n == 0 {
				t.Errorf("alert %s: %s (its measured side) returns no data", r.Alert, measured)
			}
		}
	}
	if firing := alerts(t, prom); len(firing) > 0 {
		t.Fatalf("alerts firing on a healthy cluster: %v", firing)
	}

	// A stopped replica, then a stopped primary.
	for _, tc := range []struct {
		inst  localcluster.Instance
		alert string
	}{{lc.Replicas(1)[0], "CourierReplicaOutOfRotation"}, {lc.Primary(1), "CourierPrimaryDown"}} {
		inst := tc.inst
		t.Cleanup(func() { _ = localcluster.Kill(filepath.Join(dir, "db"), inst.Name, syscall.SIGCONT) })
		if err := localcluster.Kill(filepath.Join(dir, "db"), inst.Name, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, tc.alert+" firing", func() bool {
			for _, a := range alerts(t, prom) {
				if a == tc.alert {
					return true
				}
			}
			return false
		})
	}
}

// query evaluates expr now and returns how many series it gives.
func query(t *testing.T, prom, expr string) int {
	t.Helper()
	resp, err := http.Get("http://" + prom + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string
		Error  string
		Data   struct{ Result []json.RawMessage }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Status != "success" {
		t.Fatalf("%s: %v %s", expr, err, out.Error)
	}
	return len(out.Data.Result)
}

// alerts lists the alerts firing now.
func alerts(t *testing.T, prom string) []string {
	t.Helper()
	resp, err := http.Get("http://" + prom + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Alerts []struct {
				State  string
				Labels map[string]string
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	var firing []string
	for _, a := range out.Data.Alerts {
		if a.State == "firing" {
			firing = append(firing, a.Labels["alertname"])
		}
	}
	return firing
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !ok(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
