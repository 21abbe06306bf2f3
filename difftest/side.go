package difftest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Side is one server as the comparison sees it: the session statements
// run on, and a second session, opened from a DSN with
// multiStatements=true, that multi-statement batches (and what reads
// their rows back) run on. A session the server closed is replaced by a
// new one before the next statement, so one lost connection costs one
// statement, not the rest of the run.
type Side struct {
	db, multiDB *sql.DB
	conn, multi *sql.Conn
	// Lost counts the sessions the server closed.
	Lost int
}

// NewSide opens both sessions of a side: db's DSN must not set
// multiStatements, multiDB's must. Neither may set interpolateParams,
// so that statements with arguments are prepared on the server.
func NewSide(ctx context.Context, db, multiDB *sql.DB) (*Side, error) {
	s := &Side{db: db, multiDB: multiDB}
	var err error
	if s.conn, err = db.Conn(ctx); err != nil {
		return nil, err
	}
	if s.multi, err = multiDB.Conn(ctx); err != nil {
		s.conn.Close()
		return nil, err
	}
	return s, nil
}

// Close gives both sessions back.
func (s *Side) Close() {
	s.conn.Close()
	s.multi.Close()
}

// session is the session a query runs on.
func (s *Side) session(batch bool) *sql.Conn {
	if batch {
		return s.multi
	}
	return s.conn
}

// repair ends any transaction a session has open and replaces a session
// the server has closed.
func (s *Side) repair(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, c := range []struct {
		conn **sql.Conn
		db   *sql.DB
	}{{&s.conn, s.db}, {&s.multi, s.multiDB}} {
		if _, err := (*c.conn).ExecContext(ctx, "ROLLBACK"); err == nil || (*c.conn).PingContext(ctx) == nil {
			continue
		}
		(*c.conn).Close()
		s.Lost++
		fresh, err := c.db.Conn(ctx)
		if err != nil {
			return err
		}
		*c.conn = fresh
	}
	return nil
}

// isControl reports whether q begins or ends a transaction: drivers send
// those as text, never prepared.
func isControl(q string) bool {
	switch strings.ToUpper(strings.TrimSpace(q)) {
	case "BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK":
		return true
	}
	return false
}

// runIn runs one statement on c, as text or prepared.
func runIn(ctx context.Context, c Conn, q Query, prepared bool) Result {
	if prepared && !isControl(q.SQL) {
		return RunPrepared(ctx, c, q.SQL, q.Write)
	}
	return Run(ctx, c, q.SQL, q.Write)
}

// RunBatch sends several statements in one COM_QUERY on c (whose DSN
// sets multiStatements). A batch that reads answers with its result sets
// in order; a batch of writes with every statement's affected rows (the
// driver keeps them all; database/sql shows only the last).
func RunBatch(ctx context.Context, c *sql.Conn, q string, reads bool) Result {
	if !reads {
		var r Result
		err := c.Raw(func(dc any) error {
			res, err := dc.(driver.ExecerContext).ExecContext(ctx, q, nil)
			if err != nil {
				return err
			}
			r.AllAffected = res.(mysql.Result).AllRowsAffected()
			return nil
		})
		if err != nil {
			return Result{Err: err}
		}
		return r
	}
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return Result{Err: err}
	}
	defer rows.Close()
	r := Result{Sets: []Result{}}
	for {
		set := collect(rows)
		if set.Err != nil {
			return set
		}
		r.Sets = append(r.Sets, set)
		if !rows.NextResultSet() {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return Result{Err: err}
	}
	return r
}
