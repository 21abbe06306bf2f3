package migrate

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// row is one row as the binary protocol gives it: int64, uint64,
// float32, float64, []byte or nil per column.
type row []any

// querier is a pool or one of its connections (a snapshot).
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// scanner reads one cluster's rows of a table in primary-key order, a
// chunk at a time (keyset pagination from the last key read).
type scanner struct {
	db    querier
	m     *Move
	chunk int
	after []any // the primary key of the last row read; nil before the first
}

// next returns the next chunk, nil at the end.
func (s *scanner) next(ctx context.Context) ([]row, error) {
	cols := make([]string, len(s.m.columns))
	for i, c := range s.m.columns {
		cols[i] = ident(c)
	}
	pk := make([]string, len(s.m.pk))
	for i, j := range s.m.pk {
		pk[i] = ident(s.m.columns[j])
	}
	where, args := "1 = ?", []any{1} // an argument: rows come in the binary protocol
	if s.after != nil {
		where = "(" + strings.Join(pk, ", ") + ") > (" + strings.TrimSuffix(strings.Repeat("?, ", len(pk)), ", ") + ")"
		args = s.after
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %d",
		strings.Join(cols, ", "), ident(s.m.Table), where, strings.Join(pk, ", "), s.chunk)
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		r := make(row, len(cols))
		ptrs := make([]any, len(cols))
		for i := range r {
			ptrs[i] = &r[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil || len(out) == 0 {
		return nil, err
	}
	last := out[len(out)-1]
	s.after = make([]any, len(s.m.pk))
	for i, j := range s.m.pk {
		s.after[i] = last[j]
	}
	return out, nil
}

// Progress is what a copy or a verification reports after each chunk.
type Progress struct {
	Phase   string // copy, verify
	Table   string
	Cluster string // the source read
	Rows    int64  // rows read so far from it
	Total   int64  // its estimate (copy)
	Done    bool
}

// copySource copies the rows of m on one source cluster to their
// targets, after the checkpointed key, checkpointing after each chunk
// with save. Writes are idempotent (REPLACE), so a chunk copied again
// after a stop changes nothing.
func (p *Plan) copySource(ctx context.Context, m *Move, source string, cp checkpoint, chunk int,
	save func(checkpoint) error, progress func(Progress)) error {
	return p.copyFrom(ctx, p.pools[source], m, source, cp, chunk, nil, save, progress)
}

// copyFrom is copySource reading through db (a pool, or a connection in
// a consistent snapshot), waiting on pace (if any) before each chunk.
func (p *Plan) copyFrom(ctx context.Context, db querier, m *Move, source string, cp checkpoint, chunk int,
	pace func(context.Context, int) error, save func(checkpoint) error, progress func(Progress)) error {
	s := &scanner{db: db, m: m, chunk: chunk}
	var err error
	if s.after, err = decodeKey(cp.LastKey); err != nil {
		return err
	}
	rows := cp.Rows
	for {
		batch, err := s.next(ctx)
		if err != nil {
			return on(source, err)
		}
		if batch == nil {
			cp.Done = true
			progress(Progress{Phase: "copy", Table: m.Table, Cluster: source, Rows: rows, Total: m.Estimates[source], Done: true})
			return save(cp)
		}
		if pace != nil {
			if err := pace(ctx, len(batch)); err != nil {
				return err
			}
		}
		byTarget := map[string][]row{}
		for _, r := range batch {
			ts, err := p.targetOf(m, r)
			if err != nil {
				return err
			}
			for _, t := range ts {
				byTarget[t] = append(byTarget[t], r)
			}
		}
		for _, t := range m.Targets {
			if err := p.insert(ctx, t, m, byTarget[t]); err != nil {
				return err
			}
		}
		rows += int64(len(batch))
		cp.LastKey, cp.Rows = encodeKey(s.after), rows
		if err := save(cp); err != nil {
			return err
		}
		progress(Progress{Phase: "copy", Table: m.Table, Cluster: source, Rows: rows, Total: m.Estimates[source]})
	}
}

// maxPlaceholders bounds the ? of one statement (the protocol's limit is
// 65,535).
const maxPlaceholders = 60000

// insert writes rows of m on cluster c, in statements of at most
// maxPlaceholders values.
func (p *Plan) insert(ctx context.Context, c string, m *Move, rows []row) error {
	cols := make([]string, len(m.columns))
	for i, col := range m.columns {
		cols[i] = ident(col)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	per := max(1, maxPlaceholders/len(cols))
	for len(rows) > 0 {
		n := min(per, len(rows))
		args := make([]any, 0, n*len(cols))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		q := "REPLACE INTO " + ident(m.Table) + " (" + strings.Join(cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
		if _, err := p.pools[c].ExecContext(ctx, q, args...); err != nil {
			return on(c, err)
		}
		rows = rows[n:]
	}
	return nil
}

// clearTargets deletes every row of the moved tables on their targets
// (a copy that must start over, or the old layout's copies before a
// reverse), in batches.
func (p *Plan) clearTargets(ctx context.Context) error {
	for _, m := range p.Tables {
		for _, c := range m.Targets {
			if err := deleteAll(ctx, p.pools[c], c, m.Table); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteAll deletes a table's rows on one cluster, 1,000 at a time.
func deleteAll(ctx context.Context, db *sql.DB, cluster, table string) error {
	for {
		res, err := db.ExecContext(ctx, "DELETE FROM "+ident(table)+" LIMIT 1000")
		if err != nil {
			return on(cluster, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
	}
}

// hashRow is a row's 64-bit FNV-1a hash over its values with their
// types.
func hashRow(r row) uint64 {
	h := fnv.New64a()
	for _, v := range r {
		_, _ = h.Write([]byte(encodeValue(v)))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// encodeValue writes a value with its type, so that a checkpoint gives
// back an argument of the same type (an integer key compared as an
// integer, never as a string).
func encodeValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "n"
	case int64:
		return "i" + strconv.FormatInt(v, 10)
	case uint64:
		return "u" + strconv.FormatUint(v, 10)
	case float32:
		return "f" + strconv.FormatFloat(float64(v), 'g', -1, 32)
	case float64:
		return "d" + strconv.FormatFloat(v, 'g', -1, 64)
	case []byte:
		return "b" + base64.StdEncoding.EncodeToString(v)
	}
	return "s" + fmt.Sprint(v)
}

func decodeValue(s string) (any, error) {
	if s == "" {
		return nil, errors.New("empty value")
	}
	body := s[1:]
	switch s[0] {
	case 'n':
		return nil, nil
	case 'i':
		return strconv.ParseInt(body, 10, 64)
	case 'u':
		return strconv.ParseUint(body, 10, 64)
	case 'f':
		f, err := strconv.ParseFloat(body, 32)
		return float32(f), err
	case 'd':
		return strconv.ParseFloat(body, 64)
	case 'b':
		return base64.StdEncoding.DecodeString(body)
	}
	return body, nil
}

// encodeKey and decodeKey keep a primary key in a checkpoint.
func encodeKey(k []any) *string {
	if k == nil {
		return nil
	}
	parts := make([]string, len(k))
	for i, v := range k {
		parts[i] = encodeValue(v)
	}
	s := strings.Join(parts, ",")
	return &s
}

func decodeKey(s *string) ([]any, error) {
	if s == nil {
		return nil, nil
	}
	var out []any
	for _, part := range strings.Split(*s, ",") {
		v, err := decodeValue(part)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %q: %w", *s, err)
		}
		out = append(out, v)
	}
	return out, nil
}
