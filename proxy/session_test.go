package proxy_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
)

// smallPool makes every client share two backend connections, so that
// session state must follow sessions from connection to connection.
func smallPool(c *config.Config) { c.Clusters[0].Pool.MaxOpen, c.Clusters[0].Pool.MaxIdle = 2, 2 }

func queryString(t testing.TB, c interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, q string) string {
	t.Helper()
	var s sql.NullString
	if err := c.QueryRowContext(context.Background(), q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if !s.Valid {
		return "<NULL>"
	}
	return s.String
}

// churn keeps other sessions busy on the shared backend connections.
func churn(t *testing.T, db *sql.DB, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var x int
				if err := db.QueryRow("SELECT 1").Scan(&x); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	return &wg
}

// TestSessionStateFollowsTheSession: SET and USE made by one client stay
// in force for all its statements although its statements run on
// whichever backend connection is free, and never leak to other clients.
func TestSessionStateFollowsTheSession(t *testing.T) {
	e := newEnvWith(t, smallPool)
	mustExec(t, e.direct(""), "CREATE DATABASE IF NOT EXISTS "+e.schema+"_other")
	db := e.proxied("")
	db.SetMaxOpenConns(10)
	other := e.proxied("")
	stop := make(chan struct{})
	wg := churn(t, other, stop)
	defer func() { close(stop); wg.Wait() }()

	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, q := range []string{
		"SET sql_mode = 'ANSI_QUOTES,NO_ENGINE_SUBSTITUTION'",
		"SET SESSION time_zone = '+05:30', @@session.max_sort_length = 2048",
		"SET NAMES latin1 COLLATE latin1_bin",
		"SET autocommit = 1",
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
		"USE " + e.schema + "_other",
	} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	want := map[string]string{
		"SELECT @@sql_mode":             "ANSI_QUOTES,NO_ENGINE_SUBSTITUTION",
		"SELECT @@time_zone":            "+05:30",
		"SELECT @@max_sort_length":      "2048",
		"SELECT @@character_set_client": "latin1",
		"SELECT @@collation_connection": "latin1_bin",
		"SELECT DATABASE()":             e.schema + "_other",
		"SELECT @@tx_isolation":         "READ-COMMITTED",
	}
	for i := range 50 {
		for q, w := range want {
			if got := queryString(t, c, q); got != w {
				t.Fatalf("iteration %d: %s = %q, want %q", i, q, got, w)
			}
		}
	}
	// Other sessions still see the defaults.
	for range 20 {
		if got := queryString(t, other, "SELECT @@time_zone"); got == "+05:30" {
			t.Fatal("time_zone leaked to another session")
		}
		if got := queryString(t, other, "SELECT @@character_set_client"); got == "latin1" {
			t.Fatal("charset leaked to another session")
		}
	}
	// Setting a variable back to its default.
	if _, err := c.ExecContext(ctx, "SET time_zone = DEFAULT"); err != nil {
		t.Fatal(err)
	}
	if got, def := queryString(t, c, "SELECT @@time_zone"), queryString(t, other, "SELECT @@global.time_zone"); got != def {
		t.Fatalf("time_zone after DEFAULT = %q, want %q", got, def)
	}
}

// TestUserVariablesPinTheSession: user variables live on one backend
// connection, so a session that uses them keeps it.
func TestUserVariablesPinTheSession(t *testing.T) {
	e := newEnvWith(t, smallPool)
	db := e.proxied("")
	stop := make(chan struct{})
	wg := churn(t, e.proxied(""), stop)
	defer func() { close(stop); wg.Wait() }()
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "SET @greeting = CONCAT('hello', ' ', 'world')"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "CREATE TEMPORARY TABLE tmp (a INT)"); err != nil {
		t.Fatal(err)
	}
	for range 30 {
		if got := queryString(t, c, "SELECT @greeting"); got != "hello world" {
			t.Fatalf("@greeting = %q", got)
		}
		if got := queryString(t, c, "SELECT COUNT(*) FROM tmp"); got != "0" {
			t.Fatalf("temporary table: %q", got)
		}
	}
}

