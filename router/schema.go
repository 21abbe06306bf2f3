package router

import (
	"fmt"
	"strings"

	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
)

// TableKind is how a logical table is laid out.
type TableKind uint8

// Table kinds.
const (
	// Unsharded tables live whole on the default cluster.
	Unsharded TableKind = iota
	// Sharded tables are split across the shards by a key column.
	Sharded
	// Reference tables are small and copied to every shard: reads go to
	// any shard, writes to all of them.
	Reference
)

// Table is a logical table of a sharded keyspace.
type Table struct {
	Name    string // lower case
	Kind    TableKind
	Key     string // sharded: the key column, lower case
	KeyType vindex.KeyType
	Func    vindex.Func
	// Sequence is the table INSERTs without a key take one from ("": none).
	Sequence string
	// Indexes are the table's global indexes (sharded tables only).
	Indexes []GlobalIndex
	// IndexOf is set on an index table: the index it holds. NewSchema
	// registers index tables itself; callers leave this nil.
	IndexOf *GlobalIndex
}

// Index returns the table's global index on column, or nil.
func (t *Table) Index(column string) *GlobalIndex {
	column = strings.ToLower(column)
	for i := range t.Indexes {
		if t.Indexes[i].Column == column {
			return &t.Indexes[i]
		}
	}
	return nil
}

// group names the tables whose rows with equal keys share a shard: same
// function, same key type.
func (t *Table) group() string {
	return fmt.Sprintf("%s/%d", t.Func.Name(), t.KeyType)
}

// Schema is the layout planning works from: logical tables and the shards.
// It is immutable once built and shared by every session.
type Schema struct {
	tables map[string]*Table
	Topo   *topo.Topology
}

// NewSchema builds a schema; tables not listed are unsharded. The index
// table of every global index is registered too (see GlobalIndex).
func NewSchema(tables []Table, t *topo.Topology) (*Schema, error) {
	s := &Schema{tables: make(map[string]*Table, len(tables)), Topo: t}
	for i := range tables {
		tb := tables[i]
		tb.Name, tb.Key = strings.ToLower(tb.Name), strings.ToLower(tb.Key)
		if tb.Kind == Sharded && (tb.Key == "" || tb.Func == nil) {
			return nil, fmt.Errorf("table %s: a sharded table needs a key column and a sharding function", tb.Name)
		}
		if tb.IndexOf != nil {
			return nil, fmt.Errorf("table %s: index tables are registered from their source table's Indexes", tb.Name)
		}
		if _, dup := s.tables[tb.Name]; dup {
			return nil, fmt.Errorf("table %s listed twice", tb.Name)
		}
		s.tables[tb.Name] = &tb
	}
	// Index tables second, so a clash with any listed table is seen
	// whatever the order.
	for i := range tables {
		if err := s.addIndexes(s.tables[strings.ToLower(tables[i].Name)]); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// IndexTable returns the layout of ix's index table: sharded by ix.Column
// with the hash function, or unsharded.
func (s *Schema) IndexTable(ix *GlobalIndex) *Table { return s.Table(ix.Table) }

// Table returns the layout of a logical table (unsharded when unlisted).
func (s *Schema) Table(name string) *Table {
	if t := s.tables[strings.ToLower(name)]; t != nil {
		return t
	}
	return &Table{Name: strings.ToLower(name), Kind: Unsharded}
}
