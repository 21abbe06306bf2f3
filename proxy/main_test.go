package proxy_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/testbed"
)

// cluster is the package's MariaDB topology (one primary), started once
// by TestMain when integration tests run.
var cluster *localcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testbed.Main(m, 1, 0, func(c *localcluster.Cluster) { cluster = c }))
}

// env is one test's Courier in front of the package's cluster.
type env struct {
	t       testing.TB
	courier *testbed.Courier
	schema  string
}

// newEnv starts a Courier for the test and creates a schema of its own.
func newEnv(t testing.TB) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with a change to the default configuration.
func newEnvWith(t testing.TB, change func(*config.Config)) *env {
	t.Helper()
	if cluster == nil {
		testbed.Require(t)
		t.Skip("no cluster")
	}
	cfg := testbed.Config(cluster)
	if change != nil {
		change(cfg)
	}
	e := &env{t: t, courier: testbed.StartT(t, cfg), schema: "t_" + sanitize(t.Name())}
	d := e.open(fmt.Sprintf("%s:%s@tcp(%s)/", cluster.Spec.User, cluster.Spec.Password, cluster.Primary(0).Addr))
	mustExec(t, d, "DROP DATABASE IF EXISTS "+e.schema)
	mustExec(t, d, "CREATE DATABASE "+e.schema)
	return e
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) > 50 {
		b = b[:50]
	}
	return string(b)
}

// direct opens a pool straight to MariaDB.
func (e *env) direct(params string) *sql.DB {
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s", cluster.Spec.User, cluster.Spec.Password, cluster.Primary(0).Addr, e.schema)
	if params != "" {
		dsn += "?" + params
	}
	return e.open(dsn)
}

// proxied opens a pool through Courier as app/app.
func (e *env) proxied(params string) *sql.DB {
	return e.open(e.courier.DSN("app", "app", e.schema, params))
}

func (e *env) open(dsn string) *sql.DB {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t testing.TB, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, q string, args ...any) sql.Result {
	t.Helper()
	r, err := db.ExecContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

// eachConn runs work concurrently on n connections of db (one each) and
// waits for all; work reports failures with t.Error and returns.
func eachConn(t *testing.T, db *sql.DB, n int, work func(w int, c *sql.Conn)) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := db.Conn(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			work(w, c)
		}()
	}
	wg.Wait()
}
