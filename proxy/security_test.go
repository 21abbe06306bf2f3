package proxy_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
)

// The accounts of the security tests: narrow may read and write schema
// shop only, reader may only read it, other may use schema otherdb only,
// operator administers.
var securityUsers = []config.User{
	{Name: "app", Password: "app", Access: "ddl"},
	{Name: "narrow", Password: "narrow", Schemas: []string{"shop"}, Access: "read_write"},
	{Name: "reader", Password: "reader", Schemas: []string{"shop"}, Access: "read_only"},
	{Name: "other", Password: "other", Schemas: []string{"otherdb"}, Access: "ddl"},
	{Name: "operator", Password: "operator", Access: "admin"},
}

func withSecurityUsers(cfg *config.Config) { cfg.Users = append([]config.User(nil), securityUsers...) }

// securitySchema makes, on every primary, the tables the security tests
// try to reach: otherdb.t (one row) and shop.memos (empty).
func securitySchema(t *testing.T, e *replEnv) {
	for i := range replShards {
		db := e.primary(i, "")
		mustExec(t, db, "CREATE DATABASE IF NOT EXISTS otherdb")
		mustExec(t, db, "CREATE TABLE IF NOT EXISTS otherdb.t (id INT PRIMARY KEY, v VARBINARY(16))")
		mustExec(t, db, "REPLACE INTO otherdb.t VALUES (1, 'one')")
		mustExec(t, db, "CREATE TABLE IF NOT EXISTS shop.memos (id INT PRIMARY KEY, v VARBINARY(64))")
	}
}

// sameAsPrimaries checks every replica against its primary, read
// directly: once caught up, each holds the same schemas and the same rows
// in the tables tables, so no client statement wrote to a replica.
func sameAsPrimaries(t *testing.T, e *replEnv, tables ...string) {
	t.Helper()
	syncReplicas(t, e)
	for i := range replShards {
		p := e.primary(i, "")
		for _, inst := range e.lc.Replicas(i) {
			r := openDB(t, e.lc.DSN(inst, ""))
			if a, b := schemaList(t, p), schemaList(t, r); a != b {
				t.Fatalf("shard %d: schemas on the primary %s, on its replica %s", i, a, b)
			}
			for _, tbl := range tables {
				q := "SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CRC32(CONCAT_WS(',', id, v))), 0)) FROM " + tbl
				if a, b := queryString(t, p, q), queryString(t, r, q); a != b {
					t.Fatalf("shard %d: %s on the primary %s, on its replica %s", i, tbl, a, b)
				}
			}
		}
	}
}

// syncReplicas waits until every replica has applied what its primary
// has written (writes made directly on the primaries, which no session's
// causal reads wait for).
func syncReplicas(t *testing.T, e *replEnv) {
	t.Helper()
	for i := range replShards {
		pos := queryString(t, e.primary(i, ""), "SELECT @@gtid_binlog_pos")
		for _, inst := range e.lc.Replicas(i) {
			if got := queryString(t, openDB(t, e.lc.DSN(inst, "")), "SELECT MASTER_GTID_WAIT('"+pos+"', 20)"); got != "0" {
				t.Fatalf("replica of shard %d did not catch up: %s", i, got)
			}
		}
	}
}

func schemaList(t *testing.T, db *sql.DB) string {
	return queryString(t, db, "SELECT GROUP_CONCAT(SCHEMA_NAME ORDER BY SCHEMA_NAME) FROM information_schema.SCHEMATA")
}

