package globalindex

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// ident quotes a table or column name.
func ident(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

// marks is n comma-separated placeholders.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// pairMarks is n comma-separated (?,?) row constructors.
func pairMarks(n int) string { return strings.TrimSuffix(strings.Repeat("(?,?),", n), ",") }

// The quoted names of the two tables and two columns.
func (x *Index) idxTable() string { return ident(x.ix.Table) }
func (x *Index) srcTable() string { return ident(x.src.Name) }
func (x *Index) col() string      { return ident(x.ix.Column) }
func (x *Index) key() string      { return ident(x.src.Key) }

// readRows reads the rows with the given sharding keys from a data
// cluster, as (column value, key) entries; rows whose column is NULL are
// left out, since they have no entry.
func (x *Index) readRows(ctx context.Context, cluster string, keys []string) (map[Entry]bool, error) {
	got := make(map[Entry]bool, len(keys))
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = x.keyParam(k)
	}
	q := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IN (%s) AND %s IS NOT NULL",
		x.col(), x.key(), x.srcTable(), x.key(), marks(len(keys)), x.col())
	err := x.query(ctx, cluster, q, args, func(e Entry) { got[e] = true })
	return got, err
}

// readEntries returns which of the given entries an index cluster holds.
// For a unique index it reads by value, so an entry for the value that
// points at another key does not count.
func (x *Index) readEntries(ctx context.Context, cluster string, es []Entry) (map[Entry]bool, error) {
	got := make(map[Entry]bool, len(es))
	var q string
	var args []any
	if x.ix.Unique {
		q = fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IN (%s)", x.col(), x.key(), x.idxTable(), x.col(), marks(len(es)))
		for _, e := range es {
			args = append(args, x.valueParam(e.Value))
		}
	} else {
		q = fmt.Sprintf("SELECT %s, %s FROM %s WHERE (%s, %s) IN (%s)",
			x.col(), x.key(), x.idxTable(), x.col(), x.key(), pairMarks(len(es)))
		args = x.pairArgs(es)
	}
	err := x.query(ctx, cluster, q, args, func(e Entry) { got[e] = true })
	return got, err
}

// insertEntries writes entries to an index cluster with INSERT IGNORE
// (an entry already there stays as it is) and returns how many were new.
func (x *Index) insertEntries(ctx context.Context, cluster string, es []Entry) (int64, error) {
	q := fmt.Sprintf("INSERT IGNORE INTO %s (%s, %s) VALUES %s", x.idxTable(), x.col(), x.key(), pairMarks(len(es)))
	r, err := x.pools[cluster].ExecContext(ctx, q, x.pairArgs(es)...)
	if err != nil {
		return 0, on(cluster, err)
	}
	n, err := r.RowsAffected()
	return n, on(cluster, err)
}

// deleteEntries deletes exactly the given entries from an index cluster
// and returns how many were there.
func (x *Index) deleteEntries(ctx context.Context, cluster string, es []Entry) (int64, error) {
	q := fmt.Sprintf("DELETE FROM %s WHERE (%s, %s) IN (%s)", x.idxTable(), x.col(), x.key(), pairMarks(len(es)))
	r, err := x.pools[cluster].ExecContext(ctx, q, x.pairArgs(es)...)
	if err != nil {
		return 0, on(cluster, err)
	}
	n, err := r.RowsAffected()
	return n, on(cluster, err)
}

func (x *Index) pairArgs(es []Entry) []any {
	args := make([]any, 0, 2*len(es))
	for _, e := range es {
		args = append(args, x.valueParam(e.Value), x.keyParam(e.Key))
	}
	return args
}

// query runs a SELECT of (value, key) on a cluster and hands each row to
// fn. Values are read as text; a NULL value arrives as "" only where the
// statement allows NULL, which none of ours do for the key.
func (x *Index) query(ctx context.Context, cluster, q string, args []any, fn func(Entry)) error {
	rows, err := x.pools[cluster].QueryContext(ctx, q, args...)
	if err != nil {
		return on(cluster, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v, k sql.RawBytes
		if err := rows.Scan(&v, &k); err != nil {
			return on(cluster, err)
		}
		fn(Entry{Value: string(v), Key: string(k)})
	}
	return on(cluster, rows.Err())
}

// batches calls fn with consecutive slices of at most n items.
func batches[T any](items []T, n int, fn func([]T) error) error {
	for len(items) > 0 {
		m := min(n, len(items))
		if err := fn(items[:m]); err != nil {
			return err
		}
		items = items[m:]
	}
	return nil
}
