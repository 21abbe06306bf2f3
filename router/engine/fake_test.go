package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// fakeCursor is a Cursor that records every call it gets, in order, as
// one line each, and answers from scripted replies. Tests assert the
// exact lines: which clusters got which statements.
type fakeCursor struct {
	calls   []string
	replies map[string]*reply // by "cluster:sql" ("" sql: the client's statement)
	sess    Session
	nextID  int64
}

// reply is a scripted answer to one statement.
type reply struct {
	cols []Column
	rows []Row
	ok   Result
	err  error
}

func newFake() *fakeCursor {
	return &fakeCursor{replies: map[string]*reply{}, sess: Session{MaxRows: 1000, GroupConcatMaxLen: 1024}, nextID: 1000}
}

// on scripts the reply of cluster to sql.
func (f *fakeCursor) on(cluster int, sql string, r *reply) *fakeCursor {
	f.replies[fmt.Sprintf("%d:%s", cluster, sql)] = r
	return f
}

func (f *fakeCursor) reply(t Target) *reply {
	if r := f.replies[fmt.Sprintf("%d:%s", t.Cluster, t.SQL)]; r != nil {
		return r
	}
	return &reply{}
}

func (f *fakeCursor) record(verb string, targets []Target) {
	for _, t := range targets {
		sql := t.SQL
		if sql == "" {
			sql = "<client statement>"
		}
		f.calls = append(f.calls, fmt.Sprintf("%s %d: %s", verb, t.Cluster, sql))
	}
}

func (f *fakeCursor) Exec(_ context.Context, targets []Target) ([]Result, error) {
	f.record("exec", targets)
	out := make([]Result, len(targets))
	for i, t := range targets {
		r := f.reply(t)
		if r.err != nil {
			return nil, r.err
		}
		out[i] = r.ok
	}
	return out, nil
}

func (f *fakeCursor) Stream(_ context.Context, targets []Target, read bool, w ResultWriter) error {
	verb := "stream"
	if read {
		verb = "stream-read"
	}
	f.record(verb, targets)
	first := f.reply(targets[0])
	if first.err != nil {
		return first.err
	}
	if first.cols == nil && len(targets) == 1 {
		return w.OK(first.ok)
	}
	if err := w.Fields(first.cols); err != nil {
		return err
	}
	for _, t := range targets {
		r := f.reply(t)
		if r.err != nil {
			return r.err
		}
		for _, row := range r.rows {
			if err := w.Row(row); err != nil {
				return err
			}
		}
	}
	return w.End(0)
}

func (f *fakeCursor) Open(_ context.Context, targets []Target) ([]RowStream, error) {
	f.record("open", targets)
	out := make([]RowStream, len(targets))
	for i, t := range targets {
		r := f.reply(t)
		if r.err != nil && r.rows == nil {
			return nil, r.err
		}
		out[i] = &fakeStream{r: r}
	}
	return out, nil
}

func (f *fakeCursor) Internal(_ context.Context, cluster int, sql string) ([]Row, error) {
	f.calls = append(f.calls, fmt.Sprintf("internal %d: %s", cluster, sql))
	r := f.reply(Target{Cluster: cluster, SQL: sql})
	return r.rows, r.err
}

func (f *fakeCursor) NextIDs(_ context.Context, seq *Sequence, n int) (int64, error) {
	f.calls = append(f.calls, fmt.Sprintf("ids %s.%s %d", seq.DB, seq.Table, n))
	first := f.nextID
	f.nextID += int64(n)
	return first, nil
}

func (f *fakeCursor) Session() *Session { return &f.sess }

// fakeStream yields a reply's rows, then its error (if any).
type fakeStream struct {
	r *reply
	i int
}

func (s *fakeStream) Fields() []Column { return s.r.cols }
func (s *fakeStream) Warnings() uint16 { return 0 }
func (s *fakeStream) Next() (Row, error) {
	if s.i < len(s.r.rows) {
		s.i++
		return s.r.rows[s.i-1], nil
	}
	return nil, s.r.err
}

// recorder is a ResultWriter that keeps what it was given as text.
type recorder struct {
	cols  []string
	rows  []string
	ok    *Result
	ended bool
}

func (r *recorder) Fields(cols []Column) error {
	for _, c := range cols {
		r.cols = append(r.cols, c.Name)
	}
	return nil
}

func (r *recorder) Row(row Row) error {
	vals := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			vals[i] = "NULL"
		} else {
			vals[i] = string(v)
		}
	}
	r.rows = append(r.rows, strings.Join(vals, "|"))
	return nil
}

func (r *recorder) End(uint16) error { r.ended = true; return nil }

func (r *recorder) OK(res Result) error { r.ok = &res; return nil }

// col makes a column definition of a type (mysql.MYSQL_TYPE_*).
func col(name string, typ byte) Column {
	c := Column{Name: name, OrgName: name, Type: typ, Charset: 33}
	if typ == mysql.MYSQL_TYPE_VAR_STRING || typ == mysql.MYSQL_TYPE_VARCHAR || typ == mysql.MYSQL_TYPE_STRING {
		c.Charset = 45 // utf8mb4_general_ci
	} else {
		c.Charset = 63 // binary
	}
	return c
}

// rows makes rows from "a|b|NULL" strings.
func rows(lines ...string) []Row {
	var out []Row
	for _, l := range lines {
		var r Row
		for _, v := range strings.Split(l, "|") {
			if v == "NULL" {
				r = append(r, nil)
			} else {
				r = append(r, []byte(v))
			}
		}
		out = append(out, r)
	}
	return out
}