// testNoWriteOnReplica sends batches that hide a write inside what reads,
// to a server reading them under another sql_mode, as a SELECT: in every
// sql_mode, the write either runs on the primary or is refused, and no
// replica ever holds a row its primary does not.
func testNoWriteOnReplica(t *testing.T, e *replEnv) {
	securitySchema(t, e)
	c := e.courier(t, "", withSecurityUsers)
	// writes: the server reads an INSERT in the batch (in all but the
	// default mode's one string); table: where it goes.
	cases := []struct {
		mode, batch, table string
		writes             bool
	}{
		{"NO_BACKSLASH_ESCAPES", `SELECT 'a\'; INSERT INTO shop.memos VALUES (%d, 0x73); -- '`, "shop.memos", true},
		{"NO_BACKSLASH_ESCAPES", `SELECT 'a\' AS x FROM DUAL WHERE 1 = 1; INSERT INTO otherdb.t VALUES (%d, 0x73); -- '`, "otherdb.t", true},
		{"ANSI_QUOTES", `SELECT "a\"; INSERT INTO shop.memos VALUES (%d, 0x73); -- "`, "shop.memos", true},
		{"ANSI_QUOTES,NO_BACKSLASH_ESCAPES", `SELECT 'it''s', "a\"; INSERT INTO shop.memos VALUES (%d, 0x73); -- "`, "shop.memos", true},
		{"", `SELECT 'a\'; INSERT INTO shop.memos VALUES (%d, 0x73); -- '`, "shop.memos", false},
		{"NO_BACKSLASH_ESCAPES", `SELECT /*!99999 'a\' */ 1; INSERT INTO shop.memos VALUES (%d, 0x73); -- '`, "shop.memos", true},
		{"PIPES_AS_CONCAT", `SELECT 'a' || 'b'; INSERT INTO shop.memos VALUES (%d, 0x73)`, "shop.memos", true},
	}
	p0 := e.primary(0, "")
	for i, tc := range cases {
		for _, user := range []string{"app", "operator"} {
			db := openDB(t, c.DSN(user, user, "shop", "multiStatements=true"))
			db.SetMaxOpenConns(1)
			if tc.mode != "" {
				mustExec(t, db, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',"+tc.mode+"')")
			}
			id := 100 + 10*i + len(user)
			q := fmt.Sprintf(tc.batch, id)
			rows, err := db.Query(q)
			if err == nil {
				for {
					for rows.Next() {
					}
					if !rows.NextResultSet() {
						break
					}
				}
				err = rows.Err()
				rows.Close()
			}
			var me *mysql.MySQLError
			if err != nil && !errors.As(err, &me) {
				t.Fatalf("%s under %q: %v", q, tc.mode, err)
			}
			// Run as the server reads it: the INSERT on the primary.
			stored := queryString(t, p0, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE id = %d", tc.table, id)) == "1"
			if err == nil && stored != tc.writes {
				t.Errorf("%s under %q: the row stored on the primary: %v, want %v", q, tc.mode, stored, tc.writes)
			}
			// The connection stays usable.
			if got := queryString(t, db, "SELECT 1"); got != "1" {
				t.Fatalf("after %s: %s", q, got)
			}
			db.Close()
		}
	}
	sameAsPrimaries(t, e, "shop.memos", "otherdb.t")
}

// denial is a statement an account may not run and the error it gets.
type denial struct {
	user, sql string
	num       uint16
	args      []any
}

// testAuthorisation runs, as accounts of each access level and schema
// list, statements beyond their grants in every form (text, prepared,
// inside batches, after USE, with qualified names, in subqueries): each
// gets MySQL's error and SQLSTATE, and no backend sees a change.
func testAuthorisation(t *testing.T, e *replEnv) {
	securitySchema(t, e)
	c := e.courier(t, "", withSecurityUsers)
	p0 := e.primary(0, "")
	maxConns := queryString(t, p0, "SELECT @@global.max_connections")
	indexEntries := func() string {
		n := 0
		for i := range replShards {
			n += atoi(queryString(t, e.primary(i, ""), "SELECT COUNT(*) FROM shop.orders_by_user_id"))
		}
		return fmt.Sprint(n)
	}
	idx := indexEntries()
	// A backend thread of someone else's: a direct connection held open,
	// whose id no Courier session has (checked below).
	// A backend thread of someone else's: a direct connection held open.
	// Courier's session ids start at a number of its own; a thread id
	// within reach of them (rarely) would name a session of this test.
	direct := e.primary(0, "")
	held, err := direct.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	backendID := queryString(t, held, "SELECT CONNECTION_ID()")
	first := atoi(processes(t, openDB(t, c.DSN("operator", "operator", "", "")), "SHOW PROCESSLIST")[0].id)
	killable := atoi(backendID) < first || atoi(backendID) > first+1000
	defer held.Close()
	denials := []denial{
		{"narrow", "SELECT * FROM otherdb.t", 1142, nil},
		{"narrow", "SELECT * FROM otherdb.t WHERE id = ?", 1142, []any{1}},
		{"narrow", "SELECT User, Password FROM mysql.user", 1142, nil},
		{"narrow", "SELECT * FROM mysql.user WHERE User = ?", 1142, []any{"root"}},
		{"narrow", "SELECT o.order_id FROM shop.orders o WHERE o.order_id IN (SELECT id FROM otherdb.t)", 1142, nil},
		{"narrow", "SELECT (SELECT v FROM otherdb.t LIMIT 1) AS v", 1142, nil},
		{"narrow", "SELECT * FROM shop.memos n JOIN otherdb.t t ON t.id = n.id", 1142, nil},
		{"narrow", "SELECT * FROM shop.memos UNION SELECT * FROM otherdb.t", 1142, nil},
		{"narrow", "INSERT INTO otherdb.t VALUES (2, 'two')", 1142, nil},
		{"narrow", "INSERT INTO otherdb.t VALUES (?, ?)", 1142, []any{3, "three"}},
		{"narrow", "INSERT INTO shop.memos SELECT * FROM otherdb.t", 1142, nil},
		{"narrow", "UPDATE otherdb.t SET v = 'x'", 1142, nil},
		{"narrow", "DELETE FROM otherdb.t WHERE id = ?", 1142, []any{1}},
		{"narrow", "DELETE FROM shop.orders_by_user_id", 1142, nil},
		{"narrow", "DELETE FROM orders_by_user_id WHERE user_id = ?", 1142, []any{7}},
		{"narrow", "SELECT * FROM shop.orders_by_user_id", 1142, nil},
		{"narrow", "INSERT INTO courier_heartbeat.heartbeat VALUES (1, 1)", 1142, nil},
		{"narrow", "SELECT LOAD_FILE('/etc/hostname')", 1227, nil},
		{"narrow", "SELECT order_id FROM shop.orders INTO OUTFILE '/tmp/courier-leak'", 1227, nil},
		{"narrow", "CREATE DATABASE evil", 1227, nil},
		{"narrow", "DROP DATABASE otherdb", 1227, nil},
		{"narrow", "CREATE USER evil IDENTIFIED BY 'x'", 1227, nil},
		{"narrow", "GRANT ALL ON *.* TO 'app'@'%'", 1227, nil},
		{"narrow", "SET GLOBAL max_connections = 1000", 1227, nil},
		{"narrow", "SET @@global.max_connections = 1000", 1227, nil},
		{"narrow", "SELECT * FROM information_schema.PROCESSLIST", 1227, nil},
		{"narrow", "KILL HARD QUERY " + backendID, 1094, nil},
		{"narrow", "KILL " + backendID, 1094, nil},
		{"narrow", "CREATE TABLE shop.made (a INT)", 1142, nil},
		{"narrow", "/*!50000 SELECT * FROM otherdb.t */", 1142, nil},
		{"reader", "UPDATE shop.orders SET total = 1", 1142, nil},
		{"reader", "UPDATE orders SET total = ? WHERE order_id = ?", 1142, []any{1, 2}},
		{"reader", "INSERT INTO shop.memos VALUES (?, ?)", 1142, []any{9, "nine"}},
		{"reader", "DELETE FROM memos", 1142, nil},
		{"reader", "REPLACE INTO memos VALUES (9, 'nine')", 1142, nil},
		{"reader", "TRUNCATE TABLE shop.memos", 1142, nil},
		{"reader", "CALL shop.nothing()", 1370, nil},
		{"other", "SELECT * FROM shop.orders", 1142, nil},
		{"other", "SELECT * FROM shop.orders WHERE order_id = ?", 1142, []any{1}},
		{"other", "UPDATE shop.orders SET total = 1 WHERE order_id = ?", 1142, []any{1}},
		{"other", "DROP TABLE shop.memos", 1142, nil},
	}
	dbs := map[string]*sql.DB{}
	for _, u := range securityUsers {
		schema := "shop"
		if u.Name == "other" {
			schema = "otherdb"
		}
		db := openDB(t, c.DSN(u.Name, u.Password, schema, "multiStatements=true"))
		db.SetMaxOpenConns(1)
		dbs[u.Name] = db
	}
	for _, d := range denials {
		if strings.HasPrefix(d.sql, "KILL") && !killable {
			t.Logf("backend thread %s is within Courier's session ids: %s not tried", backendID, d.sql)
			continue
		}
		db := dbs[d.user]
		var err error
		if d.args == nil {
			_, err = db.Exec(d.sql)
		} else {
			_, err = db.Exec(d.sql, d.args...) // server-side prepared, as the default DSN does
		}
		t.Run(d.user+": "+d.sql, func(t *testing.T) { wantMySQLError(t, err, d.num, stateOf(d.num)) })
		if d.args == nil && !strings.HasPrefix(d.sql, "KILL") { // the same statement prepared without arguments
			st, err := db.Prepare(d.sql)
			if err == nil {
				_, err = st.Exec()
				st.Close()
			}
			t.Run(d.user+": prepared "+d.sql, func(t *testing.T) { wantMySQLError(t, err, d.num, stateOf(d.num)) })
		}
		// Inside a batch, after a statement the account may run.
		_, err = db.Exec("SELECT 1; " + d.sql)
		if d.args == nil {
			t.Run(d.user+": batch "+d.sql, func(t *testing.T) { wantMySQLError(t, err, d.num, stateOf(d.num)) })
		}
		// And in a transaction.
		if d.args != nil {
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			_, err = tx.Exec(d.sql, d.args...)
			t.Run(d.user+": in a transaction "+d.sql, func(t *testing.T) { wantMySQLError(t, err, d.num, stateOf(d.num)) })
			_ = tx.Rollback()
		}
		if got := queryString(t, db, "SELECT 1"); got != "1" {
			t.Fatalf("%s: the connection is not usable after %s: %s", d.user, d.sql, got)
		}
	}
	if got := queryString(t, held, "SELECT 1"); got != "1" {
		t.Fatalf("the backend's connection %s was killed", backendID)
	}
	// USE in every form: the statement, COM_INIT_DB (the DSN's schema), a
	// prepared USE, and inside a batch.
	_, err = dbs["narrow"].Exec("USE otherdb")
	wantMySQLError(t, err, 1044, "42000")
	_, err = dbs["narrow"].Exec("SELECT 1; USE otherdb")
	wantMySQLError(t, err, 1044, "42000")
	if st, err := dbs["narrow"].Prepare("USE otherdb"); err == nil {
		_, err = st.Exec()
		st.Close()
		wantMySQLError(t, err, 1044, "42000")
	} else {
		wantMySQLError(t, err, 1044, "42000")
	}
	if got := queryString(t, dbs["narrow"], "SELECT DATABASE()"); got != "shop" {
		t.Fatalf("after refused USEs the session's schema is %s", got)
	}
	otherDB := openDB(t, c.DSN("narrow", "narrow", "otherdb", ""))
	wantMySQLError(t, otherDB.Ping(), 1044, "42000")
	sysDB := openDB(t, c.DSN("narrow", "narrow", "mysql", ""))
	wantMySQLError(t, sysDB.Ping(), 1044, "42000")

	// What the accounts may do, they can.
	mustExec(t, dbs["narrow"], "INSERT INTO shop.memos VALUES (1, 'mine')")
	syncReplicas(t, e) // another session's write: reader's reads do not wait for it
	if got := queryString(t, dbs["reader"], "SELECT v FROM shop.memos WHERE id = 1"); got != "mine" {
		t.Fatalf("reader reads its schema: %s", got)
	}
	if got := queryString(t, dbs["other"], "SELECT v FROM otherdb.t WHERE id = 1"); got != "one" {
		t.Fatalf("other reads its schema: %s", got)
	}
	if got := queryString(t, dbs["operator"], "SELECT COUNT(*) FROM shop.orders_by_user_id"); got != idx {
		t.Fatalf("operator reads the index table: %s rows, want %s", got, idx)
	}
	mustExec(t, dbs["narrow"], "DELETE FROM shop.memos WHERE id = 1")

	// Nothing changed on any backend.
	for i := range replShards {
		p := e.primary(i, "")
		if got := queryString(t, p, "SELECT GROUP_CONCAT(id, v ORDER BY id) FROM otherdb.t WHERE id < 100"); got != "1one" {
			t.Fatalf("shard %d: otherdb.t holds %s", i, got)
		}
		if got := queryString(t, p, "SELECT COUNT(*) FROM shop.memos WHERE id < 100"); got != "0" {
			t.Fatalf("shard %d: shop.memos holds %s rows", i, got)
		}
		if got := queryString(t, p, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'evil'"); got != "0" {
			t.Fatalf("shard %d: database evil exists", i)
		}
		if got := queryString(t, p, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'made'"); got != "0" {
			t.Fatalf("shard %d: table made exists", i)
		}
		if got := queryString(t, p, "SELECT COUNT(*) FROM mysql.user WHERE User = 'evil'"); got != "0" {
			t.Fatalf("shard %d: user evil exists", i)
		}
		if got := queryString(t, p, "SELECT @@global.max_connections"); got != maxConns {
			t.Fatalf("shard %d: max_connections %s, was %s", i, got, maxConns)
		}
	}
	if got := indexEntries(); got != idx {
		t.Fatalf("index entries: %s, were %s", got, idx)
	}
	sameAsPrimaries(t, e, "shop.memos", "otherdb.t")
}

// stateOf is the SQLSTATE MySQL sends with error num.
func stateOf(num uint16) string {
	switch num {
	case 1142, 1044, 1227, 1370:
		return "42000"
	}
	return "HY000"
}

// testProcesslist: SHOW PROCESSLIST lists the account's own sessions by
// Courier's ids (the ones KILL takes), with what each runs; an account that
// administers sees every session; KILL of another account's session is
// refused.
func testProcesslist(t *testing.T, e *replEnv) {
	c := e.courier(t, "", withSecurityUsers)
	ctx := context.Background()
	narrow := openDB(t, c.DSN("narrow", "narrow", "shop", ""))
	app := openDB(t, c.DSN("app", "app", "shop", ""))
	n1, err := narrow.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer n1.Close()
	n2, err := narrow.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	if _, err := n2.ExecContext(ctx, "USE shop"); err != nil {
		t.Fatal(err)
	}
	sleeping := make(chan error, 1)
	go func() {
		_, err := app.Exec("SELECT SLEEP(3) FROM DUAL")
		sleeping <- err
	}()
	time.Sleep(300 * time.Millisecond)

	list := processes(t, n1, "SHOW FULL PROCESSLIST")
	if len(list) != 2 {
		t.Fatalf("narrow sees %d sessions, want its 2: %v", len(list), list)
	}
	var self, other process
	for _, p := range list {
		if p.user != "narrow" || p.host == "" {
			t.Fatalf("narrow sees %+v", p)
		}
		if p.command == "Query" {
			self = p
		} else {
			other = p
		}
	}
	if self.info != "SHOW FULL PROCESSLIST" || other.command != "Sleep" || other.db != "shop" {
		t.Fatalf("rows: %+v", list)
	}
	all := processes(t, openDB(t, c.DSN("operator", "operator", "", "")), "SHOW PROCESSLIST")
	var appID string
	for _, p := range all {
		if p.user == "app" && strings.HasPrefix(p.info, "SELECT SLEEP(3)") {
			appID = p.id
		}
	}
	if len(all) < 4 || appID == "" {
		t.Fatalf("operator sees %v", all)
	}
	// KILL of another account's session: refused; of one's own: done.
	_, err = n1.ExecContext(ctx, "KILL QUERY "+appID)
	wantMySQLError(t, err, 1095, "HY000")
	if _, err := n1.ExecContext(ctx, "KILL "+other.id); err != nil {
		t.Fatal(err)
	}
	if err := <-sleeping; err != nil {
		t.Fatalf("app's statement was stopped: %v", err)
	}
	if _, err := n2.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Fatal("the killed session still answers")
	}
}