// TestTransactions: commit and rollback, with the transaction's
// statements on one backend connection.
func TestTransactions(t *testing.T) {
	e := newEnvWith(t, smallPool)
	mustExec(t, e.direct(""), "CREATE TABLE acct (id INT PRIMARY KEY, v INT) ENGINE=InnoDB")
	db := e.proxied("")
	stop := make(chan struct{})
	wg := churn(t, e.proxied(""), stop)
	defer func() { close(stop); wg.Wait() }()

	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	conn1 := queryString(t, tx, "SELECT CONNECTION_ID()")
	mustExec(t, tx, "INSERT INTO acct VALUES (1, 10)")
	for range 20 {
		if got := queryString(t, tx, "SELECT CONNECTION_ID()"); got != conn1 {
			t.Fatalf("transaction moved from backend connection %s to %s", conn1, got)
		}
	}
	if got := queryString(t, tx, "SELECT COUNT(*) FROM acct"); got != "1" {
		t.Fatalf("own insert not visible in transaction: %s", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, db, "SELECT COUNT(*) FROM acct"); got != "0" {
		t.Fatalf("after rollback count = %s", got)
	}

	tx, _ = db.Begin()
	mustExec(t, tx, "INSERT INTO acct VALUES (2, 20)")
	mustExec(t, tx, "SAVEPOINT s1")
	mustExec(t, tx, "INSERT INTO acct VALUES (3, 30)")
	mustExec(t, tx, "ROLLBACK TO SAVEPOINT s1")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, e.direct(""), "SELECT GROUP_CONCAT(id ORDER BY id) FROM acct"); got != "2" {
		t.Fatalf("after commit rows = %s", got)
	}

	// autocommit=0 makes every statement part of a transaction.
	ctx := context.Background()
	c, _ := db.Conn(ctx)
	defer c.Close()
	mustExec(t, c, "SET autocommit = 0")
	mustExec(t, c, "INSERT INTO acct VALUES (4, 40)")
	if got := queryString(t, e.direct(""), "SELECT COUNT(*) FROM acct WHERE id = 4"); got != "0" {
		t.Fatal("uncommitted row visible to others")
	}
	mustExec(t, c, "COMMIT")
	if got := queryString(t, e.direct(""), "SELECT COUNT(*) FROM acct WHERE id = 4"); got != "1" {
		t.Fatal("committed row not visible")
	}
	mustExec(t, c, "INSERT INTO acct VALUES (5, 50)")
	mustExec(t, c, "ROLLBACK")
	if got := queryString(t, e.direct(""), "SELECT COUNT(*) FROM acct WHERE id = 5"); got != "0" {
		t.Fatal("rolled back row visible")
	}
}

// TestDisconnectInTransactionRollsBack: a client that goes away inside a
// transaction leaves nothing behind and the connection is reusable.
func TestDisconnectInTransactionRollsBack(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) { c.Clusters[0].Pool.MaxOpen, c.Clusters[0].Pool.MaxIdle = 1, 1 })
	mustExec(t, e.direct(""), "CREATE TABLE acct (id INT PRIMARY KEY) ENGINE=InnoDB")
	db := e.proxied("")
	c, _ := db.Conn(context.Background())
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO acct VALUES (1)")
	_ = c.Raw(func(dc any) error { return errors.New("drop") }) // discard the connection
	c.Close()
	db.Close()
	db2 := e.proxied("")
	if got := queryString(t, db2, "SELECT COUNT(*) FROM acct"); got != "0" {
		t.Fatalf("rows after disconnect = %s", got)
	}
	if got := queryString(t, db2, "SELECT @@in_transaction"); got != "0" {
		t.Fatalf("backend still in transaction: %s", got)
	}
}

