package proxy_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
)

func wantMySQLError(t *testing.T, err error, num uint16, state string) {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		t.Fatalf("error %v, want MySQL error %d (%s)", err, num, state)
	}
	if me.Number != num || string(me.SQLState[:]) != state {
		t.Fatalf("error %d (%s) %q, want %d (%s)", me.Number, me.SQLState, me.Message, num, state)
	}
}

// TestBackendErrorsPassThrough: errors keep their code, SQLSTATE and
// message, and the connection stays usable after each.
func TestBackendErrorsPassThrough(t *testing.T) {
	e := newEnv(t)
	mustExec(t, e.direct(""), "CREATE TABLE u (id INT PRIMARY KEY)")
	mustExec(t, e.direct(""), "INSERT INTO u VALUES (1)")
	for _, params := range []string{"", "interpolateParams=true"} {
		db := e.proxied(params)
		db.SetMaxOpenConns(1)
		tests := []struct {
			q     string
			args  []any
			num   uint16
			state string
		}{
			{"SELECT * FROM no_such_table", nil, 1146, "42S02"},
			{"SELEKT 1", nil, 1064, "42000"},
			{"INSERT INTO u VALUES (?)", []any{1}, 1062, "23000"},
			{"SELECT no_such_column FROM u", nil, 1054, "42S22"},
			{"SELECT * FROM u WHERE id = ?", []any{"x'"}, 0, ""},
		}
		for _, tc := range tests {
			_, err := db.Exec(tc.q, tc.args...)
			if tc.num == 0 {
				if err != nil {
					t.Fatalf("%s: %v", tc.q, err)
				}
				continue
			}
			wantMySQLError(t, err, tc.num, tc.state)
			// The message is the server's own.
			_, direct := e.direct(params).Exec(tc.q, tc.args...)
			if err.Error() != direct.Error() {
				t.Fatalf("message through Courier %q, direct %q", err, direct)
			}
			if got := queryString(t, db, "SELECT 42"); got != "42" {
				t.Fatal("connection unusable after error")
			}
		}
	}
}

// TestAuthentication covers wrong passwords, unknown users, schemas the
// user may not use, unknown schemas and both password plugins.
func TestAuthentication(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) {
		c.Users = append(c.Users,
			config.User{Name: "limited", Password: "pw", Schemas: []string{"allowed_db"}},
			// mysql_native_password hash of "app"
			config.User{Name: "hashed", PasswordHash: "*5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3"})
	})
	open := func(user, pw, db, params string) error {
		c := e.open(e.courier.DSN(user, pw, db, params))
		return c.Ping()
	}
	wantMySQLError(t, open("app", "wrong", "", ""), 1045, "28000")
	wantMySQLError(t, open("nobody", "app", "", ""), 1045, "28000")
	wantMySQLError(t, open("app", "app", "no_such_db", ""), 1049, "42000")
	wantMySQLError(t, open("limited", "pw", e.schema, ""), 1044, "42000")
	if err := open("app", "app", e.schema, ""); err != nil {
		t.Fatalf("good login: %v", err)
	}
	if err := open("hashed", "app", e.schema, ""); err != nil {
		t.Fatalf("login with a hashed password: %v", err)
	}
	wantMySQLError(t, open("hashed", "nope", "", ""), 1045, "28000")

	limited := e.open(e.courier.DSN("limited", "pw", "", ""))
	_, err := limited.Exec("USE " + e.schema)
	wantMySQLError(t, err, 1044, "42000")
}

// TestCachingSha2Password: with caching_sha2_password offered, clients
// log in by the fast path (every time, since Courier knows the password)
// and, for users configured by hash only, by full authentication over
// RSA.
func TestCachingSha2Password(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) {
		c.AuthPlugin = "caching_sha2_password"
		c.Users = append(c.Users, config.User{Name: "hashed", PasswordHash: "*5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3"})
	})
	for i := range 3 {
		db := e.open(e.courier.DSN("app", "app", e.schema, ""))
		if got := queryString(t, db, "SELECT 1"); got != "1" {
			t.Fatalf("login %d", i)
		}
		db.Close()
	}
	wantMySQLError(t, e.open(e.courier.DSN("app", "bad", "", "")).Ping(), 1045, "28000")
	db := e.open(e.courier.DSN("hashed", "app", "", ""))
	if err := db.Ping(); err != nil {
		t.Fatalf("full authentication: %v", err)
	}
	wantMySQLError(t, e.open(e.courier.DSN("hashed", "bad", "", "")).Ping(), 1045, "28000")
}

