package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/courier-proxy/courier/sqlerr"
)

// IndexWrite writes global index entries before the statement that needs
// them runs (an INSERT of rows, an UPDATE of an indexed column), each
// batch on its index cluster's primary and committed at once, so a row
// the statement commits always finds its entry. If the statement then
// fails or is rolled back, the entries stay as orphans, which reads
// ignore and `courierctl index repair` removes. It writes nothing to the
// client.
type IndexWrite struct {
	Index *Index
	// Entries are (value slot, key slot) pairs; a NULL value has no entry.
	Entries [][2]int
	// Src is the indexed table (quoted, qualified like Index.Table), and
	// Keyspace and Vindex how its rows are sharded: a unique index checks
	// there whether a conflicting entry's row still has the value.
	Src      string
	Keyspace *Keyspace
	Vindex   Vindex
}

// entryBatch is the entries going to one index cluster.
type entryBatch struct {
	cluster int
	pairs   [][2]string // value and key literals
}

// Execute implements Primitive.
func (iw *IndexWrite) Execute(ctx context.Context, c Cursor, bv *Bind, _ ResultWriter) error {
	batches, err := iw.batches(bv)
	if err != nil {
		return err
	}
	for _, b := range batches {
		if iw.Index.Unique {
			err = iw.writeUnique(ctx, c, b)
		} else {
			err = iw.writeMany(ctx, c, b)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// batches groups the entries by index cluster.
func (iw *IndexWrite) batches(bv *Bind) ([]entryBatch, error) {
	ix := iw.Index
	var out []entryBatch
	for _, e := range iw.Entries {
		v, k := bv.Value(e[0]), bv.Value(e[1])
		if v.IsNull() {
			continue
		}
		lit, ok := IndexLiteral(ix.ValueType, v)
		if !ok {
			return nil, sqlerr.NotSupported(fmt.Sprintf("a value of indexed column %s that is not exactly of the index's type (%s)",
				ix.Name, shortValue(v.String())), "give it a value of the column's type")
		}
		klit, ok := IndexLiteral(iw.Vindex.Type, k)
		if !ok {
			return nil, sqlerr.NotSupported(fmt.Sprintf("a %s value that is not exactly a key (%s)", ix.Key, shortValue(k.String())), "")
		}
		cl, err := ix.cluster(v)
		if err != nil {
			return nil, err
		}
		if cl < 0 {
			return nil, sqlerr.NotSupported(fmt.Sprintf("indexed column %s value %s, which cannot be placed on an index shard", ix.Name, shortValue(lit)), "")
		}
		at := slices.IndexFunc(out, func(b entryBatch) bool { return b.cluster == cl })
		if at < 0 {
			out = append(out, entryBatch{cluster: cl})
			at = len(out) - 1
		}
		out[at].pairs = append(out[at].pairs, [2]string{lit, klit})
	}
	return out, nil
}

// writeMany writes the entries of a non-unique index in one statement,
// keeping those already there.
func (iw *IndexWrite) writeMany(ctx context.Context, c Cursor, b entryBatch) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "INSERT IGNORE INTO %s (%s, %s) VALUES ", iw.Index.Table, QuoteName(iw.Index.Column), QuoteName(iw.Index.Key))
	for i, p := range b.pairs {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "(%s, %s)", p[0], p[1])
	}
	_, err := c.Internal(ctx, b.cluster, sb.String())
	return err
}

// writeUnique writes a unique index's entries one by one. A value that
// already has an entry for another key is a duplicate (error 1062) when
// that key's row still has the value; otherwise the entry is an orphan
// and is taken over.
func (iw *IndexWrite) writeUnique(ctx context.Context, c Cursor, b entryBatch) error {
	ix := iw.Index
	col, key := QuoteName(ix.Column), QuoteName(ix.Key)
	for _, p := range b.pairs {
		v, k := p[0], p[1]
		_, err := c.Internal(ctx, b.cluster, fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (%s, %s)", ix.Table, col, key, v, k))
		if err == nil {
			continue
		}
		if se, ok := sqlerr.From(err); !ok || se.Num != sqlerr.ErrDupEntry {
			return err
		}
		rows, err := c.Internal(ctx, b.cluster, fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s", key, ix.Table, col, v))
		if err != nil {
			return err
		}
		if len(rows) == 0 || rows[0][0] == nil {
			return sqlerr.New(sqlerr.ErrUnknown, "global index %s: the entry for %s vanished while it was being written; retry", ix.Name, shortValue(v))
		}
		old := string(rows[0][0])
		if old == strings.Trim(k, "'") {
			continue // this row's own entry
		}
		exists, err := iw.rowHas(ctx, c, old, v)
		if err != nil {
			return err
		}
		if exists {
			return sqlerr.New(sqlerr.ErrDupEntry, "Duplicate entry '%s' for key '%s'", shortValue(strings.Trim(v, "'")), ix.Column)
		}
		if _, err := c.Internal(ctx, b.cluster, fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s = %s AND %s = %s",
			ix.Table, key, k, col, v, key, string(AppendString(nil, []byte(old), nil)))); err != nil {
			return err
		}
	}
	return nil
}

// rowHas reports whether the source row with key still has value v in
// the indexed column.
func (iw *IndexWrite) rowHas(ctx context.Context, c Cursor, key, v string) (bool, error) {
	i, err := iw.Keyspace.shard(iw.Vindex, keyValue(iw.Vindex.Type, []byte(key)))
	if err != nil || i < 0 {
		return false, err
	}
	rows, err := c.Internal(ctx, iw.Keyspace.Clusters[i], fmt.Sprintf("SELECT 1 FROM %s WHERE %s = %s AND %s = %s",
		iw.Src, QuoteName(iw.Index.Key), string(AppendString(nil, []byte(key), nil)), QuoteName(iw.Index.Column), v))
	if err != nil {
		return false, err
	}
	return len(rows) > 0, nil
}

// Inputs implements Primitive.
func (iw *IndexWrite) Inputs() []Primitive { return nil }

// String implements Primitive.
func (iw *IndexWrite) String() string {
	return fmt.Sprintf("IndexWrite %s entries %v", iw.Index.Name, iw.Entries)
}