// TestMultiStatements: several statements in one COM_QUERY give several
// result sets; without the client flag they are a syntax error.
func TestMultiStatements(t *testing.T) {
	e := newEnv(t)
	db := e.proxied("multiStatements=true")
	mustExec(t, e.direct(""), "CREATE TABLE m (id INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO m VALUES (1); INSERT INTO m VALUES (2); UPDATE m SET id = id + 10")
	r, err := db.Query("SELECT 1 AS a; SELECT id FROM m ORDER BY id; SELECT 'x', 'y'")
	if err != nil {
		t.Fatal(err)
	}
	var sets [][]string
	for {
		var set []string
		cols, _ := r.Columns()
		for r.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				set = append(set, string(v))
			}
		}
		sets = append(sets, set)
		if !r.NextResultSet() {
			break
		}
	}
	r.Close()
	want := fmt.Sprint([][]string{{"1"}, {"11", "12"}, {"x", "y"}})
	if fmt.Sprint(sets) != want {
		t.Fatalf("result sets %v, want %v", sets, want)
	}
	// An error in the middle stops the batch with that error.
	_, err = db.Exec("INSERT INTO m VALUES (3); INSERT INTO m VALUES (3); INSERT INTO m VALUES (4)")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1062 {
		t.Fatalf("batch with duplicate: %v", err)
	}
	single := e.proxied("")
	_, err = single.Exec("SELECT 1; SELECT 2")
	if !errors.As(err, &me) || me.Number != 1064 {
		t.Fatalf("multi-statement without the flag: %v, want 1064", err)
	}
	if got := queryString(t, single, "SELECT 7"); got != "7" {
		t.Fatal("connection unusable after error")
	}
}

// TestLastInsertIDFollowsSession: LAST_INSERT_ID() answers for the
// session's own last insert, whichever backend connection runs it.
func TestLastInsertIDFollowsSession(t *testing.T) {
	e := newEnvWith(t, smallPool)
	mustExec(t, e.direct(""), "CREATE TABLE ai (id INT PRIMARY KEY AUTO_INCREMENT, v INT)")
	db := e.proxied("")
	db.SetMaxOpenConns(4)
	eachConn(t, db, 4, func(w int, c *sql.Conn) {
		ctx := context.Background()
		for i := range 25 {
			r, err := c.ExecContext(ctx, "INSERT INTO ai (v) VALUES (?)", w*1000+i)
			if err != nil {
				t.Error(err)
				return
			}
			id, _ := r.LastInsertId()
			_ = queryString(t, c, "SELECT 1") // may move to another backend connection
			if got := queryString(t, c, "SELECT LAST_INSERT_ID()"); got != fmt.Sprint(id) {
				t.Errorf("LAST_INSERT_ID() = %s, want %d", got, id)
				return
			}
		}
	})
}

// TestLostTransactionEndsTheSession: when the backend connection holding
// a transaction dies, the client gets an error and then its connection is
// closed, so a later COMMIT can never look like it committed anything.
func TestLostTransactionEndsTheSession(t *testing.T) {
	e := newEnv(t)
	mustExec(t, e.direct(""), "CREATE TABLE acct (id INT PRIMARY KEY) ENGINE=InnoDB")
	db := e.proxied("")
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO acct VALUES (1)")
	backendID := queryString(t, c, "SELECT CONNECTION_ID()")
	mustExec(t, e.direct(""), "KILL CONNECTION "+backendID)
	if _, err := c.ExecContext(ctx, "INSERT INTO acct VALUES (2)"); err == nil {
		t.Fatal("statement on a killed transaction succeeded")
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err == nil {
		t.Fatal("COMMIT after the transaction's connection died succeeded")
	}
	if got := queryString(t, e.direct(""), "SELECT COUNT(*) FROM acct"); got != "0" {
		t.Fatalf("rows after the lost transaction: %s", got)
	}
	if got := queryString(t, db, "SELECT 1"); got != "1" { // a new connection works
		t.Fatal("new connection after a lost transaction")
	}
}
