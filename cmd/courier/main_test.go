package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/testbed"
)

// TestDrainOnSIGTERM runs the courier binary, built as users build it,
// in front of a primary and its replica; SIGHUP reloads its file (a new
// password logs in); then, under a load of reads and writes, SIGTERM: /healthz answers 503 draining, every
// statement that was running when the signal came succeeds, an open
// transaction commits after it, and the process exits 0 once its
// sessions are gone.
func TestDrainOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	lc := testbed.ClusterT(t, filepath.Join(dir, "db"), 1, 1)
	bin := filepath.Join(dir, "courier")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port, err := testbed.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	listen, admin := fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", port+1)
	cfgPath := filepath.Join(dir, "courier.yaml")
	yaml := fmt.Sprintf(`
listen: %q
admin: %q
users: [{name: app, password: app}, {name: ops, password: one}]
limits: {drain_timeout: 20s}
log: {level: warn}
clusters:
  - name: main
    user: %s
    password: %s
    primary: {address: %q}
    replicas: [{address: %q}]
    replication: {check_interval: 200ms, warmup: 0s}
`, listen, admin, lc.Spec.User, lc.Spec.Password, lc.Primary(0).Addr, lc.Replicas(0)[0].Addr)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	direct, err := sql.Open("mysql", lc.DSN(lc.Primary(0), ""))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	for _, q := range []string{"CREATE DATABASE shop", "CREATE TABLE shop.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)"} {
		if _, err := direct.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	health := func() (int, string) {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, _ := health(); code == http.StatusOK {
			break
		}
		if time.Now().After(end) {
			t.Fatal("courier did not become healthy")
		}
	}

	// SIGHUP reloads the file: a new password logs in.
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(yaml, "password: one", "password: two", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ops, _ := sql.Open("mysql", fmt.Sprintf("ops:two@tcp(%s)/", listen))
		err := ops.Ping()
		ops.Close()
		if err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the password reloaded on SIGHUP: %v", err)
		}
	}

	db, err := sql.Open("mysql", fmt.Sprintf("app:app@tcp(%s)/shop", listen))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO t (v) VALUES (-1)"); err != nil {
		t.Fatal(err)
	}

	type result struct {
		start time.Time
		err   error
	}
	var mu sync.Mutex
	var results []result
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				start := time.Now()
				var err error
				switch w % 3 {
				case 0:
					_, err = db.Exec("SELECT SLEEP(0.3)")
				case 1:
					_, err = db.Exec("INSERT INTO t (v) VALUES (?)", i)
				default:
					var n int
					err = db.QueryRow("SELECT COUNT(*) FROM t WHERE v >= ?", 0).Scan(&n)
				}
				mu.Lock()
				results = append(results, result{start, err})
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(time.Second); ; time.Sleep(10 * time.Millisecond) {
		code, body := health()
		if code == http.StatusServiceUnavailable && body == "draining" {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("/healthz while draining: %d %q", code, body)
		}
	}
	time.Sleep(time.Second)
	if _, err := tx.Exec("INSERT INTO t (v) VALUES (-2)"); err != nil {
		t.Fatalf("the open transaction, 1 s into the drain: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("its COMMIT: %v", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("courier exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("courier did not exit after its sessions ended")
	}
	took := time.Since(signalled)
	stop()
	wg.Wait()

	before, failed := 0, 0
	for _, r := range results {
		if r.start.Before(signalled) {
			before++
			if r.err != nil {
				failed++
				t.Errorf("a statement that started %s before SIGTERM failed: %v", signalled.Sub(r.start).Round(time.Millisecond), r.err)
			}
		}
	}
	var n int
	if err := direct.QueryRow("SELECT COUNT(*) FROM shop.t WHERE v < 0").Scan(&n); err != nil || n != 2 {
		t.Fatalf("the transaction's rows: %d, %v", n, err)
	}
	t.Logf("%d statements started before SIGTERM, %d failed; courier exited %s after it", before, failed, took.Round(time.Millisecond))
}
