package difftest

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Conn is what a statement runs on: a *sql.Conn (one session, so that a
// refusal and the statement after it share a connection), a *sql.Tx (a
// transaction on one) or a *sql.DB.
type Conn interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

var (
	_ Conn = (*sql.Conn)(nil)
	_ Conn = (*sql.Tx)(nil)
	_ Conn = (*sql.DB)(nil)
)

// Result is one server's answer to one statement: its columns and rows
// as text (NULL kept apart from the empty string), or the affected row
// count of a write, or an error. A multi-statement batch answers with
// every statement's affected rows (a batch of writes) or with its result
// sets in order (a batch with reads).
type Result struct {
	Columns  []string
	Rows     [][]sql.NullString
	Affected int64
	Err      error
	// AllAffected are a batch of writes' affected rows, one per statement.
	AllAffected []int64
	// Sets are a batch's result sets, in order; the Result itself then
	// holds only Err.
	Sets []Result
}

// Errno is the MySQL error number of r's error, 0 for none, and
// 65535 for an error that carries no number (a lost connection).
func (r Result) Errno() uint16 {
	var me *mysql.MySQLError
	switch {
	case r.Err == nil:
		return 0
	case errors.As(r.Err, &me):
		return me.Number
	}
	return 65535
}

// Run runs one statement with no arguments (so the text protocol is used)
// and collects its whole answer.
func Run(ctx context.Context, c Conn, q string, write bool) Result {
	if write {
		return affected(c.ExecContext(ctx, q))
	}
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return Result{Err: err}
	}
	defer rows.Close()
	r := collect(rows)
	if err := rows.Err(); err != nil && r.Err == nil {
		r = Result{Err: err}
	}
	return r
}

// RunPrepared runs one statement as a server-side prepared statement,
// its literals turned into arguments (see Parameterize), the way
// go-sql-driver sends a query with arguments when interpolateParams is
// off: COM_STMT_PREPARE, COM_STMT_EXECUTE, COM_STMT_CLOSE. A statement
// without literals is prepared explicitly (the driver would send it as
// text). Rows then come in the binary protocol; they are compared as the
// driver's text for them, which is the same for both servers.
func RunPrepared(ctx context.Context, c Conn, q string, write bool) Result {
	text, args := Parameterize(q)
	if len(args) > 0 {
		if write {
			return affected(c.ExecContext(ctx, text, args...))
		}
		rows, err := c.QueryContext(ctx, text, args...)
		return readAll(rows, err)
	}
	st, err := c.PrepareContext(ctx, text)
	if err != nil {
		return Result{Err: err}
	}
	defer st.Close()
	if write {
		return affected(st.ExecContext(ctx))
	}
	rows, err := st.QueryContext(ctx)
	return readAll(rows, err)
}

func affected(res sql.Result, err error) Result {
	if err != nil {
		return Result{Err: err}
	}
	n, err := res.RowsAffected()
	return Result{Affected: n, Err: err}
}

// readAll is rows' one result set, or err.
func readAll(rows *sql.Rows, err error) Result {
	if err != nil {
		return Result{Err: err}
	}
	defer rows.Close()
	r := collect(rows)
	if err := rows.Err(); err != nil && r.Err == nil {
		r = Result{Err: err}
	}
	return r
}

// collect reads the current result set of rows.
func collect(rows *sql.Rows) Result {
	var r Result
	var err error
	if r.Columns, err = rows.Columns(); err != nil {
		return Result{Err: err}
	}
	raw := make([]sql.RawBytes, len(r.Columns))
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return Result{Err: err}
		}
		row := make([]sql.NullString, len(raw))
		for i, b := range raw {
			row[i] = sql.NullString{String: string(b), Valid: b != nil}
		}
		r.Rows = append(r.Rows, row)
	}
	return r
}

// Diff says how got differs from want, or "" when they are the same
// answer: the same error number, or the same affected count (counts, for
// a batch of writes), or the same columns and rows (in order when
// ordered, else as multisets). Column
// names and rows are both checked, so a report tells a misnamed column
// from a wrong value.
func Diff(want, got Result, ordered bool) string {
	switch {
	case want.Errno() != got.Errno():
		return "different errors"
	case want.Err != nil:
		return ""
	case want.Affected != got.Affected:
		return fmt.Sprintf("%d rows affected, want %d", got.Affected, want.Affected)
	case !slices.Equal(want.AllAffected, got.AllAffected):
		return fmt.Sprintf("%v rows affected, want %v", got.AllAffected, want.AllAffected)
	}
	var why []string
	if !slices.Equal(want.Columns, got.Columns) {
		why = append(why, "different column names")
	}
	if d := diffRows(want.Rows, got.Rows, ordered); d != "" {
		why = append(why, d)
	}
	return strings.Join(why, "; ")
}

func diffRows(w, g [][]sql.NullString, ordered bool) string {
	if len(w) != len(g) {
		return fmt.Sprintf("%d rows, want %d", len(g), len(w))
	}
	if !ordered {
		w, g = sorted(w), sorted(g)
	}
	for i := range w {
		if compareRows(w[i], g[i]) != 0 {
			if ordered {
				return fmt.Sprintf("row %d differs", i)
			}
			return "different rows"
		}
	}
	return ""
}

func sorted(rows [][]sql.NullString) [][]sql.NullString {
	out := slices.Clone(rows)
	slices.SortFunc(out, compareRows)
	return out
}

// compareRows orders rows column by column, NULL before any string.
func compareRows(a, b []sql.NullString) int {
	for i := range min(len(a), len(b)) {
		if c := cmp.Or(compareBool(a[i].Valid, b[i].Valid), strings.Compare(a[i].String, b[i].String)); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Format prints r for a report: its error, or its affected count, or its
// columns and at most maxRows rows.
func Format(r Result, maxRows int) string {
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	if r.Sets != nil {
		var parts []string
		for i, set := range r.Sets {
			parts = append(parts, fmt.Sprintf("result set %d: %s", i+1, Format(set, maxRows)))
		}
		return strings.Join(parts, "\n    ")
	}
	if r.AllAffected != nil {
		return fmt.Sprintf("%v rows affected", r.AllAffected)
	}
	if r.Columns == nil {
		return fmt.Sprintf("%d rows affected", r.Affected)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows [%s]", len(r.Rows), strings.Join(r.Columns, ", "))
	for i, row := range r.Rows {
		if i == maxRows {
			fmt.Fprintf(&b, "\n    ... %d more", len(r.Rows)-maxRows)
			break
		}
		cells := make([]string, len(row))
		for j, c := range row {
			cells[j] = "NULL"
			if c.Valid {
				cells[j] = fmt.Sprintf("%q", c.String)
			}
		}
		b.WriteString("\n    (" + strings.Join(cells, ", ") + ")")
	}
	return b.String()
}
