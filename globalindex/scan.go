package globalindex

import (
	"context"
	"database/sql"
	"fmt"
)

// row is one source row as a scan reads it: its key and its column value
// (Null when the column is NULL, and then it has no entry).
type row struct {
	Key   string
	Value sql.NullString
}

// rowScanner reads a data cluster's rows in chunks in key order:
//
//	SELECT key, column FROM t WHERE key > ? ORDER BY key LIMIT chunk
//
// The key need not be unique (order_items shares order_id): a full chunk
// whose last key might continue past the limit gives back that key's rows,
// which the next chunk reads again; a chunk that is all one key reads that
// key's rows whole.
type rowScanner struct {
	x       *Index
	cluster string
	chunk   int
	after   *string // the last key returned; nil before the first chunk
}

// next returns the next chunk, or nil at the end.
func (s *rowScanner) next(ctx context.Context) ([]row, error) {
	x := s.x
	q := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IS NOT NULL ORDER BY %s LIMIT %d",
		x.key(), x.col(), x.srcTable(), x.key(), x.key(), s.chunk)
	var args []any
	if s.after != nil {
		q = fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s > ? ORDER BY %s LIMIT %d",
			x.key(), x.col(), x.srcTable(), x.key(), x.key(), s.chunk)
		args = []any{x.keyParam(*s.after)}
	}
	rows, err := s.read(ctx, q, args...)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	if len(rows) == s.chunk {
		last := rows[len(rows)-1].Key
		n := len(rows)
		for n > 0 && rows[n-1].Key == last {
			n--
		}
		if n > 0 {
			rows = rows[:n]
		} else if rows, err = s.read(ctx, fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s = ?",
			x.key(), x.col(), x.srcTable(), x.key()), x.keyParam(last)); err != nil {
			return nil, err
		}
	}
	k := rows[len(rows)-1].Key
	s.after = &k
	return rows, nil
}

func (s *rowScanner) read(ctx context.Context, q string, args ...any) ([]row, error) {
	rs, err := s.x.pools[s.cluster].QueryContext(ctx, q, args...)
	if err != nil {
		return nil, on(s.cluster, err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.Key, &r.Value); err != nil {
			return nil, on(s.cluster, err)
		}
		out = append(out, r)
	}
	return out, on(s.cluster, rs.Err())
}

// entryScanner reads an index cluster's entries in chunks in primary key
// order, (column, key) or, for a unique index, (column).
type entryScanner struct {
	x       *Index
	cluster string
	chunk   int
	after   *Entry
}

// next returns the next chunk, or nil at the end.
func (s *entryScanner) next(ctx context.Context) ([]Entry, error) {
	x := s.x
	var where string
	var args []any
	order := x.col() + ", " + x.key()
	switch {
	case s.after == nil:
	case x.ix.Unique:
		where = fmt.Sprintf("WHERE %s > ?", x.col())
		args = []any{x.valueParam(s.after.Value)}
		order = x.col()
	default:
		where = fmt.Sprintf("WHERE %s > ? OR (%s = ? AND %s > ?)", x.col(), x.col(), x.key())
		v := x.valueParam(s.after.Value)
		args = []any{v, v, x.keyParam(s.after.Key)}
	}
	q := fmt.Sprintf("SELECT %s, %s FROM %s %s ORDER BY %s LIMIT %d", x.col(), x.key(), x.idxTable(), where, order, s.chunk)
	var out []Entry
	if err := x.query(ctx, s.cluster, q, args, func(e Entry) { out = append(out, e) }); err != nil {
		return nil, err
	}
	if len(out) > 0 {
		last := out[len(out)-1]
		s.after = &last
	}
	return out, nil
}