type process struct{ id, user, host, db, command, info string }

func processes(t *testing.T, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string) []process {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if strings.Join(cols, ",") != "Id,User,Host,db,Command,Time,State,Info,Progress" {
		t.Fatalf("columns %v", cols)
	}
	var out []process
	for rows.Next() {
		var p process
		var db, state, info sql.NullString
		var tm int64
		var progress float64
		if err := rows.Scan(&p.id, &p.user, &p.host, &db, &p.command, &tm, &state, &info, &progress); err != nil {
			t.Fatal(err)
		}
		p.db, p.info = db.String, info.String
		out = append(out, p)
	}
	return out
}

// testCallLeaksNothing: state a procedure sets on its connection (a user
// variable, time_zone, a temporary table, a named lock) stays with the
// session that called it, and is gone for every later client of the pool.
func testCallLeaksNothing(t *testing.T, e *replEnv) {
	p0 := e.primary(0, "shop")
	mustExec(t, p0, "DROP PROCEDURE IF EXISTS leak")
	mustExec(t, p0, `CREATE PROCEDURE leak() BEGIN
		SET @leaked = 42;
		SET time_zone = '+05:00';
		CREATE TEMPORARY TABLE leak_tmp (a INT);
		DO GET_LOCK('courier_leak', 0);
	END`)
	one := func(cfg *config.Config) {
		withSecurityUsers(cfg)
		cfg.Users[0].Consistency = "primary" // reads reach the primary's pooled connections
		cfg.Clusters[0].Pool.MaxOpen, cfg.Clusters[0].Pool.MaxIdle = 1, 1
	}
	c := e.courier(t, "", one)
	caller := openDB(t, c.DSN("app", "app", "shop", ""))
	conn, err := caller.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "CALL leak()"); err != nil {
		t.Fatal(err)
	}
	// The caller keeps what its procedure set, as on one server.
	if got := queryString(t, conn, "SELECT CONCAT(@leaked, ' ', @@time_zone, ' ', (SELECT COUNT(*) FROM leak_tmp))"); got != "42 +05:00 0" {
		t.Fatalf("the caller's state: %s", got)
	}
	conn.Close()
	caller.Close()
	deadline := time.Now().Add(5 * time.Second)
	for queryString(t, p0, "SELECT COALESCE(IS_USED_LOCK('courier_leak'), 0)") != "0" {
		if time.Now().After(deadline) {
			t.Fatal("the named lock outlived the session that took it")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range 20 {
		db := openDB(t, c.DSN("app", "app", "shop", ""))
		got := queryString(t, db, "SELECT CONCAT_WS(' ', COALESCE(@leaked, 'none'), @@time_zone)")
		if got != "none SYSTEM" {
			t.Fatalf("session %d after the CALL sees %q", i, got)
		}
		_, err := db.Exec("SELECT COUNT(*) FROM leak_tmp")
		wantMySQLError(t, err, 1146, "42S02")
		db.Close()
	}
}
