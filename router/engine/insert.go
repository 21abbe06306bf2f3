package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/courier-proxy/courier/sqlerr"
)

// Insert writes the rows of an INSERT (or REPLACE) into a sharded table,
// each on the shard its key names: rows for one shard together in one
// statement. When every row goes to one shard and the statement was not
// rewritten (no keys taken from a sequence, no key column added), the
// shard runs the client's statement as it came.
type Insert struct {
	Keyspace *Keyspace
	Vindex   Vindex
	Table    string
	// Prefix is the statement up to its rows ("INSERT INTO t (a, b)
	// VALUES "), Rows one template per row, Suffix what follows them (ON
	// DUPLICATE KEY UPDATE ...; nil when nothing).
	Prefix string
	Rows   []*SQL
	Suffix *SQL
	// Keys holds each row's key slot.
	Keys []int
	// Rewritten: the shards must always run the rendered statement (the
	// key column was added to the client's column list).
	Rewritten bool
	// InsertID is the slot a SequenceFill puts the first key it took in
	// (-1: keys never come from a sequence); the insert reports it.
	InsertID int
}

// Execute implements Primitive.
func (in *Insert) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	generated := in.InsertID >= 0 && !bv.Value(in.InsertID).IsNull()
	if len(in.Keys) == 1 && !in.Rewritten && !generated { // one row, as the client sent it
		i, err := in.shardOf(bv, 0)
		if err != nil {
			return err
		}
		s := c.Session()
		s.Stats.Route, s.Stats.Shards = "key", 1
		return c.Stream(ctx, in.Keyspace.targetsOf(bv, append(bv.shards[:0], i), ""), false, w)
	}
	byShard := make([][]int, in.Keyspace.Shards()) // rows per shard
	used := 0
	for row := range in.Keys {
		i, err := in.shardOf(bv, row)
		if err != nil {
			return err
		}
		if len(byShard[i]) == 0 {
			used++
		}
		byShard[i] = append(byShard[i], row)
	}
	s := c.Session()
	s.Stats.Route, s.Stats.Shards = "key", used
	if used == 1 && !in.Rewritten && !generated {
		for i, rows := range byShard {
			if len(rows) > 0 {
				return c.Stream(ctx, in.Keyspace.targetsOf(bv, []int{i}, ""), false, w)
			}
		}
	}
	var targets []Target
	for i, rows := range byShard {
		if len(rows) > 0 {
			targets = append(targets, Target{Cluster: in.Keyspace.Clusters[i], SQL: in.render(bv, s, rows)})
		}
	}
	results, err := c.Exec(ctx, targets)
	if err != nil {
		return err
	}
	total := Sum(results)
	if generated {
		id, _ := bv.Int(in.InsertID)
		total.InsertID = uint64(id)
	}
	return w.OK(total)
}

// shardOf returns the shard that row's key names.
func (in *Insert) shardOf(bv *Bind, row int) (int, error) {
	v := bv.Value(in.Keys[row])
	i, err := in.Keyspace.shard(in.Vindex, v)
	if err != nil {
		return 0, err
	}
	if i < 0 {
		return 0, sqlerr.New(sqlerr.ErrWrongArguments,
			"Incorrect arguments to INSERT: the key value %s of row %d cannot be a sharding key of %s; give every row a key of the key column's type",
			shortValue(v.String()), row+1, in.Table)
	}
	return i, nil
}

// shortValue cuts a value quoted in a message to a readable length.
func shortValue(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// render prints the statement for the given rows.
func (in *Insert) render(bv *Bind, s *Session, rows []int) string {
	b := make([]byte, 0, len(in.Prefix)+32*len(rows))
	b = append(b, in.Prefix...)
	for k, r := range rows {
		if k > 0 {
			b = append(b, ", "...)
		}
		b = in.Rows[r].Render(b, bv, s, nil)
	}
	if in.Suffix != nil {
		b = in.Suffix.Render(b, bv, s, nil)
	}
	return string(b)
}

// Inputs implements Primitive.
func (in *Insert) Inputs() []Primitive { return nil }

// String implements Primitive.
func (in *Insert) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Insert %s keys %v: %s", in.Table, in.Keys, in.Prefix)
	for i, r := range in.Rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.String())
	}
	if in.Suffix != nil {
		b.WriteString(in.Suffix.String())
	}
	return b.String()
}
