package engine

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"vitess.io/vitess/go/sqltypes"

	"github.com/courier-proxy/courier/router/vindex"
)

// Index is a global index as primitives use it: the index table, which
// maps values of a sharded table's secondary column to its sharding key,
// and where its rows live.
type Index struct {
	// Name is "table.column" of the indexed column, for metrics.
	Name string
	// Table is the index table, quoted (and qualified when the statement
	// qualified the indexed table); Column and Key its two columns.
	Table, Column, Key string
	// ValueType is the indexed column's type: how values are written and
	// hashed.
	ValueType vindex.KeyType
	// Keyspace is set when the index table is sharded (by Column, with
	// Vindex); otherwise the index table lives whole on Cluster.
	Keyspace *Keyspace
	Vindex   Vindex
	Cluster  int
	// Unique: a value has at most one row.
	Unique bool
}

// cluster returns the cluster holding v's entries: noShard when no entry
// can have it, allShards when it cannot be looked up exactly.
func (ix *Index) cluster(v sqltypes.Value) (int, error) {
	if ix.Keyspace == nil {
		return ix.Cluster, nil
	}
	i, err := ix.Keyspace.shard(ix.Vindex, v)
	if err != nil || i < 0 {
		return i, err
	}
	return ix.Keyspace.Clusters[i], nil
}

// Lookup reads a global index for the values in Values, then runs Source
// (a scatter route of the statement) only on the shards that own the keys
// found. Rows come from the statement itself, so an entry whose row no
// longer has the value (an orphan) adds a shard to ask, never a row.
// Entries are read on the index's primaries, where they are written
// before their rows commit: a committed row's entry is always found.
type Lookup struct {
	Index  *Index
	Values []int
	Source *Route
}

// Execute implements Primitive.
func (l *Lookup) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	shards, err := l.shards(ctx, c, bv)
	if err != nil {
		return err
	}
	if shards == nil {
		return l.Source.Execute(ctx, c, bv, w) // not looked up exactly: every shard
	}
	return l.Source.run(ctx, c, l.Source.on(bv, shards, c.Session(), "lookup", false), w)
}

// Streams implements Streamer.
func (l *Lookup) Streams(ctx context.Context, c Cursor, bv *Bind) ([]RowStream, error) {
	shards, err := l.shards(ctx, c, bv)
	if err != nil {
		return nil, err
	}
	if shards == nil {
		return l.Source.Streams(ctx, c, bv)
	}
	return c.Open(ctx, l.Source.on(bv, shards, c.Session(), "lookup", false))
}

// shards reads the index and returns the source shards owning the keys
// found (at least one: with none, the first shard answers, empty), or
// nil when a value cannot be looked up exactly.
func (l *Lookup) shards(ctx context.Context, c Cursor, bv *Bind) ([]int, error) {
	reads, ok, err := l.reads(bv)
	if err != nil || !ok {
		return nil, err
	}
	s := c.Session()
	s.Stats.Index = l.Index.Name
	src := l.Source
	var shards []int
	for _, rd := range reads {
		rows, err := c.Internal(ctx, rd.cluster, rd.sql)
		if err != nil {
			return nil, err
		}
		s.Stats.LookupKeys += len(rows)
		for _, row := range rows {
			if len(row) == 0 || row[0] == nil {
				continue
			}
			i, err := src.Keyspace.shard(src.Vindex, keyValue(src.Vindex.Type, row[0]))
			if err != nil {
				return nil, err
			}
			if i >= 0 && !slices.Contains(shards, i) {
				shards = append(shards, i)
			}
		}
	}
	if len(shards) == 0 {
		shards = []int{0}
	}
	slices.Sort(shards)
	return shards, nil
}

// indexRead is one index read: the statement, and the cluster it runs on.
type indexRead struct {
	cluster int
	sql     string
}

// reads builds the index reads for bv's values, one per cluster holding
// entries; ok is false when a value cannot be looked up exactly.
func (l *Lookup) reads(bv *Bind) ([]indexRead, bool, error) {
	ix := l.Index
	var clusters []int
	var lits [][]string
	for _, slot := range l.Values {
		v := bv.Value(slot)
		cl, err := ix.cluster(v)
		switch {
		case err != nil:
			return nil, false, err
		case cl == noShard:
			continue
		case cl == allShards:
			return nil, false, nil
		}
		lit, ok := IndexLiteral(ix.ValueType, v)
		if !ok {
			return nil, false, nil
		}
		at := slices.Index(clusters, cl)
		if at < 0 {
			clusters, lits = append(clusters, cl), append(lits, nil)
			at = len(clusters) - 1
		}
		lits[at] = append(lits[at], lit)
	}
	out := make([]indexRead, len(clusters))
	for i, cl := range clusters {
		out[i] = indexRead{cluster: cl, sql: fmt.Sprintf("SELECT %s FROM %s WHERE %s IN (%s)",
			QuoteName(ix.Key), ix.Table, QuoteName(ix.Column), strings.Join(lits[i], ", "))}
	}
	return out, true, nil
}

// keyValue reads a sharding key as an index table returned it.
func keyValue(t vindex.KeyType, b []byte) sqltypes.Value {
	switch t {
	case vindex.Int:
		return sqltypes.MakeTrusted(sqltypes.Int64, b)
	case vindex.Uint:
		return sqltypes.MakeTrusted(sqltypes.Uint64, b)
	}
	return sqltypes.MakeTrusted(sqltypes.VarChar, b)
}

// IndexLiteral prints a value as a literal of an index column of type t,
// as MySQL would compare them; ok is false when no exact literal exists
// (a number for a string column: '42' and '042' both equal 42).
func IndexLiteral(t vindex.KeyType, v sqltypes.Value) (string, bool) {
	k, ok := KeyOf(v)
	if !ok {
		return "", false
	}
	switch {
	case t == vindex.Bytes && (k.IsInt || k.IsUint):
		return "", false
	case t == vindex.Bytes:
		return string(AppendString(nil, []byte(k.Str), nil)), true
	case k.IsInt:
		return strconv.FormatInt(k.Int, 10), true
	case k.IsUint:
		return strconv.FormatUint(k.Uint, 10), true
	}
	if i, err := strconv.ParseInt(strings.TrimSpace(k.Str), 10, 64); err == nil {
		return strconv.FormatInt(i, 10), true
	}
	return "", false
}

// QuoteName quotes an identifier with backticks.
func QuoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// Inputs implements Primitive.
func (l *Lookup) Inputs() []Primitive { return []Primitive{l.Source} }

// String implements Primitive.
func (l *Lookup) String() string {
	return fmt.Sprintf("Lookup %s values %v", l.Index.Name, l.Values)
}