// TestBadClientsAreCutOff: oversized and malformed packets get an error
// and a disconnect; everyone else keeps being served.
func TestBadClientsAreCutOff(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) { c.Limits.MaxPacketSize = 1 << 20 })
	good := e.proxied("")
	good.SetMaxOpenConns(1)
	if got := queryString(t, good, "SELECT 1"); got != "1" {
		t.Fatal("good client")
	}

	big := e.proxied("interpolateParams=true&maxAllowedPacket=67108864")
	_, err := big.Exec("SELECT LENGTH(?)", strings.Repeat("x", 2<<20))
	wantMySQLError(t, err, 1153, "08S01")

	// Garbage before and after authentication.
	for _, junk := range [][]byte{
		{0xff, 0xff, 0xff, 0x00, 1, 2, 3},                      // huge pre-auth packet
		{0x05, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, 0x00}, // nonsense handshake response
		bytes.Repeat([]byte{0}, 4),                             // empty packet
	} {
		nc, err := net.DialTimeout("tcp", e.courier.Addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		_, _ = nc.Read(buf) // greeting
		_, _ = nc.Write(junk)
		for { // the server answers (maybe) and closes
			if _, err := nc.Read(buf); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("server kept a bad client (%x) open", junk)
				}
				break
			}
		}
		nc.Close()
	}
	// A malformed command after login: error 1835, then the connection
	// is closed.
	bc, err := backend.Dial(context.Background(), backend.Options{Addr: e.courier.Addr, User: "app", Password: "app"}, backend.FlavourPlain)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	if err := bc.WriteCommand([]byte{gomysql.COM_STMT_EXECUTE, 1, 0}); err != nil {
		t.Fatal(err)
	}
	reply, err := bc.Wire().ReadPacket(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if num, state, _ := wire.ParseErr(reply); reply[0] != wire.ErrHeader || num != 1835 || state != "HY000" {
		t.Fatalf("malformed execute: reply %q", reply)
	}
	bc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := bc.Wire().ReadPacket(1 << 20); err == nil {
		t.Fatal("connection still open after a malformed packet")
	}
	if got := queryString(t, good, "SELECT 2"); got != "2" {
		t.Fatal("good client broken by bad ones")
	}
}

// TestTooManyConnections: past limits.max_connections clients get 1040.
func TestTooManyConnections(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) { c.Limits.MaxConnections = 3 })
	db := e.proxied("")
	db.SetMaxIdleConns(10)
	var held []*sql.Conn
	for range 3 {
		c, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	wantMySQLError(t, e.open(e.courier.DSN("app", "app", "", "")).Ping(), 1040, "08004")
	for _, c := range held {
		c.Close()
	}
}

// TestKillQuery: KILL QUERY with a Courier connection id stops that
// session's running statement; the session stays usable.
func TestKillQuery(t *testing.T) {
	e := newEnv(t)
	db := e.proxied("")
	ctx := context.Background()
	c, _ := db.Conn(ctx)
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		var r int
		done <- c.QueryRowContext(ctx, "SELECT SLEEP(30)").Scan(&r)
	}()
	var victim uint32
	for deadline := time.Now().Add(5 * time.Second); victim == 0 && time.Now().Before(deadline); {
		for _, s := range e.courier.Server.Status().Sessions {
			if s.Busy {
				victim = s.ID
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if victim == 0 {
		t.Fatal("the sleeping session never showed up as busy")
	}
	killer := e.proxied("")
	if _, err := killer.Exec(fmt.Sprintf("KILL QUERY %d", victim)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil { // SLEEP returns 1 when interrupted; other statements give 1317
			wantMySQLError(t, err, 1317, "70100")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("KILL QUERY did not stop SLEEP(30)")
	}
	if got := queryString(t, c, "SELECT 5"); got != "5" {
		t.Fatal("connection unusable after KILL QUERY")
	}
	_, err := killer.Exec("KILL QUERY 4000000000")
	wantMySQLError(t, err, 1094, "HY000")
}

// TestQueryTimeout: limits.query_timeout stops a statement that runs too
// long with error 1317, and the session goes on.
func TestQueryTimeout(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) { c.Limits.QueryTimeout = time.Second })
	d := e.direct("")
	mustExec(t, d, "CREATE TABLE locked (id INT PRIMARY KEY, v INT) ENGINE=InnoDB")
	mustExec(t, d, "INSERT INTO locked VALUES (1, 0)")
	holder, err := d.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	mustExec(t, holder, "SELECT * FROM locked WHERE id = 1 FOR UPDATE")

	db := e.proxied("")
	db.SetMaxOpenConns(1)
	start := time.Now()
	// Waits for the row lock (50 s by default) until the timeout kills it.
	_, err = db.Exec("UPDATE locked SET v = 1 WHERE id = 1")
	wantMySQLError(t, err, 1317, "70100")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout took %s", d)
	}
	if got := queryString(t, db, "SELECT 5"); got != "5" {
		t.Fatal("connection unusable after timeout")
	}
}
