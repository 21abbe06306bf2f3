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
// refusal and the statement after it share a connection) or a *sql.DB.
type Conn interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

var (
	_ Conn = (*sql.Conn)(nil)
	_ Conn = (*sql.DB)(nil)
)

// Result is one server's answer to one statement: its columns and rows
// as text (NULL kept apart from the empty string), or the affected row
// count of a write, or an error.
type Result struct {
	Columns  []string
	Rows     [][]sql.NullString
	Affected int64
	Err      error
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
		res, err := c.ExecContext(ctx, q)
		if err != nil {
			return Result{Err: err}
		}
		n, err := res.RowsAffected()
		return Result{Affected: n, Err: err}
	}
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return Result{Err: err}
	}
	defer rows.Close()
	var r Result
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
	if err := rows.Err(); err != nil {
		return Result{Err: err}
	}
	return r
}

// Diff says how got differs from want, or "" when they are the same
// answer: the same error number, or the same affected count, or the same
// columns and rows (in order when ordered, else as multisets). Column
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
