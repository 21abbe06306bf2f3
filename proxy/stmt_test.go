package proxy_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/courier-proxy/courier/config"
)

// TestPreparedStatementsAcrossBackendConnections: statements prepared by
// many clients execute correctly whichever shared backend connection runs
// them, with types sent once and NULL bitmaps preserved.
func TestPreparedStatementsAcrossBackendConnections(t *testing.T) {
	e := newEnvWith(t, smallPool)
	mustExec(t, e.direct(""), "CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20), n INT NULL)")
	db := e.proxied("")
	eachConn(t, db, 6, func(w int, c *sql.Conn) {
		ctx := context.Background()
		ins, err := c.PrepareContext(ctx, "INSERT INTO kv (k, v, n) VALUES (?, ?, ?)")
		if err != nil {
			t.Error(err)
			return
		}
		sel, err := c.PrepareContext(ctx, "SELECT v, n FROM kv WHERE k = ?")
		if err != nil {
			t.Error(err)
			return
		}
		for i := range 40 {
			k := w*1000 + i
			var n any
			if i%3 != 0 {
				n = i
			}
			if _, err := ins.ExecContext(ctx, k, fmt.Sprint("v", k), n); err != nil {
				t.Error(err)
				return
			}
			var v string
			var got *int64
			if err := sel.QueryRowContext(ctx, k).Scan(&v, &got); err != nil {
				t.Error(err)
				return
			}
			if v != fmt.Sprint("v", k) || (n == nil) != (got == nil) || (got != nil && *got != int64(i)) {
				t.Errorf("row %d: v=%q n=%v", k, v, got)
				return
			}
		}
		ins.Close()
		sel.Close()
	})
	if got := queryString(t, e.direct(""), "SELECT COUNT(*) FROM kv"); got != "240" {
		t.Fatalf("rows = %s", got)
	}
}

// TestLongData: parameters sent with COM_STMT_SEND_LONG_DATA (the driver
// does so for values bigger than its packet budget) arrive whole.
func TestLongData(t *testing.T) {
	e := newEnvWith(t, smallPool)
	mustExec(t, e.direct(""), "CREATE TABLE docs (id INT PRIMARY KEY, body LONGBLOB)")
	db := e.proxied("maxAllowedPacket=1048576")         // values over ~512 KiB go as long data
	body := bytes.Repeat([]byte("long data! "), 300000) // 3.3 MB
	mustExec(t, db, "INSERT INTO docs VALUES (?, ?)", 1, body)
	var n int
	if err := e.direct("").QueryRow("SELECT LENGTH(body) FROM docs WHERE id = 1").Scan(&n); err != nil || n != len(body) {
		t.Fatalf("stored %d bytes (%v), want %d", n, err, len(body))
	}
	var same int
	if err := db.QueryRow("SELECT body = ? FROM docs WHERE id = 1", body).Scan(&same); err != nil || same != 1 {
		t.Fatalf("compare: %d %v", same, err)
	}
}

// TestPreparedStatementLimit: a client cannot hold more statements than
// limits.max_prepared_statements; closing frees room.
func TestPreparedStatementLimit(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) { c.Limits.MaxPreparedStatements = 3 })
	db := e.proxied("")
	ctx := context.Background()
	c, _ := db.Conn(ctx)
	defer c.Close()
	var stmts []interface{ Close() error }
	for i := range 3 {
		s, err := c.PrepareContext(ctx, fmt.Sprintf("SELECT %d", i))
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, s)
	}
	_, err := c.PrepareContext(ctx, "SELECT 99")
	wantMySQLError(t, err, 1461, "42000")
	stmts[0].Close()
	s, err := c.PrepareContext(ctx, "SELECT 99")
	if err != nil {
		t.Fatalf("after closing one: %v", err)
	}
	s.Close()
}
